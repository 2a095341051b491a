#!/usr/bin/env python
"""Seconds per epoch of PamC and exact SCGC* on USPS (N = 9 298), each in a fresh process.

    python experiments/bench_epoch_usps.py [--epochs 30]

Both use their USPS reference hyperparameters (configs/scgc.yaml, configs/pamc.yaml: order 4,
influence) and the same pretrained autoencoder (cached per seed); the first epoch is left out of
the mean. Writes ``experiments/results/bench/bench_epoch_usps.json``. Take it with nothing else
running.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
METHODS = {"scgc_star": "scgc.yaml", "pamc": "pamc.yaml"}


def worker(method: str, epochs: int, seed: int) -> dict:
    import warnings

    import numpy as np

    from graphcl.data import load_dataset
    from graphcl.experiment import load_config, peak_rss_mb
    from graphcl.models import PamC, SCGCStar

    cfg = load_config(HERE / "configs" / METHODS[method], method, "usps")
    cfg.update(epochs=epochs, hidden_channels=tuple(cfg["hidden_channels"]))
    data = load_dataset("usps")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = (PamC if method == "pamc" else SCGCStar)(10, random_state=seed, **cfg).fit(data.x, data.edge_index)
    eps = model.timings_["epoch_seconds"][1:]
    return {"method": method, "epochs": epochs, "epoch_seconds_mean": float(np.mean(eps)),
            "epoch_seconds_median": float(np.median(eps)), "prepare_seconds": model.timings_["prepare_seconds"],
            "peak_memory_mb": peak_rss_mb()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(HERE / "results" / "bench" / "bench_epoch_usps.json"))
    p.add_argument("--allow-dirty", action="store_true",
                   help="write into experiments/results/ even with uncommitted changes to graphcl/ or experiments/ "
                        "(recorded as allow_dirty and a -dirty commit); refused otherwise")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.epochs, args.seed)))
        return 0
    from graphcl.experiment import environment, git_commit, now_iso, refuse_dirty_results

    dirty = refuse_dirty_results(args.out, args.allow_dirty)  # before any work

    started, runs = now_iso(), []
    for method in METHODS:
        out = subprocess.run([sys.executable, __file__, "--worker", method, "--epochs", str(args.epochs),
                              "--seed", str(args.seed)], capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{method}: {runs[-1]['epoch_seconds_mean']:.3f} s/epoch (median {runs[-1]['epoch_seconds_median']:.3f}), "
              f"peak RSS {runs[-1]['peak_memory_mb']:.0f} MB", flush=True)
    by = {r["method"]: r for r in runs}
    res = {"benchmark": "bench_epoch_usps", "method": "bench_epoch_usps", "dataset": "usps", "config": {"seed": args.seed},
           "command": " ".join([Path(sys.executable).name, *sys.argv]), "git_commit": git_commit(dirty=True if dirty else None),
           **({"allow_dirty": True} if dirty else {}), "started_at": started,
           "runs": runs, "pamc_speedup": by["scgc_star"]["epoch_seconds_mean"] / by["pamc"]["epoch_seconds_mean"],
           "environment": environment("cpu"), "load_average_at_end": os.getloadavg()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"PamC epoch {res['pamc_speedup']:.2f}x faster than exact SCGC*; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
