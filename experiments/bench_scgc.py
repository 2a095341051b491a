#!/usr/bin/env python
"""Benchmark graphcl's SCGC* against a dense N×N implementation of the reference training.

    python experiments/bench_scgc.py                       # usps, 2000, 20000 (about 25 min)
    python experiments/bench_scgc.py --sizes usps --epochs 200

The **dense baseline** re-implements the reference code's computation (gayanku/SCGC
``train_scgc_trim``, as scgc_pamc.md §4-§5 describes it): the normalised adjacency is
densified and its powers are taken as dense ``N × N`` matmuls (``prepare``); every epoch runs a
first forward pass (not under ``no_grad``) for the target distribution, a second forward
pass for the loss, the dense cosine matrix with a dense identity mask, and the dense
``Ncontrast`` loss. Per-epoch evaluation is left out of both sides.

**Ours** is :class:`graphcl.models.SCGCStar`: sparse influence matrix, one forward pass, the
exact blockwise all-pairs loss.

Both start from the same randomly initialised encoder (pretraining is not timed; the
reference loads a pretrained file) and run the same number of epochs with the same
hyperparameters (USPS SCGC*: alpha 4, beta 0.1, order 4, influence, tau 0.25 = temperature 4,
lr 1e-3). Sizes: real USPS, and USPS-shaped synthetic graphs (d = 256, K = 10, heat-kernel
kNN k = 3) with 2 000 and 20 000 nodes; the dense run at 20 000 does ``--large-dense-epochs``
epochs only (its per-epoch time is what is compared). Each implementation and size runs in
its own subprocess, so peak resident memory (``VmHWM``) belongs to that run alone. Take
the figures with nothing else running on the machine.

**Allocator.** glibc hands every freed block above its mmap threshold back to the kernel, so
each new ``N × N`` temporary of the dense baseline is page-faulted in and zeroed again (measured
here: ``exp`` of a 9 298² matrix takes 0.15 s into a fresh tensor, 0.07 s into a reused one).
``--allocator reuse`` sets ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` in the
workers' environment so freed memory is reused — faster, but the process keeps its peak heap
resident, so peak RSS grows (measured: dense USPS 2.17 s/epoch and 9.6 GB with reuse, 6.3 s and
3.8 GB without). ``--allocator both`` (the default) runs each implementation both ways; ratios
compare the two under the same allocator; the JSON records each run's allocator.

**Calibration.** A ``calibrate`` worker measures this machine's float32 GEMM rate and streaming
bandwidth, and from them the least time the dense preparation (``order − 1`` dense ``N × N``
matmuls) can take here; the JSON and the markdown show it beside the reference's figures.
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

HYPER = dict(alpha=4.0, beta=0.1, order=4, temperature=4.0, lr=1e-3)
# glibc: keep freed blocks in the heap instead of unmapping them (see "Allocator" above).
REUSE_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**40), "MALLOC_TRIM_THRESHOLD_": str(2**40)}


def make_graph(size: str, seed: int = 0):
    """Real USPS, or a USPS-shaped synthetic graph: K=10 Gaussian classes in d=256, heat-kernel kNN (k=3)."""
    import torch
    from torch_geometric.data import Data

    from graphcl.data import knn_graph_from_features, load_dataset

    if size == "usps":
        return load_dataset("usps")
    n = int(size)
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    centres = torch.rand(10, 256, generator=g) * 2.0  # USPS features lie in [0, 2]
    x = (centres[y] + 0.6 * torch.randn(n, 256, generator=g)).clamp(0.0, 2.0)
    edge_index = knn_graph_from_features(x, k=3, metric="heat", symmetrize=True)
    return Data(x=x, edge_index=edge_index, y=y, num_classes=10)


def peak_rss_mb() -> float:
    from graphcl.experiment import peak_rss_mb as vm_hwm

    return vm_hwm()  # VmHWM: ru_maxrss would include the parent's peak (inherited through fork/exec)


def run_dense(data, epochs: int, seed: int) -> dict:
    """The reference's dense computation, step for step (no per-epoch evaluation)."""
    import torch
    import torch.nn.functional as F

    from graphcl.cluster import kmeans
    from graphcl.nn import MLPEncoder

    n = data.num_nodes
    x = data.x.float()
    t0 = time.perf_counter()
    # load_graph: A = max(A, A^T) + I, row-normalised, then densified; get_A_r_flex: dense powers.
    adj = torch.zeros(n, n)
    adj[data.edge_index[0], data.edge_index[1]] = 1.0
    adj = torch.maximum(adj, adj.t()) + torch.eye(n)
    adj = adj / adj.sum(1, keepdim=True)
    adj_c = adj
    adj_label = adj
    for _ in range(HYPER["order"] - 1):
        adj_c = adj_c @ adj
        adj_label = adj_label + adj_c  # cumulative ("influence")
    del adj_c, adj
    prepare = time.perf_counter() - t0

    torch.manual_seed(seed)
    enc = MLPEncoder(x.size(1))
    t0 = time.perf_counter()
    with torch.no_grad():
        z = enc(x)
    centres, _ = kmeans(z, 10, random_state=seed)
    mu = torch.nn.Parameter(centres.clone())
    opt = torch.optim.Adam(list(enc.parameters()) + [mu], lr=HYPER["lr"])
    tau = 1.0 / HYPER["temperature"]

    def soft_assign(z):
        q = 1.0 / (1.0 + torch.sum(torch.pow(z.unsqueeze(1) - mu, 2), 2))
        return (q.t() / torch.sum(q, 1)).t()

    epoch_seconds = []
    for _ in range(epochs):
        te = time.perf_counter()
        tmp_q = soft_assign(enc(x)).data  # forward #1, not under no_grad (as the reference)
        weight = tmp_q**2 / tmp_q.sum(0)
        p = (weight.t() / weight.sum(1)).t()
        z = enc(x)  # forward #2
        q = soft_assign(z)
        kl = F.kl_div(q.log(), p, reduction="batchmean")
        x_dis = z @ z.T  # get_feature_dis
        mask = torch.eye(n)
        x_sum = torch.sqrt(torch.sum(z**2, 1)).reshape(-1, 1)
        x_dis = x_dis * ((x_sum @ x_sum.T) ** (-1))
        x_dis = (1 - mask) * x_dis
        x_dis = torch.exp(tau * x_dis)  # Ncontrast
        nc = -torch.log(torch.sum(x_dis * adj_label, 1) * (torch.sum(x_dis, 1) ** (-1)) + 1e-8).mean()
        loss = HYPER["beta"] * kl + HYPER["alpha"] * nc
        opt.zero_grad()
        loss.backward()
        opt.step()
        epoch_seconds.append(time.perf_counter() - te)
    train = time.perf_counter() - t0
    return {"prepare_seconds": prepare, "train_seconds": train, "epoch_seconds": epoch_seconds,
            "final_loss": float(loss)}


