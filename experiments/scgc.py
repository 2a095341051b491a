#!/usr/bin/env python
"""Reproduce SCGC / SCGC* (and the k-means baselines) on the homogeneous benchmarks.

Examples::

    python experiments/scgc.py --method scgc_star --dataset usps --seeds 0 1 2 3 4 5 6 7 8 9
    python experiments/scgc.py --method kmeans_smoothed --dataset cora --seeds 0 1 2 3 4
    python experiments/scgc.py --method scgc_star --dataset dblp --seeds 0 1 2 --set pretrain_random_state=0

Each seed runs in a fresh subprocess; results go to
``experiments/results/<method>/<dataset>.json`` (DESIGN §5). Hyperparameters come from
``experiments/configs/scgc.yaml``: the ``default:`` block, overridden only by the values the
reference README publishes for that dataset. Labels are read only to score the final,
last-epoch clustering.

``--method`` takes every homogeneous method of the registry (``graphcl.models.available``)
except those configured in ``pamc.yaml`` (``pamc.py`` runs them, with its ``--meta-nodes``
option), plus the two baselines; a registered method reads its config block from the file the
registry names. Writing into ``experiments/results/`` needs a clean tree (``--allow-dirty``
records the exception); ``--threads 1`` per job when several run side by side.
``--set KEY=VALUE`` (any script built on ``homogeneous_runner``) changes one config value or
estimator argument: an ablation, written to ``experiments/results/ablations/`` and listed apart
in ``docs/results.md``, never into the config's own file.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import homogeneous_runner  # noqa: E402

CONFIG = HERE / "configs" / "scgc.yaml"


def methods() -> tuple:
    """``--method`` choices: the registry's homogeneous methods not configured in pamc.yaml,
    then the baselines."""
    return homogeneous_runner.registered_methods(lambda info: not (info.config and info.config[0] == "pamc.yaml"))


def build_parser():
    """This script's command-line parser (read from the registry when called)."""
    return homogeneous_runner.build_parser(__doc__, methods(), CONFIG)


def main(argv=None) -> int:
    return homogeneous_runner.main(argv, doc=__doc__, script=Path(__file__), methods=methods(), config=CONFIG,
                                   parser=build_parser())


if __name__ == "__main__":
    sys.exit(main())
