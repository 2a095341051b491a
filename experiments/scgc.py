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

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # runnable from a plain checkout

METHODS = ("scgc", "scgc_star", "kmeans", "kmeans_smoothed")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--dataset", required=True, help="usps, acm, dblp, cite, citeseer, cora, photo")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    p.add_argument("--config", default=str(HERE / "configs" / "scgc.yaml"))
    p.add_argument("--out", default=None, help="JSON path (default experiments/results/<method>/<dataset>.json)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)  # worker mode
    return p.parse_args(argv)


def run_one(args: argparse.Namespace, cfg: dict) -> dict:
    """Train and evaluate one seed in this process; returns the run record."""
    import numpy as np
    import torch

    from graphcl.cluster import kmeans
    from graphcl.data import load_dataset
    from graphcl.experiment import load_average, peak_memory_mb
    from graphcl.metrics import evaluate_clustering
    from graphcl.models import SCGC, SCGCStar
    from graphcl.ops import smooth_features

    seed = args.seed
    data = load_dataset(args.dataset)
    y = data.y.numpy()
    k = int(cfg.get("n_clusters") or data.num_classes)
    labels_free = data.clone()
    del labels_free.y  # the estimator never gets labels
    run = {"seed": seed}
    if args.method in ("kmeans", "kmeans_smoothed"):
        t0 = time.perf_counter()
        x = data.x
        if args.method == "kmeans_smoothed":
            x = smooth_features(x, data.edge_index, hops=int(cfg.get("hops", 2)))
        run["prepare_seconds"] = time.perf_counter() - t0
        run["pretrain_seconds"] = 0.0
        t0 = time.perf_counter()
        _, pred = kmeans(x, k, random_state=seed, n_init=int(cfg.get("n_init", 20)))
        run["train_seconds"] = time.perf_counter() - t0
        pred = pred.numpy()
    else:
        est_cls = SCGCStar if args.method == "scgc_star" else SCGC
        params = {key: cfg[key] for key in cfg if key not in ("n_clusters", "hops", "n_init")}
        if "hidden_channels" in params:
            params["hidden_channels"] = tuple(params["hidden_channels"])
        model = est_cls(n_clusters=k, random_state=seed, device=args.device, **params)
        model.fit(labels_free)
        pred = model.labels_
        t = model.timings_
        run.update(
            prepare_seconds=t["prepare_seconds"],
            pretrain_seconds=t["pretrain_seconds"],
            train_seconds=t["train_seconds"],
            epoch_seconds_mean=float(np.mean(t["epoch_seconds"])) if t["epoch_seconds"] else 0.0,
            final_loss=model.loss_history_[-1]["loss"] if model.loss_history_ else float("nan"),
        )
    run.update(evaluate_clustering(y, pred))
    run["n_predicted_clusters"] = int(len(np.unique(pred)))
    run["peak_memory_mb"] = peak_memory_mb(args.device)
    run["load_average"] = load_average()
    del torch
    return run


def main(argv=None) -> int:
    args = parse_args(argv)
    from graphcl.errors import GraphclInputError
    from graphcl.experiment import git_commit, load_config, now_iso, run_seeds_in_subprocesses, write_result

    from graphcl.data import dataset_info

    try:
        dataset_info(args.dataset)  # unknown names fail here, listing the known ones
        if args.method in ("kmeans", "kmeans_smoothed"):
            cfg = load_config(args.config, "kmeans", args.dataset)
            if args.method == "kmeans":
                cfg.pop("hops", None)
        else:
            cfg = load_config(args.config, args.method, args.dataset)
        if args.epochs is not None and args.method not in ("kmeans", "kmeans_smoothed"):
            cfg["epochs"] = args.epochs
        if args.seed is not None:  # worker: one seed, one JSON line
            print(json.dumps(run_one(args, cfg)))
            return 0
        started, commit = now_iso(), git_commit()
        worker = [str(Path(__file__).resolve()), "--method", args.method, "--dataset", args.dataset,
                  "--config", args.config, "--device", args.device]
        if args.epochs is not None:
            worker += ["--epochs", str(args.epochs)]
        out = Path(args.out) if args.out else HERE / "results" / args.method / f"{args.dataset}.json"

        def save(runs):
            return write_result(out, method=args.method, dataset=args.dataset, config=cfg, runs=runs,
                                started_at=started, device=args.device, commit=commit)

        result = save(run_seeds_in_subprocesses(worker, args.seeds, on_run=save))
        m, s = result["mean"], result["std"]
        print(f"{args.method} on {args.dataset}, seeds {[r['seed'] for r in result['runs']]}:")
        print("  " + "  ".join(f"{key.upper()} {m[key]:.4f} ± {s[key]:.4f}" for key in ("acc", "nmi", "ari", "f1")))
        print("  " + "  ".join(f"{key} {m[key]:.1f}s" for key in ("prepare_seconds", "pretrain_seconds", "train_seconds")))
        print(f"  written to {out}")
    except (GraphclInputError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
