#!/usr/bin/env python
"""Heterogeneous scaling benchmark: MEOW (all-target negatives) against the linear-time
``meow_linear`` (meta-node negatives, warm-started k-means), 10⁴ to 10⁶ target nodes.

    python experiments/bench_hetero_scaling.py                       # 10^4, 10^5, 10^6
    python experiments/bench_hetero_scaling.py --sizes 10000 --runs meow_linear kmeans

The graph (:func:`graphcl.data.planted_hetero_graph`): papers (the targets) in K = 10 planted
classes with 64 Gaussian features (class means ``N(0, I)``, noise ``SIGMA``, set once without
any model so that k-means on the raw features is far from perfect), two authors per paper
(four papers per author) and one venue per paper (ten papers per venue), 80 % of the links
inside the paper's class; meta-paths PAP and PVP (about 9N and 11N non-zeros). Authors and
venues carry features of their class. The graph is generated inside each run (a few seconds
at 10⁶, recorded as ``generate_seconds``).

Model: the ``default:`` block of ``configs/meow.yaml`` (embedding 64, temperature 0.9, lr 7e-4,
feat_mask 0.3, adj_mask 0.1, top_k 70, lambda 1), except ``num_prototypes`` (100, 300)
(ACM's published values: the default's 500 and 700 prototypes are sized for the reference's
graphs) and a fixed number of epochs (``patience=None``): ``--epochs`` at 10⁴, ``--large-epochs``
at 10⁵ and 10⁶. Runs (``--runs``):

* ``kmeans``: scikit-learn k-means on the papers' raw features (10 restarts).
* ``meow``: :class:`graphcl.models.MEOW` (``negatives="pairs"``, the reference's per-epoch
  k-means). Its all-target denominator is ``O(N² d)``: at 10⁵ only ``--exact-large-epochs``
  epochs are timed; where one epoch is estimated above ``max_epoch_seconds`` (600 s) MEOW
  refuses to start, and the row records the refusal and its measured estimate (``acc`` null).
* ``meow_meta``: MEOW with meta-node negatives but the reference's k-means (5 restarts × 20
  iterations per epoch): what the loss alone changes (up to 10⁵ targets).
* ``meow_linear``: :class:`graphcl.models.MEOWLinear` (meta-node negatives, warm-started k-means,
  and its default ``recompute="auto"``: the encoder's activations are recomputed in the backward
  pass above about 70 000 targets; each row records what was done).

Each run is a fresh process, so its peak resident memory (``VmHWM``) is its own; seconds per
epoch exclude the first epoch; ACC/NMI are of k-means (``n_clusters = K``) on the last epoch's
embedding. Each run has torch's ``THP_MEM_ALLOC_ENABLE=1`` in its environment (``--no-thp``:
not): CPU tensors of 2 MB and more are then backed by 2 MB transparent huge pages
(``madvise``), so a fresh ``[N, 64]`` activation costs 512 times fewer page faults; at 10⁶
targets every activation is a fresh 256 MB mapping, and a development probe (3·10⁵ targets,
loaded, one thread) measured an epoch 10 % faster with it, a fresh 10⁶ × 64 ``elu`` 1.9× faster.
torch reads the setting when it starts, hence the worker's environment; each row records it
(``thp``). Users get the same with ``THP_MEM_ALLOC_ENABLE=1 graphcl fit ...`` on Linux. Results go to ``experiments/results/bench/bench_hetero_scaling.json`` after every run
(a list of rows with ``method``, ``n_targets``, ``epoch_seconds``, ``peak_memory_mb``, ``acc``,
…; finished runs are kept and skipped unless ``--force``), with ``docs/bench_hetero_scaling.md``
and a log-log PNG. Take the figures with nothing else running.
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

K, FEATURES, SIGMA, GRAPH_SEED = 10, 64, 5.5, 0  # k-means on raw features: ACC 0.34 at 10^4 (4: 0.66, 6: 0.26)
GRAPH = dict(authors_per_target=2, targets_per_author=4.0, targets_per_venue=10.0, p_intra=0.8, context_features=True)
HYPER = dict(embedding_dim=64, dropout=0.2, temperature=0.9, lr=7e-4, feat_mask=0.3, adj_mask=0.1, top_k=70,
             num_prototypes=(100, 300), lambda_proto=1.0, patience=None)
RUNS = ["kmeans", "meow", "meow_meta", "meow_linear"]
MAX_EPOCH_SECONDS = 600.0


def applicable(run: str, n: int) -> bool:
    """``meow_meta`` (the reference's 5 × 20 k-means iterations every epoch) is left out above
    10⁵ targets: at 10⁶ its k-means alone would take minutes per epoch."""
    return not (run == "meow_meta" and n > 100_000)


def epochs_for(run: str, n: int, args) -> int:
    if run == "meow" and n > 10_000:
        return args.exact_large_epochs
    return args.epochs if n <= 10_000 else args.large_epochs


def worker(run: str, n: int, epochs: int, seed: int) -> dict:
    import warnings

    import numpy as np
    import torch

    from graphcl.data import planted_hetero_graph
    from graphcl.errors import GraphclInputError
    from graphcl.experiment import peak_rss_mb
    from graphcl.metrics import evaluate_clustering

    t0 = time.perf_counter()
    data = planted_hetero_graph(n, K, FEATURES, SIGMA, seed=GRAPH_SEED, **GRAPH)
    out = {"generate_seconds": time.perf_counter() - t0, "threads": torch.get_num_threads(),
           "peak_memory_mb_after_generate": peak_rss_mb()}
    y = data["paper"].y.numpy()
    del data["paper"].y
    if run == "kmeans":
        from sklearn.cluster import KMeans

        t0 = time.perf_counter()
        pred = KMeans(K, n_init=10, random_state=seed).fit_predict(data["paper"].x.numpy())
        out.update(train_seconds=time.perf_counter() - t0, epochs=0, epoch_seconds=None)
    else:
        from graphcl.models import MEOW, MEOWLinear

        cls = MEOWLinear if run == "meow_linear" else MEOW
        extra = {"negatives": "meta"} if run == "meow_meta" else {}
        model = cls(K, random_state=seed, epochs=epochs, max_epoch_seconds=MAX_EPOCH_SECONDS, **HYPER, **extra)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # cluster counts are reported below
                model.fit(data)
        except GraphclInputError as exc:  # the all-target guard-rail
            from graphcl.losses.meow import estimate_pairs_seconds

            est = estimate_pairs_seconds(n, HYPER["embedding_dim"], len(HYPER["num_prototypes"]), HYPER["temperature"])
            out.update(refused=str(exc), estimated_epoch_seconds=est, epochs=0, epoch_seconds=None, acc=None, nmi=None,
                       ari=None, n_predicted_clusters=None, peak_memory_mb=peak_rss_mb())
            return out
        t = model.timings_
        eps = t["epoch_seconds"]
        steady = eps[1:] if len(eps) > 1 else eps
        out.update(prepare_seconds=t["prepare_seconds"], train_seconds=t["train_seconds"], epochs=len(eps),
                   recompute=bool(model.network_.recompute),
                   epoch_seconds=float(np.mean(steady)), epoch_seconds_first=eps[0] if eps else None,
                   final_loss=model.loss_history_[-1]["loss"] if model.loss_history_ else None,
                   first_loss=model.loss_history_[0]["loss"] if model.loss_history_ else None)
        pred = model.labels_
    scores = evaluate_clustering(y, pred)
    out.update(acc=scores["acc"], nmi=scores["nmi"], ari=scores["ari"], n_predicted_clusters=int(len(np.unique(pred))),
               peak_memory_mb=peak_rss_mb())
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--runs", nargs="+", default=RUNS, choices=RUNS)
    p.add_argument("--epochs", type=int, default=100, help="epochs at 10^4 targets")
    p.add_argument("--large-epochs", type=int, default=10, help="epochs above 10^4 targets")
    p.add_argument("--exact-large-epochs", type=int, default=2, help="MEOW (all-target) epochs above 10^4 (timing)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(HERE / "results" / "bench" / "bench_hetero_scaling.json"))
    p.add_argument("--markdown", default=str(HERE.parent / "docs" / "bench_hetero_scaling.md"))
    p.add_argument("--png", default=str(HERE.parent / "docs" / "bench_hetero_scaling.png"))
    p.add_argument("--force", action="store_true", help="rerun the named runs at the named sizes even if in --out")
    p.add_argument("--no-thp", dest="thp", action="store_false",
                   help="run the workers without torch's THP_MEM_ALLOC_ENABLE=1 (transparent huge pages)")
    p.add_argument("--allow-dirty", action="store_true",
                   help="write into experiments/results/ with uncommitted changes (recorded); refused otherwise")
    p.add_argument("--worker", nargs=2, metavar=("RUN", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.epochs, args.seed)))
        return 0

    from graphcl.experiment import environment, git_commit, now_iso, refuse_dirty_results

    dirty = refuse_dirty_results(args.out, args.allow_dirty)  # before any work
    commit = git_commit(dirty=True if dirty else None)
    out_path = Path(args.out)
    previous = json.loads(out_path.read_text()) if out_path.is_file() else {}
    rows = [r for r in previous.get("rows", []) if "error" not in r
            and not (args.force and r["method"] in args.runs and r["n_targets"] in args.sizes)]
    result = {"benchmark": "bench_hetero_scaling", "method": "bench_hetero_scaling", "dataset": "planted_hetero",
              "started_at": previous.get("started_at") or now_iso(),
              "graph": dict(K=K, features=FEATURES, sigma=SIGMA, seed=GRAPH_SEED, **GRAPH),
              "model": {k: (list(v) if isinstance(v, tuple) else v) for k, v in HYPER.items()},
              "max_epoch_seconds": MAX_EPOCH_SECONDS}
    result["config"] = {"graph": result["graph"], "model": result["model"], "seed": args.seed}

    def save(final: bool) -> None:
        result.update(complete=final, command=" ".join([Path(sys.executable).name, *sys.argv]), git_commit=commit,
                      **({"allow_dirty": True} if dirty else {}), written_at=now_iso(), rows=rows,
                      environment=environment("cpu"), load_average=os.getloadavg())
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(out_path.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        os.replace(tmp, out_path)
        Path(args.markdown).write_text(to_markdown(result))

    for n in args.sizes:
        for run in args.runs:
            if not applicable(run, n) or any(r["method"] == run and r["n_targets"] == n for r in rows):
                continue
            epochs = epochs_for(run, n, args)
            cmd = [sys.executable, __file__, "--worker", run, str(n), "--epochs", str(epochs), "--seed", str(args.seed)]
            t0, started = time.perf_counter(), now_iso()
            env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
            if args.thp:
                env["THP_MEM_ALLOC_ENABLE"] = "1"
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-3000:])
                print(f"N={n} {run}: FAILED (exit {proc.returncode})", flush=True)
                continue
            row = {"method": run, "n_targets": n, "seed": args.seed, "epochs_requested": epochs, "wall_seconds": wall,
                   **json.loads(proc.stdout.strip().splitlines()[-1]), "thp": args.thp,
                   "load_average_at_end": os.getloadavg(),
                   "command": " ".join([Path(sys.executable).name, *sys.argv]), "git_commit": commit,
                   "started_at": started}
            rows.append(row)
            save(final=False)
            if row.get("refused"):
                print(f"N={n} {run}: refused (estimated {row['estimated_epoch_seconds']:.0f} s per epoch)", flush=True)
            else:
                ep = row.get("epoch_seconds")
                print(f"N={n} {run}: {row['epochs']} epochs, " + (f"{ep:.3f} s/epoch, " if ep is not None else "")
                      + f"peak RSS {row['peak_memory_mb']:.0f} MB, ACC {row['acc']:.4f} NMI {row['nmi']:.4f}", flush=True)
    save(final=True)
    plot(result, Path(args.png))
    print(f"written to {out_path} and {args.markdown}")
    return 0


def _cell(x, fmt: str) -> str:
    return "" if x is None else format(x, fmt)


def to_markdown(res: dict) -> str:
    g, m = res["graph"], res["model"]
    lines = [
        "# Heterogeneous scaling benchmark: MEOW and the linear-time meow_linear",
        "",
        f"Generated by `{res['command']}` (commit `{res['git_commit'][:12]}`, {res['written_at']}) from "
        "`experiments/results/bench/bench_hetero_scaling.json`; do not edit.",
        f"Graph: `planted_hetero_graph`, K={g['K']} classes, {g['features']} features, sigma {g['sigma']:g}, "
        f"{g['authors_per_target']} authors per paper, {g['targets_per_author']:g} papers per author, "
        f"{g['targets_per_venue']:g} papers per venue, {g['p_intra']:.0%} of links inside the class. Model: "
        f"configs/meow.yaml `default:` with num_prototypes {m['num_prototypes']}, a fixed number of epochs. "
        "Each run is a fresh process; seconds per epoch exclude the first epoch; ACC/NMI are k-means on the "
        "last epoch's embedding. `load` is the 1-minute load average when the run ended (2 cores; above ~2.2 "
        "other jobs shared the CPU and the time is not a clean measurement).",
        "",
    ]
    if not res.get("complete"):
        lines += ["**Incomplete**: not every run has finished yet.", ""]
    lines += ["`recompute`: the encoder's activations recomputed in the backward pass (`meow_linear`'s default "
              "at 1e5fcc9 and 2c73387, above about 70 000 targets since; rows from earlier commits kept them). `commit`: the commit each row ran at.", "",
              "`THP`: the worker ran with torch's `THP_MEM_ALLOC_ENABLE=1` (2 MB transparent huge pages for "
              "large CPU tensors; `no`: without, `–`: not recorded, rows written before the option).", "",
              "| targets | method | epochs | s / epoch | peak RSS (MB) | ACC | NMI | clusters used | load | THP | commit |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(res["rows"], key=lambda r: (r["n_targets"], RUNS.index(r["method"]))):
        method = r["method"] + (" (recompute)" if r.get("recompute") else "")
        commit = str(r.get("git_commit") or "")[:7]
        thp = {True: "yes", False: "no"}.get(r.get("thp"), "–")
        if r.get("refused"):
            lines.append(f"| {r['n_targets']:,} | {method} | refused | ≈{r['estimated_epoch_seconds']:,.0f} "
                         f"(estimate) | {r['peak_memory_mb']:.0f} | – | – | – | {r['load_average_at_end'][0]:.1f} | "
                         f"{thp} | {commit} |")
            continue
        lines.append(f"| {r['n_targets']:,} | {method} | {r['epochs']} | {_cell(r.get('epoch_seconds'), '.3f')} | "
                     f"{r['peak_memory_mb']:.0f} | {r['acc']:.4f} | {r['nmi']:.4f} | {r['n_predicted_clusters']} | "
                     f"{r['load_average_at_end'][0]:.1f} | {thp} | {commit} |")
    refusals = [r for r in res["rows"] if r.get("refused")]
    if refusals:
        lines += ["", "Refused runs: MEOW measures its all-target loss before training and refuses an epoch "
                  f"estimated above max_epoch_seconds={res['max_epoch_seconds']:g} s, naming `negatives='meta'`. "
                  "Its message: `" + refusals[0]["refused"] + "`"]
    return "\n".join(lines) + "\n"


def plot(res: dict, png: Path) -> None:
    from graphcl.errors import GraphclInputError
    from graphcl.plot import plot_scaling

    try:
        plot_scaling(res["rows"], png, run_key="method", size_key="n_targets", seconds_key="epoch_seconds",
                     order=RUNS, xlabel="target nodes N")
    except GraphclInputError as exc:  # matplotlib is not installed
        print(f"{exc}; no PNG written", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
