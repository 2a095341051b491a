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

Two criteria that no run chose by are computed here from the partitions the grid points keep
(``labels``, packed; runs from before they were kept are left out of these two), because the
recorded ones cannot compare temperatures (``docs/selection.md``): both score every grid
point in a space the whole grid shares, not in the point's own embedding.

* ``agreement``: the grid point's mean adjusted Rand index with the seed's other grid points
  (the partition the grid agrees on);
* ``input_silhouette``: the cosine silhouette of the partition on the raw features ``X``, on the
  same seeded sample of nodes as the recorded ``silhouette``.

And the alternative to choosing, :func:`graphcl.selection.select`'s ``combine="consensus"``:
the consensus of each seed's kept grid partitions (:func:`graphcl.cluster.consensus_clustering`,
the run's seed, the estimator's ``kmeans_n_init``: what ``select`` returns for those fits), scored
against the dataset's labels after the fact (``consensus`` in each row: mean ACC / NMI over the
seeds whose grid kept its partitions, beside the run's own choice on the same seeds), and what
``select(..., restarts=R)`` would make of R seeds' grids: the consensus of every 2 and every 3 of
those seeds' partitions pooled (``consensus_restarts``: means over the subsets, which share seeds:
an estimate of R's effect, not a row).

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


#: The criteria computed here from the kept partitions: name -> +1 (maximised).
PARTITION_CRITERIA = {"agreement": 1.0, "input_silhouette": 1.0}


