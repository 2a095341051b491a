"""Shared driver of the homogeneous reproduction scripts (``scgc.py``, ``pamc.py``).

A script names its methods and how to build each estimator; this module parses the common
command line, runs every seed in a fresh subprocess (one JSON line back per seed), and writes
the DESIGN §5 result JSON after each seed. The k-means baselines are shared by every script.
Labels are read only to score the final, last-epoch clustering.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # runnable from a plain checkout

BASELINES = ("kmeans", "kmeans_smoothed")


def build_parser(doc: str, methods: Sequence[str], config: Path) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", required=True, choices=list(methods))
    p.add_argument("--dataset", required=True, help="usps, acm, dblp, cite, citeseer, cora, photo")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    p.add_argument("--config", default=str(config))
    p.add_argument("--out", default=None, help="JSON path (default experiments/results/<method>/<dataset>.json)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)  # worker mode
    return p


def run_one(args: argparse.Namespace, cfg: dict, make_estimator: Callable[..., object]) -> dict:
    """Train and evaluate one seed in this process; returns the run record."""
    import numpy as np

    from graphcl.cluster import kmeans
    from graphcl.data import load_dataset
    from graphcl.experiment import estimator_params, load_average, peak_memory_mb, without_labels
    from graphcl.metrics import evaluate_clustering
    from graphcl.ops import smooth_features

    seed = args.seed
    data = load_dataset(args.dataset)
    y = data.y.numpy()
    k = int(cfg.get("n_clusters") or data.num_classes)
    labels_free = without_labels(data)  # the estimator never gets labels
    run = {"seed": seed}
    if args.method in BASELINES:
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
        params = estimator_params(cfg)
        model = make_estimator(args.method, n_clusters=k, random_state=seed, device=args.device, **params)
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
    return run


def main(
    argv,
    *,
    doc: str,
    script: Path,
    methods: Sequence[str],
    config: Path,
    make_estimator: Callable[..., object],
    config_section: Callable[[str], str] = lambda method: method,
    extra_args: Callable[[argparse.ArgumentParser], None] | None = None,
    adjust: Callable[[argparse.Namespace, dict], tuple[dict, str, list[str]]] | None = None,
) -> int:
    """Run a reproduction script.

    Args:
        make_estimator: ``(method, **params) -> estimator`` for the non-baseline methods.
        config_section: the YAML section holding a method's hyperparameters.
        extra_args: adds script-specific options to the parser.
        adjust: ``(args, cfg) -> (cfg, result_folder, worker_flags)``: applies script-specific
            options to the config, names the results folder and the flags to pass to workers.
    """
    parser = build_parser(doc, methods, config)
    if extra_args is not None:
        extra_args(parser)
    args = parser.parse_args(argv)
    from graphcl.data import dataset_info
    from graphcl.errors import GraphclInputError
    from graphcl.experiment import git_commit, load_config, now_iso, run_seeds_in_subprocesses, write_result

    try:
        dataset_info(args.dataset)  # unknown names fail here, listing the known ones
        folder, flags = args.method, []
        if args.method in BASELINES:
            cfg = load_config(args.config, "kmeans", args.dataset)
            if args.method == "kmeans":
                cfg.pop("hops", None)
        else:
            cfg = load_config(args.config, config_section(args.method), args.dataset)
            if args.epochs is not None:
                cfg["epochs"] = args.epochs
            if adjust is not None:
                cfg, folder, flags = adjust(args, cfg)
        if args.seed is not None:  # worker: one seed, one JSON line
            print(json.dumps(run_one(args, cfg, make_estimator)))
            return 0
        started, commit = now_iso(), git_commit()
        worker = [str(Path(script).resolve()), "--method", args.method, "--dataset", args.dataset,
                  "--config", args.config, "--device", args.device, *flags]
        if args.epochs is not None:
            worker += ["--epochs", str(args.epochs)]
        out = Path(args.out) if args.out else HERE / "results" / folder / f"{args.dataset}.json"

        def save(runs):
            return write_result(out, method=folder, dataset=args.dataset, config=cfg, runs=runs,
                                started_at=started, device=args.device, commit=commit)

        result = save(run_seeds_in_subprocesses(worker, args.seeds, on_run=save))
        m, s = result["mean"], result["std"]
        print(f"{folder} on {args.dataset}, seeds {[r['seed'] for r in result['runs']]}:")
        print("  " + "  ".join(f"{key.upper()} {m[key]:.4f} ± {s[key]:.4f}" for key in ("acc", "nmi", "ari", "f1")))
        print("  " + "  ".join(f"{key} {m[key]:.1f}s" for key in ("prepare_seconds", "pretrain_seconds", "train_seconds")))
        print(f"  written to {out}")
    except (GraphclInputError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
