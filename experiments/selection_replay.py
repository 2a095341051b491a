#!/usr/bin/env python
"""Replay a criterion over the committed selection grids: which point would it have chosen?

    python experiments/selection_replay.py            # every selected*/ file, criterion modularity_gain

A ``selected`` file written before a grid point recorded ``input_modularity`` (the modularity of
k-means on that point's own input, ``X`` or ``Â^h X``) cannot be scored by ``modularity_gain``
from its JSON alone. This script recomputes that one number per seed and input exactly as
:func:`graphcl.selection.select` does (same graph inputs, k-means seed = the run's seed, the
estimator's ``kmeans_n_init``), re-scores every recorded grid point (``modularity_gain`` =
its recorded modularity minus it), and reports, per dataset, the mean ACC / NMI of the point
each criterion picks among the fitted points. Labels are read only from the grid points'
recorded ``evaluation`` blocks, after the fact, as in the study table of ``docs/results.md``.

The replay is an approximation in one respect: the runs' temperature stage followed the run's
own criterion, so a criterion that prefers another ``(input, order)`` pair in the first stage
can only pick among the points that were fitted. Where a point already records
``input_modularity``, the recomputed value is checked against it (they must agree: the
replay then reproduces :func:`select` exactly).

Writes ``experiments/results/studies/selection_replay.json`` (provenance as every result file:
command, commit, start time; a clean tree is required).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folders", nargs="+", default=None, help="result folders (default: every selected*/)")
    p.add_argument("--datasets", nargs="+", default=None, help="only these datasets (default: every file)")
    p.add_argument("--criteria", nargs="+", default=["modularity", "modularity_gain", "silhouette"])
    p.add_argument("--out", default=str(HERE / "results" / "studies" / "selection_replay.json"))
    p.add_argument("--results-dir", default=str(HERE / "results"), help="where the selected*/ folders are")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--allow-dirty", action="store_true")
    args = p.parse_args(argv)

    import torch
    from make_tables import selection_study

    from graphcl.data import load_dataset
    from graphcl.experiment import environment, git_commit, now_iso, refuse_dirty_results
    from graphcl.selection import graph_inputs, grid_input

    if args.threads:
        torch.set_num_threads(args.threads)
    dirty = refuse_dirty_results(args.out, args.allow_dirty)
    started = now_iso()
    results_dir = Path(args.results_dir)
    folders = args.folders or sorted(p.name for p in results_dir.iterdir() if p.is_dir() and p.name.startswith("selected"))
    rows = []
    for folder in folders:
        for path in sorted((results_dir / folder).glob("*.json")):
            if args.datasets and path.stem not in args.datasets:
                continue
            res = json.loads(path.read_text())
            data = load_dataset(res["dataset"])
            k = int(data.num_classes)
            x, ei, ew = graph_inputs(data, None)  # y is never read
            n_init = int(res["config"].get("kmeans_n_init", 20))
            grids, checks = [], []
            for run in res["runs"]:
                grid = run["selection"]["grid"]
                t0 = time.perf_counter()
                inputs = {}
                for h in sorted({int(g["input_hops"]) for g in grid}):
                    inputs[h] = grid_input(x, ei, ew, h, k, int(run["seed"]), n_init)[1]  # as select() does
                for g in grid:
                    recomputed = inputs[int(g["input_hops"])]
                    if "input_modularity" in g:
                        checks.append(abs(g["input_modularity"] - recomputed))
                    g["modularity_gain"] = g["modularity"] - recomputed
                grids.append(grid)
                print(f"{folder}/{path.name} seed {run['seed']}: input modularity "
                      + ", ".join(f"h={h} {v:.4f}" for h, v in inputs.items()) + f" ({time.perf_counter() - t0:.1f} s)",
                      flush=True)
            study = selection_study(grids)  # the results page's own picks (first of equals: grid order)
            row = {"folder": folder, "dataset": res["dataset"], "seeds": [r["seed"] for r in res["runs"]],
                   "run_criterion": res["config"].get("criterion"),
                   "picks": {c: {"acc": study[c]["acc"], "nmi": study[c]["nmi"]} for c in args.criteria},
                   "first_grid_point": study["first"], "best_grid_point": study["best"],
                   "max_input_modularity_mismatch": max(checks) if checks else None}
            rows.append(row)
            print(f"  {row['dataset']} ({len(row['seeds'])} seeds): " + ", ".join(
                f"{c} {v['acc']:.4f}/{v['nmi']:.4f}" for c, v in row["picks"].items()), flush=True)
    out = {"method": "selection_replay", "command": " ".join(["python", "experiments/selection_replay.py", *(argv or sys.argv[1:])]),
           "git_commit": git_commit(dirty=True if dirty else None), "started_at": started, "written_at": now_iso(),
           "criteria": args.criteria, "rows": rows, "environment": environment("cpu")}
    if dirty:
        out["allow_dirty"] = True
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