def partition_scores(grid: list, x, seed: int, silhouette_sample: int = 2000) -> bool:
    """Add ``agreement`` and ``input_silhouette`` to each point of ``grid`` from its packed
    ``labels`` (``x``: the raw features ``[N, d]``, a numpy array); ``False`` (nothing added)
    when a point lacks them."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from graphcl.experiment import unpack_labels
    from graphcl.selection import sampled_silhouette

    if not all("labels" in g for g in grid):
        return False
    labels = [unpack_labels(g["labels"]) for g in grid]
    for i, (g, lab) in enumerate(zip(grid, labels)):
        others = [adjusted_rand_score(lab, other) for j, other in enumerate(labels) if j != i]
        g["agreement"] = float(np.mean(others)) if others else 0.0
        g["input_silhouette"] = sampled_silhouette(x, lab, silhouette_sample, seed)  # the recorded silhouette's sample
    return True


def kept_partitions(grids: list, seeds: list) -> dict:
    """``{seed: [labels of each grid point]}`` for the grids whose every point kept its packed
    partition (runs from before they were kept are left out)."""
    from graphcl.experiment import unpack_labels

    return {seed: [unpack_labels(g["labels"]) for g in grid] for grid, seed in zip(grids, seeds)
            if all("labels" in g for g in grid)}


def consensus_replay(grids: list, chosen: list, y, k: int, seeds: list, n_init: int) -> dict:
    """What ``select(..., combine="consensus")`` would have returned on each recorded grid
    that kept its partitions, scored against ``y`` after the fact: ``acc``/``nmi`` (means over
    those seeds), ``chosen_acc``/``chosen_nmi`` (the run's own choice on the same seeds) and
    ``per_seed``."""
    import numpy as np

    from graphcl.cluster import consensus_clustering
    from graphcl.metrics import evaluate_clustering

    kept = kept_partitions(grids, seeds)
    per_seed = []
    for run_scores, seed in zip(chosen, seeds):
        if seed not in kept:
            continue
        labels = consensus_clustering(kept[seed], k, int(seed), n_init)
        scores = evaluate_clustering(y, labels)
        per_seed.append({"seed": seed, "acc": scores["acc"], "nmi": scores["nmi"],
                         "n_predicted_clusters": int(len(np.unique(labels))),
                         "chosen_acc": run_scores["acc"], "chosen_nmi": run_scores["nmi"]})
    if not per_seed:
        return {"seeds": 0}
    mean = {key: (float(np.mean([r[key] for r in per_seed])) if all(r[key] is not None for r in per_seed) else None)
            for key in ("acc", "nmi", "chosen_acc", "chosen_nmi")}
    return {"seeds": len(per_seed), **mean, "per_seed": per_seed}


def pooled_consensus_replay(grids: list, y, k: int, seeds: list, n_init: int, sizes=(2, 3)) -> dict:
    """What ``select(..., restarts=R)`` does with R seeds' grids, replayed on the committed ones:
    for each ``R`` in ``sizes`` and each ``R``-subset of the seeds whose grid kept its partitions,
    the consensus of all their partitions (k-means seed: the subset's first seed), scored against
    ``y`` after the fact. Returns ``{R: {"subsets", "acc", "nmi", "acc_std"}}`` (means and the
    population std over subsets). The subsets share seeds, so they are not independent runs:
    an estimate of the effect of R, not a row."""
    import itertools

    import numpy as np

    from graphcl.cluster import consensus_clustering
    from graphcl.metrics import evaluate_clustering

    kept = kept_partitions(grids, seeds)
    out = {}
    for size in sizes:
        scores = []
        for subset in itertools.combinations(sorted(kept), size):
            labels = consensus_clustering([p for seed in subset for p in kept[seed]], k, int(subset[0]), n_init)
            result = evaluate_clustering(y, labels)
            scores.append((result["acc"], result["nmi"]))
        if scores:
            arr = np.asarray(scores)
            out[str(size)] = {"subsets": len(scores), "acc": float(arr[:, 0].mean()), "nmi": float(arr[:, 1].mean()),
                              "acc_std": float(arr[:, 0].std())}
    return out


def main(argv=None) -> int:
    from graphcl.selection import SELECT_CRITERIA

    signs = {**SELECT_CRITERIA, **PARTITION_CRITERIA}
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folders", nargs="+", default=None, help="result folders (default: every selected*/)")
    p.add_argument("--datasets", nargs="+", default=None, help="only these datasets (default: every file)")
    p.add_argument("--criteria", nargs="+", choices=list(signs),
                   default=["modularity", "modularity_gain", "silhouette", *PARTITION_CRITERIA])
    p.add_argument("--out", default=str(HERE / "results" / "studies" / "selection_replay.json"))
    p.add_argument("--results-dir", default=str(HERE / "results"), help="where the selected*/ folders are")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--allow-dirty", action="store_true")
    args = p.parse_args(argv)

    from make_tables import selection_study

    from graphcl.data import load_dataset
    from graphcl.experiment import start_study, write_study
    from graphcl.selection import graph_inputs, grid_input

    dirty, started = start_study(args.out, args.allow_dirty, args.threads)
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
                partition_scores(grid, x.numpy(), int(run["seed"]))
                grids.append(grid)
                print(f"{folder}/{path.name} seed {run['seed']}: input modularity "
                      + ", ".join(f"h={h} {v:.4f}" for h, v in inputs.items()) + f" ({time.perf_counter() - t0:.1f} s)",
                      flush=True)
            # the results page's own picks (first of equals: grid order)
            study = selection_study(grids, {c: signs[c] for c in args.criteria})
            row = {"folder": folder, "dataset": res["dataset"], "seeds": [r["seed"] for r in res["runs"]],
                   "run_criterion": res["config"].get("criterion"),
                   "picks": {c: {"acc": study[c]["acc"], "nmi": study[c]["nmi"], "seeds": study[c]["seeds"],
                                 "rho_acc": study[c]["rho_acc"], "first_grid_point_acc": study[c]["first_acc"]}
                             for c in args.criteria if c in study},
                   "first_grid_point": study["first"], "best_grid_point": study["best"],
                   "consensus": consensus_replay(grids, [{"acc": r.get("acc"), "nmi": r.get("nmi")} for r in res["runs"]],
                                                 data.y.numpy(), k, [r["seed"] for r in res["runs"]], n_init),
                   "consensus_restarts": pooled_consensus_replay(grids, data.y.numpy(), k, [r["seed"] for r in res["runs"]],
                                                                 n_init),
                   "max_input_modularity_mismatch": max(checks) if checks else None}
            rows.append(row)
            print(f"  {row['dataset']} ({len(row['seeds'])} seeds): " + ", ".join(
                f"{c} {v['acc']:.4f}/{v['nmi']:.4f} ({v['seeds']} seeds)" for c, v in row["picks"].items()), flush=True)
            cons = row["consensus"]
            if cons["seeds"]:
                print(f"  consensus of the grid ({cons['seeds']} seeds): {cons['acc']:.4f}/{cons['nmi']:.4f} "
                      f"(the run's choice on them: {cons['chosen_acc']} / {cons['chosen_nmi']})", flush=True)
            for size, pooled in row["consensus_restarts"].items():
                print(f"  consensus of {size} seeds' grids ({pooled['subsets']} subsets): {pooled['acc']:.4f}/"
                      f"{pooled['nmi']:.4f}, ACC std {pooled['acc_std']:.4f}", flush=True)
    write_study(args.out, "selection_replay", "experiments/selection_replay.py", argv or sys.argv[1:], started, dirty,
                criteria=args.criteria, rows=rows)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
