#!/usr/bin/env python
"""Reproduce PamC (and the k-means baselines) on the homogeneous benchmarks.

Examples::

    python experiments/pamc.py --dataset usps --seeds 0 1 2 3 4 5 6 7 8 9
    python experiments/pamc.py --dataset acm --seeds 0 1 2 3 4 --meta-nodes soft
    python experiments/pamc.py --method kmeans --dataset cora --seeds 0 1 2 3 4

Each seed runs in a fresh subprocess. Results go to ``experiments/results/<method>/<dataset>.json``
(``pamc``: graphcl's default, mass-weighted negatives and re-seeding; ``pamc_reference``: the
reference formula; both with hard meta-nodes) or ``experiments/results/pamc_soft/`` (soft
meta-nodes ``Q^T Z``, reported beside it; never chosen between by a label metric).
Hyperparameters come from ``experiments/configs/pamc.yaml`` (``default:`` block plus the PamC
README's published values only). Labels are read only to score the last-epoch clustering.

``--method`` (default ``pamc``) takes the homogeneous methods the registry configures in
``pamc.yaml`` (``graphcl.models.info(name).config``), plus the two baselines. Writing into
``experiments/results/`` needs a clean tree (``--allow-dirty`` records the exception).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import homogeneous_runner  # noqa: E402

CONFIG = HERE / "configs" / "pamc.yaml"


def methods() -> tuple:
    """``--method`` choices: the registry's homogeneous methods configured in pamc.yaml, then
    the baselines."""
    return homogeneous_runner.registered_methods(lambda info: bool(info.config) and info.config[0] == "pamc.yaml")


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
    folder = args.method if mode == "hard" else f"{args.method}_soft"
    return cfg, folder, ["--meta-nodes", mode]


def build_parser():
    """This script's command-line parser (read from the registry when called)."""
    parser = homogeneous_runner.build_parser(__doc__, methods(), CONFIG)
    extra_args(parser)
    return parser


def main(argv=None) -> int:
    return homogeneous_runner.main(argv, doc=__doc__, script=Path(__file__), methods=methods(), config=CONFIG,
                                   adjust=adjust, parser=build_parser())


if __name__ == "__main__":
    sys.exit(main())
