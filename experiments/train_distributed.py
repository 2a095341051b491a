#!/usr/bin/env python
"""Train SCGC* or PamC data-parallel over the processes of a ``torchrun`` launch.

Examples::

    torchrun --nproc_per_node=2 experiments/train_distributed.py --method pamc --dataset usps
    torchrun --nproc_per_node=4 experiments/train_distributed.py --method scgc_star --dataset acm --seed 3
    # two machines, 8 GPUs each (run on both; NCCL is chosen when CUDA is available)
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29400 \\
        experiments/train_distributed.py --method pamc --dataset usps

Every rank loads the dataset, keeps its shard of the nodes with their halo
(``graphcl.distributed``), and trains with ``distributed=True``; hyperparameters come from the
same configs as the single-process scripts (``configs/pamc.yaml``, ``configs/scgc.yaml``).
Rank 0 prints ACC, NMI, ARI and F1 of the last-epoch clustering (labels are read only to
score it) and writes the DESIGN §5 JSON (default
``experiments/results/distributed/<method>_<dataset>_<R>ranks.json``; seeds accumulate).

``--method`` takes the registry's homogeneous methods whose estimator accepts
``distributed=True`` (``graphcl.models.available("homogeneous")``); their config block is the
one the registry names (``graphcl.models.info(name).config``). Writing into
``experiments/results/`` needs a clean tree (``--allow-dirty`` records the exception).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # runnable from a plain checkout



def methods() -> tuple:
    """``--method`` choices: the registered homogeneous estimators that take ``distributed``."""
    from graphcl.models import available, get

    return tuple(m for m in available("homogeneous") if "distributed" in get(m)._get_param_names())


def build_parser() -> argparse.ArgumentParser:
    """This script's command-line parser (the ``--method`` choices read from the registry)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", choices=list(methods()), default="pamc")
    p.add_argument("--dataset", default="usps", help="usps, acm, dblp, cite, cora, photo, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    p.add_argument("--config", default=None, help="YAML (default: the method's registered config file under configs/)")
    p.add_argument("--out", default=None, help="result JSON (default experiments/results/distributed/...)")
    p.add_argument("--backend", choices=("gloo", "nccl"), default=None, help="default: nccl with CUDA, else gloo")
    p.add_argument("--init-timeout", type=float, default=30.0, help="seconds to wait for every rank to join")
    p.add_argument("--allow-dirty", action="store_true",
                   help="write into experiments/results/ even with uncommitted changes to graphcl/, experiments/ "
                        "or the configs (the run records allow_dirty and a -dirty commit)")
    return p


def parse(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    import torch

    from graphcl.data import load_dataset
    from graphcl.distributed import all_reduce_sum, init_from_env, shutdown
    from graphcl.errors import GraphclDistributedError, GraphclInputError
    from graphcl.experiment import (
        REPO_ROOT,
        check_clean_tree,
        estimator_params,
        git_commit,
        load_average,
        load_config,
        now_iso,
        peak_memory_mb,
        without_labels,
        write_result,
    )
    from graphcl.metrics import evaluate_clustering
    from graphcl.models import get, info

    try:
        ctx = init_from_env(args.backend, init_timeout=args.init_timeout)
    except GraphclDistributedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        registered = info(args.method).config
        if registered is None and args.config is None:
            raise GraphclInputError(f"method {args.method!r} registers no config file: give --config")
        config_file = Path(args.config) if args.config else HERE / "configs" / registered[0]
        section = registered[1] if registered else args.method
        out = Path(args.out) if args.out else (
            HERE / "results" / "distributed" / f"{args.method}_{args.dataset}_{ctx.world_size}ranks.json")
        dirty = check_clean_tree(out, args.allow_dirty, [config_file])  # every rank: before any training
        started, commit = now_iso(), git_commit(dirty=True if dirty else None)
        cfg = load_config(config_file, section, args.dataset)
        if args.epochs is not None:
            cfg["epochs"] = args.epochs
        data = load_dataset(args.dataset)
        y = data.y.numpy()
        labels_free = without_labels(data)  # the estimator never gets labels
        params = estimator_params(cfg)
        k = int(cfg.get("n_clusters") or data.num_classes)
        model = get(args.method)(n_clusters=k, random_state=args.seed, distributed=True, **params)
        t0 = time.perf_counter()
        model.fit(labels_free)
        wall = time.perf_counter() - t0
        peaks = torch.zeros(ctx.world_size, dtype=torch.float64, device=ctx.device)
        peaks[ctx.rank] = peak_memory_mb(str(ctx.device))
        peaks = all_reduce_sum(peaks, ctx.loss_group, "report").tolist()
        if ctx.is_main:
            t = model.timings_
            run = {"seed": args.seed, "world_size": ctx.world_size, "backend": torch.distributed.get_backend(),
                   "prepare_seconds": t["prepare_seconds"], "pretrain_seconds": t["pretrain_seconds"],
                   "train_seconds": t["train_seconds"], "fit_seconds": wall,
                   "epoch_seconds_mean": sum(t["epoch_seconds"]) / max(1, len(t["epoch_seconds"])),
                   "final_loss": model.loss_history_[-1]["loss"] if model.loss_history_ else float("nan")}
            run.update(evaluate_clustering(y, model.labels_))
            run["n_predicted_clusters"] = int(len(set(model.labels_.tolist())))
            run["peak_memory_mb"] = max(peaks)
            run["peak_memory_mb_per_rank"] = peaks
            run["load_average"] = load_average()
            script = Path(__file__).resolve()
            script = script.relative_to(REPO_ROOT) if script.is_relative_to(REPO_ROOT) else script
            run.update(command=shlex.join(["torchrun", f"--nproc_per_node={ctx.world_size}", str(script), *sys.argv[1:]]),
                       git_commit=commit, started_at=started, **({"allow_dirty": True} if dirty else {}))
            cfg_record = dict(cfg, world_size=ctx.world_size)
            write_result(out, method=args.method, dataset=args.dataset, config=cfg_record, runs=[run],
                         started_at=started, device=str(ctx.device), commit=commit, command=run["command"],
                         extra={"family": "distributed"})
            print(f"{args.method} on {args.dataset}, {ctx.world_size} ranks ({run['backend']}), seed {args.seed}: "
                  + "  ".join(f"{key.upper()} {run[key]:.4f}" for key in ("acc", "nmi", "ari", "f1")))
            print(f"  {run['epoch_seconds_mean']:.3f} s/epoch, fit {wall:.1f} s, peak memory per rank "
                  + ", ".join(f"{p:.0f}" for p in peaks) + f" MB; written to {out}")
    except (GraphclInputError, GraphclDistributedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
