#!/usr/bin/env python
"""Reproduce SCGC / SCGC* (and the k-means baselines) on the homogeneous benchmarks.

Examples::

    python experiments/scgc.py --method scgc_star --dataset usps --seeds 0 1 2 3 4 5 6 7 8 9
    python experiments/scgc.py --method kmeans_smoothed --dataset cora --seeds 0 1 2 3 4

Each seed runs in a fresh subprocess; results go to
``experiments/results/<method>/<dataset>.json`` (DESIGN §5). Hyperparameters come from
``experiments/configs/scgc.yaml``: the ``default:`` block, overridden only by the values the
reference README publishes for that dataset. Labels are read only to score the final,
last-epoch clustering.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import homogeneous_runner  # noqa: E402

METHODS = ("scgc", "scgc_star", *homogeneous_runner.BASELINES)


def make_estimator(method: str, **params):
    from graphcl.models import SCGC, SCGCStar

    return (SCGCStar if method == "scgc_star" else SCGC)(**params)


def main(argv=None) -> int:
    return homogeneous_runner.main(argv, doc=__doc__, script=Path(__file__), methods=METHODS,
                                   config=HERE / "configs" / "scgc.yaml", make_estimator=make_estimator)


if __name__ == "__main__":
    sys.exit(main())
