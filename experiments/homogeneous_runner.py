"""Shared driver of the homogeneous reproduction scripts (``scgc.py``, ``pamc.py``).

A script names which registered methods it serves (``graphcl.models.available("homogeneous")``
filtered by their registered config file); this module parses the common command line, builds
each estimator from the registry (``graphcl.models.get``), reads its hyperparameters from the
config block the registry names (``graphcl.models.info(name).config``), runs every seed in a
fresh subprocess (one JSON line back per seed), and writes the DESIGN §5 result JSON after
each seed. The k-means baselines are not estimators: they are a local list shared by every
script. Labels are read only to score the final, last-epoch clustering.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # runnable from a plain checkout

BASELINES = ("kmeans", "kmeans_smoothed")
CONFIGS = HERE / "configs"


def registered_methods(select: Callable[[object], bool] = lambda info: True) -> tuple:
    """The registered homogeneous methods whose :class:`~graphcl.registry.MethodInfo`
    passes ``select``, in registration order, then the baselines."""
    from graphcl.models import available, info

    return (*(m for m in available("homogeneous") if select(info(m))), *BASELINES)


def method_config(method: str, script_config: Path) -> tuple[Path, str]:
    """``(config file, YAML section)`` of a method: the registry's for an estimator (under
    ``experiments/configs``), the script's own file and its ``kmeans`` section for a baseline."""
    if method in BASELINES:
        return script_config, "kmeans"
    from graphcl.models import info

    cfg = info(method).config
    return (CONFIGS / cfg[0], cfg[1]) if cfg else (script_config, method)


def add_common_options(p: argparse.ArgumentParser) -> None:
    """``--allow-dirty`` and ``--threads``, shared by every script that writes results."""
    p.add_argument("--allow-dirty", action="store_true",
                   help="write into experiments/results/ even with uncommitted changes to graphcl/, experiments/ "
                        "or the configs (each run records allow_dirty and a -dirty commit; the file is marked "
                        "legacy_provenance); without it such a run is refused before training")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch threads of each seed's process (OMP_NUM_THREADS; default: inherited, else torch's "
                        "default). Jobs run side by side: 1 each, at most as many jobs as cores")


def build_parser(doc: str, methods: Sequence[str], config: Path) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", required=True, choices=list(methods))
    p.add_argument("--dataset", required=True, help="usps, acm, dblp, cite, citeseer, cora, photo")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    p.add_argument("--config", default=None,
                   help=f"YAML (default: the method's registered config file under {CONFIGS.name}/; "
                        f"{config.name} for the baselines)")
    p.add_argument("--out", default=None, help="JSON path (default experiments/results/<method>/<dataset>.json); "
                                               "seeds of the same config already in the file are kept")
    p.add_argument("--device", default="cpu")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override one config value or estimator argument (YAML value, repeatable): an ablation, "
                        "written by default to experiments/results/ablations/<folder>_<dataset>_<KEY>-<VALUE>.json, "
                        "never over the config's own results")
    add_common_options(p)
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)  # worker mode
    return p


def ablation_suffix(overrides: dict) -> str:
    """``_KEY-VALUE`` per override, file-name safe (``top_k=[70, 70]`` -> ``_top_k-70-70``)."""
    parts = []
    for key, value in overrides.items():
        text = "-".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        parts.append("_" + "".join(c if c.isalnum() or c in "._-" else "" for c in f"{key}-{text}"))
    return "".join(parts)


def estimator_arguments(method: str) -> list:
    """The arguments ``--set`` may name beyond the config block: the estimator's own (not those
    the script sets itself; none for a baseline)."""
    if method in BASELINES:
        return []
    from graphcl.models import get

    return sorted(set(get(method)._get_param_names()) - {"n_clusters", "random_state", "device"})


def adopt_fit(pipeline, est, total_seconds: float) -> None:
    """Give a pipeline object (several fits behind one ``fit``, e.g. ``selected.py``,
    ``restarts.py``) the kept estimator's results, as :func:`run_one` reads them: its labels,
    embeddings and loss history, and the pipeline's whole wall time as train time (every fit,
    pretraining included)."""
    pipeline.labels_, pipeline.loss_history_, pipeline.embeddings_ = est.labels_, est.loss_history_, est.embeddings_
    pipeline.timings_ = {"prepare_seconds": est.timings_["prepare_seconds"], "pretrain_seconds": 0.0,
                         "train_seconds": total_seconds, "epoch_seconds": est.timings_["epoch_seconds"]}


def make_estimator(method: str, **params):
    """The registered estimator ``method`` built with ``params``."""
    from graphcl.models import get

    return get(method)(**params)