def run_ours(data, epochs: int, seed: int) -> dict:
    from graphcl.models import SCGCStar

    model = SCGCStar(10, epochs=epochs, random_state=seed, pretrain_epochs=0, cache=False, **HYPER)
    model.fit(data.x, data.edge_index)
    t = model.timings_
    return {"prepare_seconds": t["prepare_seconds"], "train_seconds": t["train_seconds"],
            "epoch_seconds": t["epoch_seconds"], "final_loss": model.loss_history_[-1]["loss"]}


def calibrate(n_usps: int = 9298) -> dict:
    """This machine's float32 GEMM rate and streaming bandwidth, and the dense preparation they imply."""
    import torch

    def best_of(fn, reps=3):
        fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    m = 4096
    a, b = torch.rand(m, m), torch.rand(m, m)
    gflops = 2 * m**3 / best_of(lambda: a @ b) / 1e9
    big = torch.rand(n_usps, n_usps)
    out = torch.empty_like(big)
    gbs = 2 * big.numel() * 4 / best_of(lambda: torch.mul(big, 2.0, out=out)) / 1e9
    matmuls = HYPER["order"] - 1
    return {"gemm_gflops": gflops, "stream_gb_per_s": gbs, "usps_dense_prepare_matmuls": matmuls,
            "usps_dense_prepare_seconds_at_measured_gemm_rate": matmuls * 2 * n_usps**3 / (gflops * 1e9),
            "reference_prepare_implied_gflops": matmuls * 2 * n_usps**3 / 16.0 / 1e9}


