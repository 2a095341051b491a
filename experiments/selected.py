#!/usr/bin/env python
"""The label-free selection pipeline (``graphcl fit --select``) on the homogeneous benchmarks.

Examples::

    python experiments/selected.py --dataset cora --seeds 0 1 2 3 4                 # SCGC* (default)
    python experiments/selected.py --method pamc --dataset photo --seeds 0 1 2 3 4

Every dataset is treated as a user's unseen graph: the method's ``default:`` block (never a
dataset's published values), then :func:`graphcl.selection.select` fits its six-point grid (the
temperature stage at the pair ``--criterion`` prefers, ``silhouette`` by default) and, as
``graphcl fit --select`` does, returns the consensus of every grid point's clustering
(``--combine consensus``, the default: :func:`graphcl.cluster.consensus_clustering`), or with
``--combine best`` the clustering of the grid point the criterion keeps. Labels only score the
pipeline's clustering and each grid point's, after the fact; each seed's record keeps every grid
point's label-free scores, its partition and the choice (``selection``). Results go to
``experiments/results/selected/<dataset>.json`` for SCGC* and ``selected_<method>/`` otherwise,
with ``_<criterion>`` appended to the folder for a criterion other than the default and
``_best`` for ``--combine best``, ``_restarts<R>`` for ``--restarts R`` (the grid fitted from R
seeds and all of it combined) (``selected_best/``, ``selected_modularity_best/`` and
``selected_modularity_gain_best/`` hold the rows written while keeping the best grid point by
silhouette, modularity, then the modularity gain, was the default).
Each seed runs in a fresh subprocess; writing into ``experiments/results/`` needs a clean tree.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import homogeneous_runner  # noqa: E402

CONFIG = HERE / "configs" / "scgc.yaml"
CRITERIA = ("modularity", "conductance", "silhouette", "modularity_gain")  # graphcl.selection.SELECT_CRITERIA
DEFAULT_CRITERION = "silhouette"  # graphcl.selection.DEFAULT_CRITERION (a test keeps the two equal)
COMBINE = ("consensus", "best")  # graphcl.selection.COMBINE, the default first (a test keeps the two equal)


class SelectingEstimator:
    """``fit`` runs :func:`graphcl.selection.select` and exposes what
    :func:`homogeneous_runner.run_one` reads: the pipeline's labels (the consensus, or the chosen
    grid point's), the chosen estimator's embedding and loss history, plus ``selection_``."""

    def __init__(self, method: str, criterion: str, n_clusters: int, random_state: int, device: str,
                 combine: str = COMBINE[0], restarts: int = 1, **params) -> None:
        self.method, self.criterion, self.n_clusters, self.combine = method, criterion, n_clusters, combine
        self.restarts = restarts
        self.random_state, self.params = random_state, {**params, "device": device}

    def fit(self, data):
        from graphcl.selection import select

        t0 = time.perf_counter()
        result = select(self.method, data, self.n_clusters, params=self.params, criterion=self.criterion,
                        random_state=self.random_state, combine=self.combine, restarts=self.restarts)
        homogeneous_runner.adopt_fit(self, result.estimator, time.perf_counter() - t0)
        self.labels_ = result.labels  # the consensus, with combine="consensus"
        self.selection_ = result.summary()
        self.selection_labels_ = result.grid_labels  # scored against y by the runner, after the choice
        return self


def methods() -> tuple:
    """The registry's homogeneous methods (no baselines: selecting k-means makes no sense)."""
    return tuple(m for m in homogeneous_runner.registered_methods() if m not in homogeneous_runner.BASELINES)


def build_parser():
    parser = homogeneous_runner.build_parser(__doc__, methods(), CONFIG)
    parser.add_argument("--criterion", choices=CRITERIA, default=DEFAULT_CRITERION,
                        help=f"label-free score ({DEFAULT_CRITERION})")
    parser.add_argument("--combine", choices=COMBINE, default=COMBINE[0],
                        help="consensus: the consensus of every grid point's clustering (default); best: the clustering "
                             "of the grid point the criterion keeps (graphcl.selection.select's combine)")
    parser.add_argument("--restarts", type=int, default=1, metavar="R",
                        help="fit the whole grid from R seeds (SEED*R .. SEED*R+R-1; R x the fits) and combine all of "
                             "them (graphcl.selection.select's restarts; default 1)")
    parser.set_defaults(method="scgc_star")
    for action in parser._actions:
        if action.dest == "method":
            action.required = False
    return parser


def adjust(args, cfg: dict):
    """The ``default:`` block (an unseen graph's), the folder and the workers' flags."""
    from graphcl.experiment import load_config

    config_file, section = homogeneous_runner.method_config(args.method, CONFIG)
    cfg = load_config(Path(args.config) if args.config else config_file, section, "default")
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    cfg["criterion"] = args.criterion
    folder = "selected" if args.method == "scgc_star" else f"selected_{args.method}"
    if args.criterion != DEFAULT_CRITERION:
        folder += f"_{args.criterion}"
    flags = ["--criterion", args.criterion, "--combine", args.combine]
    if args.combine != "best":  # recorded unless "best": the files written before the option (all "best") stay comparable
        cfg["combine"] = args.combine
    if args.combine != COMBINE[0]:
        folder += f"_{args.combine}"
    if args.restarts != 1:  # recorded, and a folder of its own, only when not 1 (the files written before it)
        if args.restarts < 1:
            raise SystemExit(f"error: --restarts must be a positive integer, got {args.restarts}")
        cfg["restarts"] = args.restarts
        folder += f"_restarts{args.restarts}"
        flags += ["--restarts", str(args.restarts)]
    return cfg, folder, flags


def main(argv=None) -> int:
    parser = build_parser()
    known = parser.parse_known_args(argv)[0]

    def make(method, **params):
        params.pop("criterion", None)
        params.pop("combine", None)
        params.pop("restarts", None)
        return SelectingEstimator(method, known.criterion, combine=known.combine, restarts=known.restarts, **params)

    return homogeneous_runner.main(argv, doc=__doc__, script=Path(__file__), methods=methods(), config=CONFIG,
                                   make_estimator=make, adjust=adjust, parser=parser)


if __name__ == "__main__":
    sys.exit(main())