def run_one(args: argparse.Namespace, cfg: dict, make: Callable[..., object] = make_estimator) -> dict:
    """Train and evaluate one seed in this process; returns the run record."""
    import numpy as np

    from graphcl.cluster import kmeans
    from graphcl.data import load_dataset
    from graphcl.experiment import estimator_params, load_average, pack_labels, peak_memory_mb, without_labels
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
        model = make(args.method, n_clusters=k, random_state=seed, device=args.device, **params)
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
        # selected.py (every grid point and the choice) and restarts.py (every restart and the kept
        # one): evaluation only, after the choice was made, of how each candidate would have scored,
        # so that the results page can measure whether the criterion orders them
        for key, rows_key, labels_attr in (("selection", "grid", "selection_labels_"),
                                           ("restarts", "restarts", "restart_labels_")):
            record = getattr(model, key + "_", None)
            if record is None:
                continue
            run[key] = record
            for row, labels in zip(record[rows_key], getattr(model, labels_attr, [])):
                scores = evaluate_clustering(y, labels)
                row["evaluation"] = {"acc": scores["acc"], "nmi": scores["nmi"], "ari": scores["ari"]}
                # the candidate's partition itself, so that a criterion proposed later (agreement between
                # candidates, a score in a space they share) can be studied on these runs without refitting
                row["labels"] = pack_labels(labels)
    # label-free scores of the final clustering (graphcl.selection's criteria): whether they order
    # restarts (seeds) the way the labels do is measured from these records (docs/results.md)
    from graphcl.selection import clustering_scores

    emb = getattr(model, "embeddings_", None) if args.method not in BASELINES else None
    run["label_free"] = clustering_scores(data.edge_index, getattr(data, "edge_weight", None), pred,
                                          x.numpy() if emb is None else emb, random_state=seed)
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
    make_estimator: Callable[..., object] = make_estimator,
    extra_args: Callable[[argparse.ArgumentParser], None] | None = None,
    adjust: Callable[[argparse.Namespace, dict], tuple[dict, str, list[str]]] | None = None,
    parser: Optional[argparse.ArgumentParser] = None,
) -> int:
    """Run a reproduction script.

    Args:
        methods: The ``--method`` choices (:func:`registered_methods`).
        config: The script's config file (the baselines' ``kmeans`` block; a registered
            method reads the file the registry names).
        make_estimator: ``(method, **params) -> estimator`` for the non-baseline methods
            (default: the registry's class).
        extra_args: adds script-specific options to the parser.
        adjust: ``(args, cfg) -> (cfg, result_folder, worker_flags)``: applies script-specific
            options to the config, names the results folder and the flags to pass to workers.
        parser: A parser already built (with ``extra_args`` applied); by default built here.
    """
    if parser is None:
        parser = build_parser(doc, methods, config)
        if extra_args is not None:
            extra_args(parser)
    args = parser.parse_args(argv)
    from graphcl.errors import GraphclInputError
    from graphcl.experiment import apply_threads

    try:
        apply_threads(args.threads)  # before torch is imported: the workers inherit it
    except GraphclInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from graphcl.data import dataset_info
    from graphcl.experiment import (
        check_clean_tree,
        git_commit,
        load_config,
        now_iso,
        parse_overrides,
        run_seeds_in_subprocesses,
        write_result,
    )

    try:
        dataset_info(args.dataset)  # unknown names fail here, listing the known ones
        folder, flags = args.method, []
        config_file, section = method_config(args.method, config)
        config_file = Path(args.config) if args.config else config_file
        cfg = load_config(config_file, section, args.dataset)
        if args.method == "kmeans":
            cfg.pop("hops", None)
        overrides = {}
        if args.overrides:
            if args.method in BASELINES:
                raise GraphclInputError(f"--set changes a method's configuration; {args.method} is a baseline")
            overrides = parse_overrides(args.overrides, cfg, estimator_arguments(args.method))
        if args.method not in BASELINES:
            if args.epochs is not None:
                cfg["epochs"] = args.epochs
            if adjust is not None:
                cfg, folder, flags = adjust(args, cfg)
            cfg.update(overrides)
        if args.seed is not None:  # worker: one seed, one JSON line
            print(json.dumps(run_one(args, cfg, make_estimator)))
            return 0
        config_out = HERE / "results" / folder / f"{args.dataset}.json"
        ablation_out = HERE / "results" / "ablations" / f"{folder}_{args.dataset}{ablation_suffix(overrides)}.json"
        out = Path(args.out) if args.out else (ablation_out if overrides else config_out)
        if overrides and out.resolve() == config_out.resolve():  # an ablation never replaces the config's results
            raise GraphclInputError(f"--set writes an ablation: give --out another file than {config_out}")
        dirty = check_clean_tree(out, args.allow_dirty, [config_file])  # before any training
        started, commit = now_iso(), git_commit(dirty=True if dirty else None)
        worker = [str(Path(script).resolve()), "--method", args.method, "--dataset", args.dataset,
                  "--config", str(Path(config_file).resolve()), "--device", args.device, *flags]
        if args.epochs is not None:
            worker += ["--epochs", str(args.epochs)]
        for pair in args.overrides:
            worker += ["--set", pair]

        def save(runs):
            return write_result(out, method=folder, dataset=args.dataset, config=cfg, runs=runs,
                                started_at=started, device=args.device, commit=commit, argv=invocation,
                                extra={"overrides": overrides} if overrides else None)

        invocation = [str(Path(script)), *(sys.argv[1:] if argv is None else argv)]
        runs = run_seeds_in_subprocesses(worker, args.seeds, on_run=save, commit=commit, allow_dirty=dirty,
                                         threads=args.threads, argv=invocation)
        result = save(runs)
        m, s = result["mean"], result["std"]
        print(f"{folder} on {args.dataset}, seeds {[r['seed'] for r in result['runs']]}:")
        print("  " + "  ".join(f"{key.upper()} {m[key]:.4f} ± {s[key]:.4f}" for key in ("acc", "nmi", "ari", "f1")))
        print("  " + "  ".join(f"{key} {m[key]:.1f}s" for key in ("prepare_seconds", "pretrain_seconds", "train_seconds")))
        print(f"  written to {out}")
    except (GraphclInputError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
