#!/usr/bin/env python
"""Per-step communication (and time) of data-parallel PamC and exact SCGC* on 2 ranks.

    python experiments/bench_distributed.py                      # 10^4 and 10^5 nodes
    python experiments/bench_distributed.py --sizes 10000 --methods pamc

The graph and model are :mod:`bench_scaling`'s (planted partition, K = 10, 128 features,
encoder 128→256→256→16, W = Â, random initialisation). For each size and method the script
launches ``--ranks`` CPU processes (gloo, localhost, one thread each) the way ``torchrun``
does; each keeps its shard (:func:`graphcl.distributed.shard_graph`), wraps the network in
DDP and runs ``--steps`` full-graph steps (:func:`graphcl.distributed.sharded_step`), each
inside :func:`graphcl.distributed.count_communication`. The counts are the payload each rank
hands to a collective, by label:

* ``ddp_gradients`` — DDP's gradient buckets (a communication hook counts them): 4 bytes per
  parameter, independent of N;
* ``meta_nodes`` / ``meta_nodes.backward`` — PamC's ``[K, d + 1]`` meta-node sums and masses
  and their gradient: 4·K·(d+1) bytes each, independent of N;
* ``embeddings`` / ``embeddings.backward`` — exact SCGC*'s all-gather of the L2-normalised
  embeddings (the largest shard's 4·d bytes per node, padded) and the all-reduce of their
  ``[N, d]`` gradient: linear in N;
* ``cluster_frequencies`` (4K), ``positive_count`` (4), ``loss_terms`` (12).

Results: ``experiments/results/bench/bench_distributed.json`` and ``docs/bench_distributed.md``.
Exact SCGC* at 10^5 nodes runs ``--exact-large-steps`` steps (one step is about a minute here).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_scaling  # noqa: E402  (graph and model settings)


def worker(method: str, graph: str, steps: int) -> None:
    import torch

    from graphcl.cluster import StudentTAssignment, kmeans_centers
    from graphcl.data import load_graph
    from graphcl.distributed import count_communication, init_from_env, shard_graph, sharded_step, shutdown, wrap_ddp
    from graphcl.distributed.training import ShardNet
    from graphcl.experiment import peak_rss_mb
    from graphcl.models import PamC, SCGCStar

    torch.set_num_threads(1)
    ctx = init_from_env("gloo")
    data = load_graph(graph)
    n = data.num_nodes
    cls = PamC if method == "pamc" else SCGCStar
    est = cls(n_clusters=bench_scaling.K, hidden_channels=bench_scaling.HIDDEN, embedding_dim=bench_scaling.EMBEDDING,
              pretrain_epochs=0, cache=False, random_state=0, kmeans_n_init=1, **bench_scaling.HYPER)
    x = data.x.float()
    t0 = time.perf_counter()
    w_index, w_value = est.positive_weights(data.edge_index, None, n)
    shard = shard_graph(x, w_index, w_value, ctx.rank, ctx.world_size)
    del w_index, w_value
    prepare = time.perf_counter() - t0
    torch.manual_seed(0)
    encoder, decoder = est.build_network(x[:2], ctx.device, pretrain=False)
    assign = StudentTAssignment(est.n_clusters, est.embedding_dim)
    if ctx.is_main:
        with torch.no_grad():
            assign.set_centers(kmeans_centers(encoder(shard.x[: shard.num_owned]), est.n_clusters, 0, 1))
    del x, data
    net = wrap_ddp(ShardNet(encoder, assign, decoder), ctx)
    opt = torch.optim.Adam(net.parameters(), lr=est.lr)
    contrast = est.contrastive_loss()
    per_step = []
    for _ in range(steps):
        ts = time.perf_counter()
        with count_communication() as log:
            sharded_step(est, net, shard, contrast, opt, ctx)
        per_step.append({"seconds": time.perf_counter() - ts, "bytes": dict(log.bytes)})
    if ctx.is_main:
        print(json.dumps({
            "method": method, "num_nodes": n, "ranks": ctx.world_size, "K": est.n_clusters, "d": est.embedding_dim,
            "parameters": sum(p.numel() for p in net.parameters()), "owned": shard.num_owned,
            "halo": int(shard.halo.numel()), "shard_pairs": int(shard.w_value.numel()), "cross_pairs": shard.cross_pairs,
            "shard_mb": shard.nbytes() / 2**20, "prepare_seconds": prepare, "steps": per_step,
            "peak_rss_mb_rank0": peak_rss_mb(), "load_average": os.getloadavg()[0]}))
    shutdown()


def launch(method: str, graph: Path, steps: int, ranks: int) -> dict:
    sys.path.insert(0, str(HERE.parent / "tests" / "distributed"))
    from launch import free_port

    port = free_port()
    procs = []
    for rank in range(ranks):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(ranks), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker", method, str(graph), str(steps)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate() for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit("error: a rank failed:\n" + "\n".join(err[-3000:] for _, err in outs))
    return json.loads(outs[0][0].strip().splitlines()[-1])


def to_markdown(res: dict) -> str:
    lines = ["# Distributed training: communication per step", "",
             "Generated by `experiments/bench_distributed.py` from `experiments/results/bench/bench_distributed.json`; "
             f"{res['ranks']} CPU ranks (gloo, localhost, one thread each) on a 2-core machine. Bytes are what one rank "
             "hands to the collectives in one full-graph step (the last measured step); the backend's wire traffic is "
             "about twice that for a ring all-reduce. Step times are only comparable when the load average (in brackets) "
             "is below about 2.", "",
             "| method | N | DDP gradients | meta-nodes fwd + bwd | 4·K·(d+1) | embeddings fwd + bwd | other | total | s / step (load) | halo / owned |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["runs"]:
        b = r["steps"][-1]["bytes"]
        meta = b.get("meta_nodes", 0), b.get("meta_nodes.backward", 0)
        emb = b.get("embeddings", 0), b.get("embeddings.backward", 0)
        other = sum(v for k, v in b.items() if k not in ("ddp_gradients", "meta_nodes", "meta_nodes.backward",
                                                          "embeddings", "embeddings.backward"))
        total = sum(b.values())
        secs = sum(s["seconds"] for s in r["steps"]) / len(r["steps"])
        lines.append(f"| {r['method']} | {r['num_nodes']:,} | {b.get('ddp_gradients', 0):,} | {meta[0]:,} + {meta[1]:,} | "
                     f"{4 * r['K'] * (r['d'] + 1) if r['method'] == 'pamc' else '–'} | {emb[0]:,} + {emb[1]:,} | {other:,} | "
                     f"{total:,} | {secs:.3f} ({r['load_average']:.1f}) | {r['halo']:,} / {r['owned']:,} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--methods", nargs="+", choices=("pamc", "scgc_star"), default=["pamc", "scgc_star"])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--exact-large-steps", type=int, default=1)
    p.add_argument("--graph-dir", default=None)
    p.add_argument("--out", default=str(HERE / "results" / "bench" / "bench_distributed.json"))
    p.add_argument("--markdown", default=str(HERE.parent / "docs" / "bench_distributed.md"))
    p.add_argument("--allow-dirty", action="store_true",
                   help="write into experiments/results/ even with uncommitted changes to graphcl/ or experiments/ "
                        "(recorded as allow_dirty and a -dirty commit); refused otherwise")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return 0
    from graphcl.experiment import environment, git_commit, now_iso, refuse_dirty_results
    from graphcl.nn import cache_dir

    dirty = refuse_dirty_results(args.out, args.allow_dirty)  # before any work

    graph_dir = Path(args.graph_dir) if args.graph_dir else cache_dir() / "graphs"
    res = {"benchmark": "bench_distributed", "method": "bench_distributed", "dataset": "planted_partition",
           "started_at": now_iso(), "git_commit": git_commit(dirty=True if dirty else None),
           **({"allow_dirty": True} if dirty else {}), "command": " ".join([Path(sys.executable).name, *sys.argv]),
           "ranks": args.ranks, "environment": environment("cpu"), "runs": [],
           "config": {"ranks": args.ranks, "steps": args.steps, "exact_large_steps": args.exact_large_steps,
                      "sizes": args.sizes, "methods": args.methods, "K": bench_scaling.K,
                      "hidden": list(bench_scaling.HIDDEN), "embedding": bench_scaling.EMBEDDING,
                      **bench_scaling.HYPER}}
    for n in args.sizes:
        bench_scaling.ensure_graph(graph_dir, n)
        for method in args.methods:
            steps = args.exact_large_steps if (method == "scgc_star" and n > 10_000) else args.steps
            t0 = time.perf_counter()
            run = launch(method, bench_scaling.graph_path(graph_dir, n), steps, args.ranks)
            run["wall_seconds"] = time.perf_counter() - t0
            res["runs"].append(run)
            b = run["steps"][-1]["bytes"]
            print(f"{method} N={n}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(b.items())), flush=True)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
            Path(args.markdown).write_text(to_markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
