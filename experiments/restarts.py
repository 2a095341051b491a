#!/usr/bin/env python
"""Restarts kept by a label-free score (``graphcl fit --restarts R``) on the homogeneous benchmarks.

Examples::

    python experiments/restarts.py --method pamc --dataset photo --seeds 0 1 2 3 4            # R = 5
    python experiments/restarts.py --method scgc_star --dataset dblp --restarts 3 --seeds 0 1 2 3 4

Each seed ``s`` fits the method's usual configuration (the same config block as ``scgc.py`` /
``pamc.py``: a dataset's published values, else ``default:``) from the seeds ``s·R … s·R+R−1``
(:func:`graphcl.restarts.best_of_restarts`) and keeps the clustering with the best
``--criterion`` (modularity by default) on the graph. Labels only score the kept clustering and,
after the choice, each restart (``restarts`` in the seed's record, with an ``evaluation``
block), so that the results page can say whether the criterion ordered the restarts. Results go
to ``experiments/results/<method>_restarts<R>/<dataset>.json``: a row of its own beside the
single-seed row. Each seed runs in a fresh subprocess; writing results needs a clean tree.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import homogeneous_runner  # noqa: E402

CONFIG = HERE / "configs" / "scgc.yaml"
CRITERIA = ("modularity", "conductance", "silhouette")


class RestartingEstimator:
    """``fit`` runs :func:`graphcl.restarts.best_of_restarts` and exposes the kept fit's results
    (what :func:`homogeneous_runner.run_one` reads) plus ``restarts_`` and ``restart_labels_``."""

    def __init__(self, method: str, restarts: int, criterion: str, n_clusters: int, random_state: int, device: str,
                 **params) -> None:
        self.method, self.restarts, self.criterion, self.n_clusters = method, restarts, criterion, n_clusters
        self.random_state, self.params = random_state, {**params, "device": device}

    def fit(self, data):
        from graphcl.restarts import best_of_restarts

        t0 = time.perf_counter()
        result = best_of_restarts(self.method, data, self.n_clusters, params=self.params, restarts=self.restarts,
                                  criterion=self.criterion, random_state=self.random_state)
        homogeneous_runner.adopt_fit(self, result.estimator, time.perf_counter() - t0)
        self.restarts_ = result.summary()
        self.restart_labels_ = result.labels  # scored against y by the runner, after the choice
        return self


def methods() -> tuple:
    """The registry's homogeneous methods (restarting k-means is k-means' own n_init)."""
    return tuple(m for m in homogeneous_runner.registered_methods() if m not in homogeneous_runner.BASELINES)


def build_parser():
    parser = homogeneous_runner.build_parser(__doc__, methods(), CONFIG)
    parser.add_argument("--restarts", type=int, default=5, metavar="R", help="fits per seed (5)")
    parser.add_argument("--criterion", choices=CRITERIA, default="modularity", help="label-free score (modularity)")
    return parser


def adjust(args, cfg: dict):
    """The method's usual config, the folder and the workers' flags."""
    if args.restarts < 1:
        from graphcl.errors import GraphclInputError

        raise GraphclInputError(f"--restarts must be a positive integer, got {args.restarts}")
    folder = f"{args.method}_restarts{args.restarts}" + ("" if args.criterion == "modularity" else f"_{args.criterion}")
    return cfg, folder, ["--restarts", str(args.restarts), "--criterion", args.criterion]


def main(argv=None) -> int:
    parser = build_parser()
    known = parser.parse_known_args(argv)[0]

    def make(method, **params):
        return RestartingEstimator(method, known.restarts, known.criterion, **params)

    return homogeneous_runner.main(argv, doc=__doc__, script=Path(__file__), methods=methods(), config=CONFIG,
                                   make_estimator=make, adjust=adjust, parser=parser)


if __name__ == "__main__":
    sys.exit(main())
