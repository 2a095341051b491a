#!/usr/bin/env python
"""Does the reference's PathSim tie order read the node order? A diagnosis, labels read only to score.

    python experiments/pathsim_ties_study.py                      # acm, dblp, aminer (their top_k)

MEOW keeps, per target node and meta-path, the ``top_k`` neighbours of largest PathSim
(:func:`graphcl.data.pathsim_topk`). Where many candidates tie at the cut (ACM's PSP: papers
sharing one subject), *which* tied candidates are kept is decided by the tie order: graphcl's
``ties="seeded"`` draws a random key, the reference (``ties="numpy"``) takes numpy's unstable
``argsort`` of each dense row, an order that depends on the node ids. When the node ids are
sorted by class (the HeCo/MEOW files of ACM and AMiner are: ACM's 4,019 papers change class
35 times along the id order), an id-dependent tie order can keep same-class neighbours more
often than chance — class information entering through the file's node order.

For each dataset and meta-path this script measures the fraction of kept (anchor, neighbour)
pairs whose two nodes share a class, for: all meta-path pairs (no cut), the seeded tie order,
numpy's order on the original ids, and numpy's order after relabelling the nodes by a seeded
random permutation (the same graph with ids that carry no class order; mapped back before
scoring). If numpy's order beats both the seeded order and its own run on shuffled ids, the
difference comes from the id order. The labels are read here only to score the kept pairs;
nothing in training reads them.

Writes ``experiments/results/studies/pathsim_ties.json`` (provenance as every result file:
command, commit, start time; a clean tree is required).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

#: The datasets studied (each with its ``meow:`` block's ``top_k`` from ``configs/meow.yaml``).
DATASETS = ("acm", "dblp", "aminer")


def same_class_rates(data: Any, top_k: Sequence[int], seed: int = 0, shuffle_seed: int = 1) -> Dict[str, Dict[str, float]]:
    """Per meta-path of ``data`` (a ``HeteroData`` with ``metapaths`` and target labels ``y``):
    ``{name: {"k", "pairs", "all_pairs", "seeded", "numpy", "numpy_shuffled_ids", "tied_rows"}}``,
    each rate the fraction of kept ``(i, j)`` with ``y[i] == y[j]``; ``tied_rows`` is the fraction
    of rows with more candidates than ``k`` whose ``k``-th and ``(k+1)``-th PathSim are equal."""
    import torch

    from graphcl.data.metapath import metapath_adjacency, pathsim_topk

    target = data.target_node_type
    y = data[target].y
    n = int(y.numel())
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(shuffle_seed)))
    new_id = torch.empty_like(perm)
    new_id[perm] = torch.arange(n)  # node perm[t] gets id t

    def rate(ei) -> float:
        return float((y[ei[0]] == y[ei[1]]).double().mean())

    out = {}
    for (name, mp), k in zip(data.metapaths.items(), top_k):
        ei, counts = metapath_adjacency(data, mp)
        seeded, _ = pathsim_topk(ei, counts, n, int(k), seed=seed, ties="seeded")
        numpy_ids, _ = pathsim_topk(ei, counts, n, int(k), seed=seed, ties="numpy")
        moved = new_id[ei]
        order = torch.argsort(moved[0] * n + moved[1])
        shuffled, _ = pathsim_topk(moved[:, order], counts[order], n, int(k), seed=seed, ties="numpy")
        out[name] = {"k": int(k), "pairs": int(ei.size(1)), "all_pairs": rate(ei), "seeded": rate(seeded),
                     "numpy": rate(numpy_ids), "numpy_shuffled_ids": rate(perm[shuffled]),
                     "tied_rows": _tied_rows(ei, counts, n, int(k))}
    return out


def _tied_rows(edge_index, counts, n: int, k: int) -> float:
    """Fraction of the rows with more than ``k`` candidates whose PathSim ties at the cut."""
    import torch

    from graphcl.data.metapath import pathsim_scores

    row, col = edge_index
    ps = pathsim_scores(row, col, counts, n)
    order = torch.argsort(-ps, stable=True)  # by row, then by decreasing PathSim
    order = order[torch.argsort(row[order], stable=True)]
    row_s, ps_s = row[order], ps[order]
    start = torch.zeros(n + 1, dtype=torch.long)
    start[1:] = torch.cumsum(torch.bincount(row_s, minlength=n), 0)
    deg = start[1:] - start[:-1]
    rows = torch.nonzero(deg > k).view(-1)
    if rows.numel() == 0:
        return 0.0
    at_cut, after = ps_s[start[rows] + k - 1], ps_s[start[rows] + k]
    return float((at_cut == after).double().mean())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    p.add_argument("--seed", type=int, default=0, help="the seeded tie order's seed")
    p.add_argument("--shuffle-seed", type=int, default=1, help="seed of the random relabelling of the node ids")
    p.add_argument("--out", default=str(HERE / "results" / "studies" / "pathsim_ties.json"))
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--allow-dirty", action="store_true")
    args = p.parse_args(argv)

    from graphcl.data.hetero import load_hetero_dataset
    from graphcl.experiment import load_config, start_study, write_study

    dirty, started = start_study(args.out, args.allow_dirty, args.threads)
    rows = []
    for name in args.datasets:
        data = load_hetero_dataset(name)
        top_k = load_config(HERE / "configs" / "meow.yaml", "meow", name)["top_k"]
        y = data[data.target_node_type].y
        changes = int((y[1:] != y[:-1]).sum())
        for path, r in same_class_rates(data, top_k, args.seed, args.shuffle_seed).items():
            rows.append({"dataset": name, "metapath": path, "class_changes_along_ids": changes, **r})
            print(f"{name} {path} (k={r['k']}, ties at the cut in {100 * r['tied_rows']:.0f}% of cut rows): same class "
                  f"{r['all_pairs']:.4f} all pairs, {r['seeded']:.4f} seeded, {r['numpy']:.4f} numpy, "
                  f"{r['numpy_shuffled_ids']:.4f} numpy on shuffled ids", flush=True)
    write_study(args.out, "pathsim_ties_study", "experiments/pathsim_ties_study.py",
                argv if argv is not None else sys.argv[1:], started, dirty,
                seed=args.seed, shuffle_seed=args.shuffle_seed, rows=rows)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