def worker(impl: str, size: str, epochs: int, seed: int) -> dict:
    import torch

    if impl == "calibrate":
        return calibrate()

    data = make_graph(size, seed)
    rss_before = peak_rss_mb()
    res = (run_dense if impl == "dense" else run_ours)(data, epochs, seed)
    eps = res.pop("epoch_seconds")
    steady = eps[1:] if len(eps) > 1 else eps
    res.update(
        impl=impl, size=size, num_nodes=int(data.num_nodes), num_edges=int(data.edge_index.size(1)), epochs=epochs,
        epoch_seconds_mean=sum(steady) / len(steady), epoch_seconds_first=eps[0],
        peak_memory_mb=peak_rss_mb(), peak_memory_mb_after_data=rss_before, threads=torch.get_num_threads(),
    )
    return res


def plan(args) -> list:
    """``(impl, size, allocator, epochs)`` of every run. Under ``--allocator both`` each
    implementation runs with glibc's default allocator and with heap reuse at the sizes where
    the retained heap fits this machine (not at >= 20 000 nodes, where the dense baseline's
    heap would exceed 24 GB); the dense default-allocator run at USPS is a short memory and
    per-epoch run (``--memory-run-epochs``), the 200-epoch dense timing uses heap reuse."""
    out = []
    for size in args.sizes:
        large = size != "usps" and int(size) >= 20000
        for impl in args.impls:
            allocs = ["reuse", "default"] if args.allocator == "both" else [args.allocator]
            if large:
                allocs = ["default"]
            for alloc in allocs:
                epochs = args.epochs
                if impl == "dense" and large:
                    epochs = min(epochs, args.large_dense_epochs)
                elif impl == "dense" and alloc == "default" and args.allocator == "both":
                    epochs = min(epochs, args.memory_run_epochs)
                out.append((impl, size, alloc, epochs))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", default=["usps", "2000", "20000"])
    p.add_argument("--impls", nargs="+", default=["dense", "ours"], choices=["dense", "ours"])
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--large-dense-epochs", type=int, default=3, help="epochs of the dense run at >= 20 000 nodes")
    p.add_argument("--memory-run-epochs", type=int, default=10,
                   help="epochs of the dense default-allocator run under --allocator both")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--allocator", choices=["both", "reuse", "default"], default="both",
                   help="glibc settings of the workers (see the module docstring)")
    p.add_argument("--force", action="store_true", help="rerun runs already in --out")
    p.add_argument("--out", default=str(HERE / "results" / "bench" / "bench_scgc.json"))
    p.add_argument("--markdown", default=str(HERE.parent / "docs" / "bench_scgc.md"),
                   help="also write the tables here (generated from the same JSON)")
    p.add_argument("--allow-dirty", action="store_true",
                   help="write into experiments/results/ even with uncommitted changes to graphcl/ or experiments/ "
                        "(recorded as allow_dirty and a -dirty commit); refused otherwise")
    p.add_argument("--worker", nargs=2, metavar=("IMPL", "SIZE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.epochs, args.seed)))
        return 0

    from graphcl.experiment import now_iso, refuse_dirty_results

    args.dirty = refuse_dirty_results(args.out, args.allow_dirty)  # before any work
    out_path = Path(args.out)
    previous = json.loads(out_path.read_text()) if out_path.is_file() and not args.force else {}
    runs = [{"allocator": previous.get("allocator", "default"), **r} for r in previous.get("runs", []) if "error" not in r]
    started = previous.get("started_at") or now_iso()
    load_at_start = previous.get("load_average_at_start") or os.getloadavg()
    envs = {"reuse": {**os.environ, **REUSE_ENV}, "default": dict(os.environ)}
    calib = json.loads(subprocess.run([sys.executable, __file__, "--worker", "calibrate", "-"], env=envs["default"],
                                      capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    args.calibration = calib
    print(f"calibration: GEMM {calib['gemm_gflops']:.0f} GFLOP/s, stream {calib['stream_gb_per_s']:.1f} GB/s, "
          f"dense USPS preparation >= {calib['usps_dense_prepare_seconds_at_measured_gemm_rate']:.1f} s here", flush=True)
    for impl, size, alloc, epochs in plan(args):
        if any((r["impl"], r["size"], r["allocator"], r["epochs"]) == (impl, size, alloc, epochs) for r in runs):
            continue  # already measured (rerun with --force)
        cmd = [sys.executable, __file__, "--worker", impl, size, "--epochs", str(epochs), "--seed", str(args.seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=envs[alloc])
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            print(f"{impl:5s} {size:>6s} ({alloc}): FAILED (exit {proc.returncode})", flush=True)
            continue
        # the machine's GEMM rate drifts between invocations (100-186 GFLOP/s seen in one
        # session), so each run keeps the calibration it was taken under
        res = {**json.loads(proc.stdout.strip().splitlines()[-1]), "allocator": alloc,
               "load_average_at_end": os.getloadavg(), "calibration_gemm_gflops": calib["gemm_gflops"]}
        runs.append(res)
        summarize_and_write(args, runs, started, load_at_start, final=False)  # keep what has landed
        print(f"{impl:5s} {size:>6s} ({alloc}): N={res['num_nodes']} prepare {res['prepare_seconds']:.2f}s  "
              f"epoch {res['epoch_seconds_mean']:.3f}s  train({epochs} ep) {res['train_seconds']:.1f}s  "
              f"peak RSS {res['peak_memory_mb']:.0f} MB", flush=True)
    summarize_and_write(args, runs, started, load_at_start, final=True)
    print(f"written to {args.out} and {args.markdown}")
    return 0


def summarize_and_write(args, runs, started, load_at_start, final: bool) -> dict:
    """Ratios per size and allocator (both implementations under the same glibc settings)."""
    from graphcl.experiment import environment, git_commit

    comparisons = {}
    for size in args.sizes:
        for alloc in ("reuse", "default"):
            d = next((r for r in runs if (r["impl"], r["size"], r["allocator"]) == ("dense", size, alloc)), None)
            o = next((r for r in runs if (r["impl"], r["size"], r["allocator"]) == ("ours", size, alloc)), None)
            if not (d and o):
                continue
            c = comparisons[f"{size} ({alloc})"] = {
                "size": size, "allocator": alloc,
                "epoch_speedup": d["epoch_seconds_mean"] / o["epoch_seconds_mean"],
                "train_speedup_measured": d["train_seconds"] / o["train_seconds"] if d["epochs"] == o["epochs"] else None,
                "prepare_speedup": d["prepare_seconds"] / max(o["prepare_seconds"], 1e-9),
                "peak_memory_ratio": d["peak_memory_mb"] / o["peak_memory_mb"],
            }
            if final:
                print(f"{size} ({alloc}): epoch {c['epoch_speedup']:.2f}x faster, prepare {c['prepare_speedup']:.1f}x, "
                      f"peak memory {c['peak_memory_ratio']:.2f}x lower", flush=True)
    out = {"benchmark": "bench_scgc", "complete": final, "command": " ".join([Path(sys.executable).name, *sys.argv]),
           "git_commit": git_commit(dirty=True if getattr(args, "dirty", False) else None),
           **({"allow_dirty": True} if getattr(args, "dirty", False) else {}), "started_at": started, "hyperparameters": HYPER, "epochs": args.epochs,
           "allocator": args.allocator, "allocator_reuse_env": REUSE_ENV,
           "calibration": getattr(args, "calibration", None), "runs": runs, "comparisons": comparisons,
           "environment": environment("cpu"),
           "load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg(),
           "reference_measured_here": {"usps": {"epoch_seconds": 2.51, "peak_memory_mb": 3.95 * 1024,
                                                "prepare_seconds": 16.0, "source": "issue #2 (the reference code on the 2-core machine of that time)"}}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(args.out).with_name(Path(args.out).name + ".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    os.replace(tmp, args.out)
    Path(args.markdown).write_text(to_markdown(out))
    return out


def to_markdown(res: dict) -> str:
    """The benchmark tables, generated from the benchmark JSON."""
    env = res["environment"]
    lines = [
        "# SCGC* benchmark: graphcl vs a dense N×N implementation of the reference",
        "",
        f"Generated by `{res['command']}` (commit `{res['git_commit'][:12]}`, {res['started_at']}); do not edit.",
        f"Machine: {env.get('cpu_count')} CPUs, torch {env['torch']}, {env['threads']} threads, "
        f"scatter back-end {env.get('scatter_backend')}. Load average (1/5/15 min) at start "
        f"{'/'.join(f'{v:.2f}' for v in res['load_average_at_start'])}, at end "
        f"{'/'.join(f'{v:.2f}' for v in res['load_average_at_end'])} (each run is its own process; figures "
        "are only comparable when nothing else ran).",
        "",
    ]
    if not res.get("complete", True):
        lines += ["**Incomplete run**: the benchmark was stopped before every size finished; the "
                  "missing sizes were not measured.", ""]
    lines += [
        "| graph | N | impl | allocator | prepare (s) | epoch (s) | epochs run | train (s) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["runs"]:
        if "error" in r:
            lines.append(f"| {r['size']} | – | {r['impl']} | | failed: {r['error']} | | | | |")
            continue
        lines.append(f"| {r['size']} | {r['num_nodes']} | {r['impl']} | {r.get('allocator', '')} | {r['prepare_seconds']:.2f} | "
                     f"{r['epoch_seconds_mean']:.3f} | {r['epochs']} | {r['train_seconds']:.1f} | {r['peak_memory_mb']:.0f} |")
    lines += ["", "| graph (allocator) | epoch speed-up | train speed-up (equal epochs) | prepare speed-up | peak-memory ratio (dense / ours) |",
              "|---|---|---|---|---|"]
    for key, c in res["comparisons"].items():
        train = "–" if c.get("train_speedup_measured") is None else f"{c['train_speedup_measured']:.2f}×"
        lines.append(f"| {key} | {c['epoch_speedup']:.2f}× | {train} | {c['prepare_speedup']:.1f}× | {c['peak_memory_ratio']:.2f}× |")
    ref = res.get("reference_measured_here", {}).get("usps")
    if ref:
        lines += ["", f"Reference code on USPS, measured in issue #2 on the 2-core machine of that time (not necessarily "
                  f"this run's: compare it through the calibration below, not directly): {ref['epoch_seconds']} s per epoch, "
                  f"{ref['peak_memory_mb'] / 1024:.2f} GB peak resident memory, about {ref['prepare_seconds']:.0f} s of preparation."]
    cal = res.get("calibration")
    if cal:
        lines += ["", f"Calibration of this run's machine: float32 GEMM {cal['gemm_gflops']:.0f} GFLOP/s, streaming "
                  f"{cal['stream_gb_per_s']:.1f} GB/s. The dense preparation is {cal['usps_dense_prepare_matmuls']} dense "
                  f"9298² matmuls, so it needs at least {cal['usps_dense_prepare_seconds_at_measured_gemm_rate']:.0f} s "
                  f"here; the reference's 16 s would need {cal['reference_prepare_implied_gflops']:.0f} GFLOP/s."]
    lines += ["", "Allocator `reuse` sets " + " ".join(f"`{k}={v}`" for k, v in res.get("allocator_reuse_env", {}).items())
              + " (glibc keeps freed blocks instead of unmapping them); `default` leaves glibc as is. Each ratio "
              "compares the two implementations under the same allocator."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
