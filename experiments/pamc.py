#!/usr/bin/env python
"""Reproduce PamC (and the k-means baselines) on the homogeneous benchmarks.

Examples::

    python experiments/pamc.py --dataset usps --seeds 0 1 2 3 4 5 6 7 8 9
    python experiments/pamc.py --dataset acm --seeds 0 1 2 3 4 --meta-nodes soft
    python experiments/pamc.py --method kmeans --dataset cora --seeds 0 1 2 3 4

Each seed runs in a fresh subprocess. Results go to ``experiments/results/pamc/<dataset>.json``
(hard meta-nodes, the reference's and the default) or ``experiments/results/pamc_soft/`` (soft
meta-nodes ``Q^T Z``, reported beside it; never chosen between by a label metric).
Hyperparameters come from ``experiments/configs/pamc.yaml`` (``default:`` block plus the PamC
README's published values only). Labels are read only to score the last-epoch clustering.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import homogeneous_runner  # noqa: E402

METHODS = ("pamc", *homogeneous_runner.BASELINES)


def make_estimator(method: str, **params):
    from graphcl.models import PamC

    return PamC(**params)


def extra_args(parser) -> None:
    parser.add_argument("--meta-nodes", choices=["hard", "soft"], default=None,
                        help="meta-node mode (default: the config's, hard)")
    parser.set_defaults(method="pamc")
    for action in parser._actions:  # --method is optional here: pamc is the default
        if action.dest == "method":
            action.required = False


def adjust(args, cfg: dict):
    if args.meta_nodes is not None:
        cfg["meta_nodes"] = args.meta_nodes
    mode = cfg.setdefault("meta_nodes", "hard")
    folder = "pamc" if mode == "hard" else "pamc_soft"
    return cfg, folder, ["--meta-nodes", mode]


def main(argv=None) -> int:
    return homogeneous_runner.main(argv, doc=__doc__, script=Path(__file__), methods=METHODS,
                                   config=HERE / "configs" / "pamc.yaml", make_estimator=make_estimator,
                                   extra_args=extra_args, adjust=adjust)


if __name__ == "__main__":
    sys.exit(main())
