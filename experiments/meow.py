#!/usr/bin/env python
"""Reproduce MEOW / AdaMEOW (and the k-means baselines) on the heterogeneous benchmarks.

Examples::

    python experiments/meow.py --method meow --dataset acm --seeds 0 1 2 3 4
    python experiments/meow.py --method adameow --dataset acm --seeds 0 1 2
    python experiments/meow.py --method kmeans_smoothed --dataset dblp --seeds 0 1 2 3 4
    python experiments/meow.py --method meow --dataset acm --seeds 0 1 2 --set patience=20
    python experiments/meow.py --method adameow --dataset aminer --seeds 0 --checkpoint-dir ../ckpt   # again to continue

Each seed runs in a fresh subprocess; results go to
``experiments/results/<method>/<dataset>.json`` (DESIGN §5, with the ``classification``
block; the heterogeneous baselines write ``<dataset>_hetero.json`` so they never mix with the
homogeneous ones of the same name). Hyperparameters come from
``experiments/configs/meow.yaml``; ``--set KEY=VALUE`` changes one for an ablation, which goes
to ``experiments/results/ablations/`` (``docs/results.md`` lists it apart, labelled with what
changed), never into the default config's file. Training never sees labels: the estimator gets the graph
with the labels and splits removed, and stops by training-loss patience (or a fixed epoch
count); the embedding is the eval-mode output of the last epoch. Labels are read only to
evaluate it, by the HeCo protocol: logistic regression on the frozen embeddings with the
20/40/60-per-class splits (model selection on the validation split), and k-means (the
clustering metrics ACC/NMI/ARI/F1 of ``labels_``, plus NMI/ARI over 10 k-means runs).

``--method`` takes the registry's heterogeneous methods (``graphcl.models.available(
"heterogeneous")``; class and config block from ``graphcl.models.get`` / ``info``) plus the two
baselines. Writing into ``experiments/results/`` needs a clean tree (``--allow-dirty`` records
the exception); ``--threads 1`` per job when several run side by side.

A seed that takes longer than one sitting (AdaMEOW on AMiner: 3,000 epochs) can run with
``--checkpoint-dir DIR``: its training checkpoint (every ``--checkpoint-every`` epochs), epoch
log and start record go to ``DIR``, and the same command run again from the same commit continues
it from its last checkpoint (:class:`graphcl.experiment.SeedCheckpoint`). The estimator's resume
is exact, so the seed's result equals an uninterrupted run's; its record keeps the first start
time, lists each resume (``resumed``), and its ``train_seconds`` sums the epochs of every
process (epochs run again after a resume count once).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # runnable from a plain checkout
sys.path.insert(0, str(HERE))

import homogeneous_runner  # noqa: E402  (the options every script shares)

BASELINES = ("kmeans", "kmeans_smoothed")
CONFIG = HERE / "configs" / "meow.yaml"
DATASETS = ("acm", "dblp", "aminer", "imdb", "freebase")
RATIOS = ("20", "40", "60")


def smoothed_target_features(data, target: str, metapaths: dict, hops: int):
    r"""The heterogeneous ``kmeans_smoothed`` input: :math:`\frac1M\sum_m \hat A_m^{h} X`, with
    :math:`\hat A_m` the row-normalised meta-path adjacency (binary, symmetric, self-loops).
    A featureless target uses :math:`X = I`: the rows of the smoothed operator, densified
    (``N × N``; only for this baseline, at the benchmarks' N ≤ 7 000)."""
    import torch

    from graphcl.data.metapath import metapath_adjacency
    from graphcl.ops import smooth_features

    n = int(data[target].num_nodes)
    x = data[target].get("x")
    x = torch.eye(n) if x is None else x.float()
    out = torch.zeros_like(x)
    for mp in metapaths.values():
        ei, _ = metapath_adjacency(data, mp)
        ei = ei[:, ei[0] != ei[1]]
        out += smooth_features(x, ei, None, hops=hops) / len(metapaths)
    return out


def methods() -> tuple:
    """``--method`` choices: the registry's heterogeneous methods, then the baselines."""
    from graphcl.models import available

    return (*available("heterogeneous"), *BASELINES)


def method_config(method: str) -> tuple:
    """``(config file, YAML section)``: the registry's for an estimator, meow.yaml's ``kmeans``
    block for a baseline."""
    if method in BASELINES:
        return CONFIG, "kmeans"
    from graphcl.models import info

    cfg = info(method).config
    return (HERE / "configs" / cfg[0], cfg[1]) if cfg else (CONFIG, method)


def epochs_key(cfg: dict) -> str:
    """The config's name for the epoch budget: ``max_epochs`` (older configs) or ``epochs``."""
    return "max_epochs" if "max_epochs" in cfg else "epochs"


def estimator_kwargs(cls, cfg: dict) -> dict:
    """An estimator's keyword arguments from a config block, with an older config's
    ``max_epochs`` (the deprecated name) under ``epochs``."""
    from graphcl.experiment import estimator_params

    params = estimator_params(cfg)
    if "max_epochs" in params and "epochs" in set(cls._get_param_names()):
        params["epochs"] = params.pop("max_epochs")
    return params


def run_one(args, cfg: dict) -> dict:
    import numpy as np
    import torch

    from graphcl.cluster import kmeans
    from graphcl.data import load_hetero_dataset
    from graphcl.experiment import load_average, peak_memory_mb, without_labels
    from graphcl.metrics import evaluate_classification, evaluate_clustering, evaluate_clustering_runs

    data = load_hetero_dataset(args.dataset, **({"features": args.features} if args.features else {}))
    target = data.target_node_type
    y = data[target].y.numpy()
    k = int(len(np.unique(y)))
    run = {"seed": args.seed}
    if args.method in BASELINES:
        t0 = time.perf_counter()
        if args.method == "kmeans":
            x = data[target].get("x")
            if x is None:
                raise SystemExit(f"error: the {args.dataset} target type {target!r} has no features: only kmeans_smoothed applies")
            emb = x.float()
        else:
            emb = smoothed_target_features(data, target, data.metapaths, int(cfg.get("hops", 2)))
        run["prepare_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        _, pred = kmeans(emb, k, random_state=args.seed, n_init=int(cfg.get("n_init", 10)))
        run["train_seconds"] = time.perf_counter() - t0
        pred, emb = pred.numpy(), emb.numpy()
    else:
        from graphcl.models import get

        cls = get(args.method)
        params = estimator_kwargs(cls, cfg)
        resumable, resume = None, None
        if args.checkpoint_dir:
            from graphcl.experiment import SeedCheckpoint, git_commit

            resumable = SeedCheckpoint(args.checkpoint_dir, args.run_name, args.seed, args.run_commit or git_commit(), cfg,
                                       args.checkpoint_every)
            resume = resumable.begin()
            params.update(resumable.estimator_arguments())
        model = cls(n_clusters=k, random_state=args.seed, device=args.device, **params)
        model.fit(without_labels(data, target), resume=resume)
        pred, emb = model.labels_, model.embeddings_
        t = model.timings_
        seconds = resumable.epoch_seconds() if resumable else t["epoch_seconds"]
        train = t["train_seconds"] if resume is None else float(np.sum(seconds))  # a resumed run: every process's epochs
        run.update(prepare_seconds=t["prepare_seconds"], train_seconds=train, epochs=model.n_epochs_,
                   epoch_seconds_mean=float(np.mean(seconds)), final_loss=model.loss_history_[-1]["loss"])
        # every argument the estimator ran with, its defaults included: a row stays readable after a default changes
        recorded = model.get_params()
        if resumable:
            recorded = {key: v for key, v in recorded.items() if key not in resumable.RUNTIME_ARGUMENTS}
            run.update(resumable.provenance())
        run["estimator_params"] = json.loads(json.dumps(recorded, default=str))
    run["pretrain_seconds"] = 0.0
    run.update(evaluate_clustering(y, pred))
    run["n_predicted_clusters"] = int(len(np.unique(pred)))
    runs10 = evaluate_clustering_runs(emb, y, k, runs=10, seed=args.seed)
    run["kmeans10_nmi"], run["kmeans10_ari"] = runs10["nmi"], runs10["ari"]
    t0 = time.perf_counter()
    emb_t = torch.as_tensor(np.asarray(emb), dtype=torch.float32)
    run["classification"] = {}
    for ratio in RATIOS:
        store = data[target]
        idx = [store[f"{part}_mask_{ratio}"].nonzero().view(-1) for part in ("train", "val", "test")]
        res = evaluate_classification(emb_t, data[target].y, *idx, lr=float(cfg.get("eval_lr", 0.01)),
                                      weight_decay=float(cfg.get("eval_weight_decay", 0.0)), seed=args.seed)
        run["classification"][ratio] = {key: float(res[key]) for key in ("macro_f1", "micro_f1", "auc")}
    run["evaluation_seconds"] = time.perf_counter() - t0
    run["peak_memory_mb"] = peak_memory_mb(args.device)
    run["load_average"] = load_average()
    return run


def build_parser() -> argparse.ArgumentParser:
    """This script's command-line parser (the ``--method`` choices read from the registry)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", required=True, choices=list(methods()))
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="override the config's epoch budget (epochs)")
    p.add_argument("--features", choices=("meow", "heco"), default=None, help="feature set (default: the loader's)")
    p.add_argument("--config", default=None,
                   help="YAML (default: the method's registered config file, configs/meow.yaml for the baselines)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override one config value (YAML value, repeatable): an ablation, written by default to "
                        "experiments/results/ablations/<method>_<dataset>_<KEY>-<VALUE>….json, never over the "
                        "default config's results")
    p.add_argument("--out", default=None, help="JSON path (default experiments/results/<method>/<dataset>.json); "
                                               "seeds of the same config already in the file are kept")
    p.add_argument("--device", default="cpu")
    p.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                   help="make each seed resumable: its training checkpoint, epoch log and start record go to DIR, and "
                        "running the same command again (same commit, same config) continues an interrupted seed from "
                        "its last checkpoint instead of starting over; the result equals an uninterrupted run's")
    p.add_argument("--checkpoint-every", type=int, default=25, metavar="N",
                   help="epochs between a resumable seed's checkpoints (default 25)")
    homogeneous_runner.add_common_options(p)
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)  # worker mode
    p.add_argument("--run-commit", default=None, help=argparse.SUPPRESS)  # worker mode: the commit its record names
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from graphcl.errors import GraphclInputError
    from graphcl.experiment import apply_threads

    try:
        apply_threads(args.threads)  # before torch is imported: the workers inherit it
    except GraphclInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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
        config_file, section = method_config(args.method)
        config_file = Path(args.config) if args.config else config_file
        cfg = load_config(config_file, section, args.dataset)
        overrides = parse_overrides(args.overrides, cfg, homogeneous_runner.estimator_arguments(args.method))
        cfg.update(overrides)
        if args.epochs is not None and args.method not in BASELINES:
            cfg[epochs_key(cfg)] = args.epochs
        if args.features:
            cfg["features"] = args.features
        suffix = homogeneous_runner.ablation_suffix(overrides)
        args.run_name = f"{args.method}_{args.dataset}{suffix}"
        if args.checkpoint_dir and args.method in BASELINES:
            raise GraphclInputError(f"--checkpoint-dir: {args.method} does not train (nothing to resume)")
        if args.checkpoint_every < 1:
            raise GraphclInputError(f"--checkpoint-every must be at least 1, got {args.checkpoint_every}")
        if args.seed is not None:
            cfg.pop("features", None)
            print(json.dumps(run_one(args, cfg)))
            return 0
        worker = [str(Path(__file__).resolve()), "--method", args.method, "--dataset", args.dataset,
                  "--config", str(Path(config_file).resolve()), "--device", args.device]
        if args.epochs is not None:
            worker += ["--epochs", str(args.epochs)]
        if args.features:
            worker += ["--features", args.features]
        for pair in args.overrides:
            worker += ["--set", pair]
        name = args.dataset if args.method not in BASELINES else f"{args.dataset}_hetero"
        config_out = HERE / "results" / args.method / f"{name}.json"
        ablation_out = HERE / "results" / "ablations" / f"{args.method}_{name}{suffix}.json"
        out = Path(args.out) if args.out else (ablation_out if overrides else config_out)
        if overrides and out.resolve() == config_out.resolve():  # an ablation never replaces the config's results
            raise GraphclInputError(f"--set writes an ablation: give --out another file than {config_out}")
        dirty = check_clean_tree(out, args.allow_dirty, [config_file])  # before any training
        started, commit = now_iso(), git_commit(dirty=True if dirty else None)

        def save(runs):
            return write_result(out, method=args.method, dataset=args.dataset, config=cfg, runs=runs,
                                started_at=started, device=args.device, commit=commit, argv=invocation,
                                extra={"family": "heterogeneous", **({"overrides": overrides} if overrides else {})})

        if args.checkpoint_dir:  # the worker's record names the commit this process checked
            worker += ["--checkpoint-dir", str(Path(args.checkpoint_dir).resolve()), "--checkpoint-every",
                       str(args.checkpoint_every), "--run-commit", commit]
        invocation = [str(Path(__file__)), *(sys.argv[1:] if argv is None else argv)]
        runs = run_seeds_in_subprocesses(worker, args.seeds, on_run=save, commit=commit, allow_dirty=dirty,
                                         threads=args.threads, argv=invocation)
        result = save(runs)
        m, s = result["mean"], result["std"]
        print(f"{args.method} on {args.dataset}, seeds {[r['seed'] for r in result['runs']]}:")
        print("  clustering: " + "  ".join(f"{key.upper()} {m[key]:.4f} ± {s[key]:.4f}" for key in ("acc", "nmi", "ari", "f1")))
        for ratio in RATIOS:
            c, cs = m["classification"][ratio], s["classification"][ratio]
            print(f"  {ratio} labels/class: " + "  ".join(f"{key} {c[key]:.4f} ± {cs[key]:.4f}" for key in ("macro_f1", "micro_f1", "auc")))
        print(f"  written to {out}")
    except (GraphclInputError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
