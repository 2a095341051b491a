#!/usr/bin/env python
"""Scaling benchmark: PamC full-batch and mini-batch, exact SCGC*, k-means, from 10⁴ to 10⁶ nodes.

    python experiments/bench_scaling.py                          # 10^4, 10^5, 10^6 (hours on 2 cores)
    python experiments/bench_scaling.py --sizes 10000 --runs pamc_full kmeans

The graph (:func:`graphcl.data.planted_partition_graph`): K = 10 blocks, average degree 10,
80 % intra-block edges, 128 Gaussian features with class means ``N(0, I)`` and noise ``SIGMA``
(set once, without any model, so that k-means on the raw features scores ACC 0.30–0.45 at
10⁵ nodes; the JSON records what it scored). Graphs are generated once per size (the time is
recorded), saved with :func:`graphcl.data.save_graph` under ``--graph-dir`` and memory-mapped
back by each run. Every run is a fresh process, so its peak resident memory (``VmHWM``)
is its own.

Models: W = Â (order 1, row-normalised, self-loops), encoder 128→256→256→16 from a random
initialisation (no autoencoder pretraining: at 10⁶ nodes SDCN's 30 pretraining epochs would
dominate), the PamC ``default:`` hyperparameters of ``configs/pamc.yaml`` (α 2, β 2,
temperature 2, lr 1e-3), hard meta-nodes, and the estimators' default ``kl_warmup=None``,
which without pretraining trains the contrastive term alone for the first half of the epochs
and then restarts the centres by k-means (``docs/scgc.md``; each row records
``kl_warmup_epochs``, rows without it ran before the option: no warm-up). Runs (``--runs``):

* ``oracle_nearest_mean``: **not a method** (it reads the labels): each node goes to the nearest
  class mean of the raw features, the Bayes-optimal rule for these equal-size, isotropic
  Gaussian classes — for a rule fixed before it sees the nodes. It does **not** bound an
  encoder trained on these very nodes: 128 noisy dimensions let an MLP fit the graph's
  neighbourhoods node by node (transductively), and at 10⁴ nodes PamC trained on the
  contrastive term alone scored well above it (``docs/scgc.md``).
* ``kmeans``: scikit-learn k-means on the raw features (20 restarts).
* ``pamc_full``: full-batch PamC.
* ``pamc_mb<B>``: mini-batch PamC with ``B`` anchors per batch (global meta-node sums) and
  historical partner embeddings (the default ``partners="history"``: only the anchors are
  encoded); ``pamc_mb<B>_encode`` encodes every partner too (``partners="encode"``, the path
  before the default changed).
* ``pamc_reference_full``, ``pamc_reference_mb<B>_encode``: the same with the reference formula
  (:class:`graphcl.models.PamCReference`: meta-node negatives, no re-seeding), what ``pamc_*``
  ran before graphcl's defaults changed.
* ``scgc_star_exact``: exact SCGC* (all-pairs denominator in row blocks); at 10⁵ nodes only
  ``--exact-large-epochs`` epochs are timed (its 200 epochs would take hours here), at 10⁶ it
  is skipped.
* ``pamc_full_paper``: full-batch PamC with the paper's 500-500-2000 encoder, at 10⁴ only.

Epochs: 200 up to 10⁵ nodes, 50 at 10⁶ (``--large-epochs``); a ``_encode`` mini-batch epoch
also encodes every anchor's positive partners, so it costs about ``1 + avg degree`` times a
full-batch epoch, and at 10⁶ mini-batch runs do ``--large-minibatch-epochs`` epochs (the JSON
and the table say how many each run did; ACC is always that of its last epoch).

Results go to ``experiments/results/bench/bench_scaling.json`` after every run (finished runs
are kept and skipped when the script is run again, unless ``--force``), with a markdown table
in ``docs/bench_scaling.md`` and a log-log PNG of epoch time and peak memory against N (with
the ``plot`` extra installed). Take the figures with nothing else running.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

K, AVG_DEGREE, P_INTRA, FEATURES, GRAPH_SEED = 10, 10.0, 0.8, 128, 0
SIGMA = 10.0  # k-means ACC at 10^5 nodes (seed 0): sigma 7 -> 0.563, 9 -> 0.430, 10 -> 0.376 (in 0.30-0.45)
HIDDEN, EMBEDDING, PAPER_HIDDEN = (256, 256), 16, (500, 500, 2000)
HYPER = dict(order=1, alpha=2.0, beta=2.0, temperature=2.0, lr=1e-3)  # configs/pamc.yaml default block
BATCH_SIZES = (1024, 16384)
DEFAULT_RUNS = ["oracle_nearest_mean", "kmeans", "pamc_full", *[f"pamc_mb{b}" for b in BATCH_SIZES], "scgc_star_exact", "pamc_full_paper"]


def graph_path(graph_dir: Path, n: int) -> Path:
    return graph_dir / f"planted_n{n}_k{K}_deg{AVG_DEGREE:g}_p{P_INTRA:g}_d{FEATURES}_sigma{SIGMA:g}_seed{GRAPH_SEED}.pt"


def ensure_graph(graph_dir: Path, n: int) -> dict:
    """Generate and save the graph of size ``n`` unless it is on disk; returns timing facts."""
    from graphcl.data import planted_partition_graph, save_graph

    path = graph_path(graph_dir, n)
    if path.is_file():
        return {"path": str(path), "generated": False}
    t0 = time.perf_counter()
    data = planted_partition_graph(n, K, AVG_DEGREE, P_INTRA, FEATURES, SIGMA, seed=GRAPH_SEED)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    save_graph(data, path)
    return {"path": str(path), "generated": True, "generate_seconds": gen, "save_seconds": time.perf_counter() - t0,
            "num_edges": int(data.edge_index.size(1))}


def peak_rss_mb() -> float:
    from graphcl.experiment import peak_rss_mb as vm_hwm

    return vm_hwm()  # VmHWM: ru_maxrss would include the parent's peak (inherited through fork/exec)


PAMC_RUN = re.compile(r"(pamc|pamc_reference)_(full|full_paper|mb(\d+)(_encode)?)")


def parse_pamc_run(run: str):
    """``(estimator class name, batch size or None, partners, paper encoder)`` of a PamC run name,
    or ``None``: ``pamc_…`` is graphcl's default PamC, ``pamc_reference_…`` the reference formula;
    ``full``, ``full_paper`` (the 500-500-2000 encoder), ``mb<B>`` (historical partners) or
    ``mb<B>_encode``."""
    m = PAMC_RUN.fullmatch(run)
    if m is None:
        return None
    cls = "PamC" if m.group(1) == "pamc" else "PamCReference"
    batch = int(m.group(3)) if m.group(3) else None
    return cls, batch, "encode" if m.group(4) else "history", m.group(2) == "full_paper"


def is_minibatch(run: str) -> bool:
    pamc = parse_pamc_run(run)
    return pamc is not None and pamc[1] is not None


def epochs_for(run: str, n: int, args) -> int:
    if run == "scgc_star_exact" and n > 10_000:
        return args.exact_large_epochs
    if n >= 1_000_000:
        return args.large_minibatch_epochs if is_minibatch(run) else args.large_epochs
    if is_minibatch(run) and args.minibatch_epochs is not None:
        return args.minibatch_epochs
    return args.epochs


def applicable(run: str, n: int) -> bool:
    if run == "scgc_star_exact":
        return n <= 100_000
    pamc = parse_pamc_run(run)
    if pamc is not None and pamc[3]:  # the paper's encoder
        return n <= 10_000
    return True


def worker(run: str, path: str, epochs: int, seed: int) -> dict:
    import numpy as np
    import torch

    from graphcl.cluster import kmeans
    from graphcl.data import load_graph
    from graphcl.metrics import evaluate_clustering
    from graphcl.models import SCGCStar

    t0 = time.perf_counter()
    data = load_graph(path)
    load_seconds = time.perf_counter() - t0
    y = data.y.numpy()
    rss_after_load = peak_rss_mb()
    out = {"load_seconds": load_seconds, "threads": torch.get_num_threads()}
    if run == "oracle_nearest_mean":  # reads labels: a reference point, never a method
        t0 = time.perf_counter()
        means = torch.zeros(K, data.x.size(1)).index_add_(0, data.y, data.x) / torch.bincount(data.y, minlength=K).unsqueeze(1)
        pred = torch.cat([torch.cdist(xb, means).argmin(1) for xb in data.x.split(1 << 16)]).numpy()
        out.update(train_seconds=time.perf_counter() - t0, epochs=0)
    elif run == "kmeans":
        t0 = time.perf_counter()
        _, pred = kmeans(data.x, K, random_state=seed)
        out.update(train_seconds=time.perf_counter() - t0, epochs=0)
        pred = pred.numpy()
    else:
        common = dict(hidden_channels=HIDDEN, embedding_dim=EMBEDDING, pretrain_epochs=0, cache=False, epochs=epochs,
                      random_state=seed, **HYPER)
        pamc = parse_pamc_run(run)
        if pamc is not None:
            from graphcl import models

            cls, batch, partners, paper = pamc
            extra = {"hidden_channels": PAPER_HIDDEN} if paper else {}
            if batch is not None:
                extra.update(batch_size=batch, partners=partners)
            model = getattr(models, cls)(K, **{**common, **extra})
        elif run == "scgc_star_exact":
            model = SCGCStar(K, **{**common, "alpha": 1.0, "beta": 0.1, "temperature": 4.0})  # scgc.yaml default
        else:
            raise SystemExit(f"unknown run {run!r}")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # empty clusters are reported below
            model.fit(data.x, data.edge_index)
        pred = model.labels_
        t = model.timings_
        eps = t["epoch_seconds"]
        steady = eps[1:] if len(eps) > 1 else eps
        out.update(prepare_seconds=t["prepare_seconds"], train_seconds=t["train_seconds"], epochs=epochs,
                   epoch_seconds_mean=float(np.mean(steady)), epoch_seconds_first=eps[0] if eps else None,
                   final_loss=model.loss_history_[-1]["loss"] if model.loss_history_ else None,
                   kl_warmup_epochs=model._kl_warmup_epochs())
    scores = evaluate_clustering(y, pred)
    out.update(acc=scores["acc"], nmi=scores["nmi"], ari=scores["ari"], n_predicted_clusters=int(len(np.unique(pred))),
               peak_memory_mb=peak_rss_mb(), peak_memory_mb_after_load=rss_after_load)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--runs", nargs="+", default=DEFAULT_RUNS)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--large-epochs", type=int, default=50, help="full-batch epochs at >= 10^6 nodes")
    p.add_argument("--minibatch-epochs", type=int, default=None, help="mini-batch epochs below 10^6 nodes (default --epochs)")
    p.add_argument("--large-minibatch-epochs", type=int, default=5, help="mini-batch epochs at >= 10^6 nodes")
    p.add_argument("--exact-large-epochs", type=int, default=2, help="exact SCGC* epochs above 10^4 nodes (timing)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--graph-dir", default=None, help="where graphs are saved (default: <graphcl cache>/graphs)")
    p.add_argument("--out", default=str(HERE / "results" / "bench" / "bench_scaling.json"))
    p.add_argument("--markdown", default=str(HERE.parent / "docs" / "bench_scaling.md"))
    p.add_argument("--png", default=str(HERE.parent / "docs" / "bench_scaling.png"))
    p.add_argument("--force", action="store_true", help="rerun the named runs at the named sizes even if in --out")
    p.add_argument("--allow-dirty", action="store_true",
                   help="write into experiments/results/ even with uncommitted changes to graphcl/ or experiments/ "
                        "(recorded as allow_dirty and a -dirty commit); refused otherwise")
    p.add_argument("--worker", nargs=2, metavar=("RUN", "GRAPH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.epochs, args.seed)))
        return 0
    for run in args.runs:
        if run not in DEFAULT_RUNS and parse_pamc_run(run) is None:
            p.error(f"unknown run {run!r}; known: {', '.join(DEFAULT_RUNS)} (or pamc[_reference]_mb<B>[_encode], "
                    "pamc_reference_full)")

    from graphcl.experiment import environment, git_commit, now_iso, refuse_dirty_results

    dirty = refuse_dirty_results(args.out, args.allow_dirty)  # before any work
    commit = git_commit(dirty=True if dirty else None)
    from graphcl.nn import cache_dir

    graph_dir = Path(args.graph_dir) if args.graph_dir else cache_dir() / "graphs"
    out_path = Path(args.out)
    previous = json.loads(out_path.read_text()) if out_path.is_file() else {}
    runs = [r for r in previous.get("runs", []) if "error" not in r  # --force reruns only the named runs and sizes
            and not (args.force and r["run"] in args.runs and r["num_nodes"] in args.sizes)]
    graphs = previous.get("graphs", {})
    started = previous.get("started_at") or now_iso()
    result = {"benchmark": "bench_scaling", "method": "bench_scaling", "dataset": "planted_partition",
              "started_at": started, "graph": dict(K=K, avg_degree=AVG_DEGREE, p_intra=P_INTRA,
              features=FEATURES, sigma=SIGMA, seed=GRAPH_SEED), "model": dict(hidden=HIDDEN, embedding=EMBEDDING,
              pretrain_epochs=0, **HYPER), "batch_sizes": list(BATCH_SIZES)}
    result["config"] = {"graph": result["graph"], "model": result["model"], "seed": args.seed}

    def save(final: bool) -> None:
        result.update(complete=final, command=" ".join([Path(sys.executable).name, *sys.argv]), git_commit=commit,
                      **({"allow_dirty": True} if dirty else {}),
                      written_at=now_iso(), graphs=graphs, runs=runs, environment=environment("cpu"),
                      load_average=os.getloadavg())
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(out_path.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        os.replace(tmp, out_path)
        Path(args.markdown).write_text(to_markdown(result))

    for n in args.sizes:
        facts = ensure_graph(graph_dir, n)
        if facts["generated"]:
            graphs[str(n)] = facts
            print(f"N={n}: generated in {facts['generate_seconds']:.1f}s, saved in {facts['save_seconds']:.1f}s", flush=True)
        for run in args.runs:
            if not applicable(run, n) or any(r["run"] == run and r["num_nodes"] == n for r in runs):
                continue
            epochs = epochs_for(run, n, args)
            cmd = [sys.executable, __file__, "--worker", run, facts["path"], "--epochs", str(epochs), "--seed", str(args.seed)]
            t0, started_run = time.perf_counter(), now_iso()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-3000:])
                print(f"N={n} {run}: FAILED (exit {proc.returncode})", flush=True)
                continue
            res = {"run": run, "num_nodes": n, "seed": args.seed, "epochs_requested": epochs, "wall_seconds": wall, "load_average_at_end": os.getloadavg(),
                   **json.loads(proc.stdout.strip().splitlines()[-1]),
                   # this run's own provenance (the file's top-level keys say who wrote it last)
                   "command": " ".join([Path(sys.executable).name, *sys.argv]), "git_commit": commit,
                   "started_at": started_run}
            runs.append(res)
            save(final=False)
            ep = res.get("epoch_seconds_mean")
            print(f"N={n} {run}: {res['epochs']} epochs, " + (f"{ep:.3f} s/epoch, " if ep is not None else "")
                  + f"train {res['train_seconds']:.1f}s, peak RSS {res['peak_memory_mb']:.0f} MB, "
                  f"ACC {res['acc']:.4f} NMI {res['nmi']:.4f}", flush=True)
    save(final=True)
    plot(result, Path(args.png))
    print(f"written to {out_path} and {args.markdown}")
    return 0


def to_markdown(res: dict) -> str:
    g = res["graph"]
    lines = [
        "# Scaling benchmark: PamC full-batch and mini-batch, exact SCGC*, k-means",
        "",
        f"Generated by `{res['command']}` (commit `{res['git_commit'][:12]}`, {res['written_at']}) from "
        "`experiments/results/bench/bench_scaling.json`; do not edit.",
        f"Graph: planted partition, K={g['K']}, average degree {g['avg_degree']:g}, {g['p_intra']:.0%} intra-block "
        f"edges, {g['features']} features, sigma {g['sigma']:g}. Model: encoder {res['model']['hidden']} → "
        f"{res['model']['embedding']}, random init, W = Â. Each run is a fresh process; seconds per epoch "
        "exclude the first epoch; ACC/NMI are of the last epoch.",
        "`oracle_nearest_mean` is not a method: it assigns each node to the nearest class mean of its raw "
        "features, computed from the labels — the Bayes-optimal rule for these Gaussian classes among rules "
        "fixed before seeing the nodes. It does not bound an encoder trained on these very nodes (an MLP can fit "
        "the graph's neighbourhoods node by node; see docs/scgc.md, KL warm-up).",
        "`KL warm-up`: epochs of contrastive-only training before the KL term and a k-means restart of the "
        "centres (`kl_warmup`, default `epochs // 2` without pretraining); `0*`: run before the option existed.",
        "",
    ]
    if not res.get("complete"):
        lines += ["**Incomplete**: not every run has finished yet.", ""]
    lines += ["`load` is the machine's 1-minute load average when the run ended (2 cores): above ~2.2 other "
              "jobs shared the CPU and the time is not a clean measurement.", "",
              "| N | run | epochs | KL warm-up | s / epoch | train (s) | peak RSS (MB) | ACC | NMI | clusters used | load |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(res["runs"], key=lambda r: (r["num_nodes"], DEFAULT_RUNS.index(r["run"]) if r["run"] in DEFAULT_RUNS else 99)):
        ep = r.get("epoch_seconds_mean")
        name = r["run"] + ("†" if r.get("legacy_provenance") else "")
        warm = "" if ep is None else r.get("kl_warmup_epochs", "0*")
        lines.append(f"| {r['num_nodes']:,} | {name} | {r['epochs']} | {warm} | {'' if ep is None else f'{ep:.3f}'} | "
                     f"{r['train_seconds']:.1f} | {r['peak_memory_mb']:.0f} | {r['acc']:.4f} | {r['nmi']:.4f} | "
                     f"{r['n_predicted_clusters']} | {r['load_average_at_end'][0]:.1f} |")
    if any(r.get("legacy_provenance") for r in res["runs"]):
        lines += ["", "† run before per-run provenance (file last written at `git_commit_of_file`); `pamc_reference_*` "
                  "rows were named `pamc_*` then: graphcl's PamC defaults were the reference formula (meta-node "
                  "negatives, no re-seeding) with partners encoded."]
    gens = res.get("graphs", {})
    if gens:
        lines += ["", "| N | edges (directed) | generate (s) | save (s) |", "|---|---|---|---|"]
        for n, f in sorted(gens.items(), key=lambda kv: int(kv[0])):
            lines.append(f"| {int(n):,} | {f.get('num_edges', 0):,} | {f['generate_seconds']:.1f} | {f['save_seconds']:.1f} |")
    by = {(r["run"], r["num_nodes"]): r for r in res["runs"]}
    ratio = [(run, by[(run, 1_000_000)]["epoch_seconds_mean"] / by[(run, 100_000)]["epoch_seconds_mean"])
             for run in DEFAULT_RUNS if (run, 100_000) in by and (run, 1_000_000) in by
             and by[(run, 100_000)].get("epoch_seconds_mean")]
    if ratio:
        lines += ["", "Epoch-time growth from 10⁵ to 10⁶ nodes: " + ", ".join(f"{run} {x:.1f}×" for run, x in ratio) + "."]
    return "\n".join(lines) + "\n"


def plot(res: dict, png: Path) -> None:
    from graphcl.errors import GraphclInputError
    from graphcl.plot import plot_scaling

    try:
        plot_scaling(res["runs"], png, run_key="run", size_key="num_nodes", seconds_key="epoch_seconds_mean",
                     order=DEFAULT_RUNS, xlabel="nodes N")
    except GraphclInputError as exc:  # matplotlib is not installed
        print(f"{exc}; no PNG written", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
