"""Reproduction harness shared by ``experiments/*.py``: configs, one subprocess per seed,
the benchmark JSON contract (DESIGN §5) and its provenance keys."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from graphcl.errors import GraphclInputError

METRICS = ("acc", "nmi", "ari", "f1")
PROVENANCE_KEYS = ("method", "dataset", "config", "command", "git_commit", "started_at", "runs", "environment")
REPO_ROOT = Path(__file__).resolve().parents[1]


#: Config keys that configure an experiment or its evaluation, not an estimator.
NON_ESTIMATOR_KEYS = ("n_clusters", "hops", "n_init", "eval_lr", "eval_weight_decay")


def estimator_params(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """An estimator's keyword arguments from a config block: everything but
    :data:`NON_ESTIMATOR_KEYS`, with a YAML list ``hidden_channels`` as a tuple."""
    params = {k: v for k, v in cfg.items() if k not in NON_ESTIMATOR_KEYS}
    if isinstance(params.get("hidden_channels"), list):
        params["hidden_channels"] = tuple(params["hidden_channels"])
    return params


def without_labels(data: Any, target: Optional[str] = None) -> Any:
    """A copy of a graph without its labels or HeCo splits (what an estimator is given): ``y``
    and the ``*_mask_20/40/60`` of ``data`` (a ``Data``) or of ``data[target]`` (a ``HeteroData``)."""
    free = data.clone()
    store = free[target] if target else free
    for key in list(store.keys()):
        if key == "y" or key.endswith(("_mask_20", "_mask_40", "_mask_60")):
            del store[key]
    return free


def load_config(path: os.PathLike | str, method: str, dataset: str) -> Dict[str, Any]:
    """Read ``path`` (YAML): ``{method: {default: {...}, <dataset>: {...}}}``.

    The dataset block overrides the ``default:`` block key by key; a dataset without a block
    gets ``default:`` unchanged (DESIGN §4.7).
    """
    import yaml

    path = Path(path)
    if not path.exists():
        raise GraphclInputError(f"config file {path} does not exist")
    with open(path) as fh:
        cfg = yaml.safe_load(fh) or {}
    if method not in cfg:
        raise GraphclInputError(f"config file {path} has no block for method {method!r}")
    block = cfg[method] or {}
    out = dict(block.get("default") or {})
    out.update(block.get(dataset) or {})
    return out


def parse_overrides(pairs: Sequence[str], cfg: Mapping[str, Any], extra_keys: Sequence[str] = ()) -> Dict[str, Any]:
    """``KEY=VALUE`` strings (a command line's ``--set``) as a dict of config overrides.

    Each value is read as YAML (``20``, ``0.5``, ``1e-4``, ``[70, 70]``, ``null``). A key must be
    in ``cfg`` (the loaded config block) or in ``extra_keys`` (say, the estimator's other
    arguments), so a typo fails here rather than after the data are loaded.

    Raises:
        GraphclInputError: a string without ``=``, an empty key, an unknown key or a value
            that is not valid YAML.
    """
    import yaml

    out: Dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GraphclInputError(f"--set expects KEY=VALUE, got {pair!r}")
        if key not in cfg and key not in extra_keys:
            known = ", ".join(sorted(set(cfg) | set(extra_keys)))
            raise GraphclInputError(f"--set {key}: not a key of this config block or an estimator argument (keys: {known})")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise GraphclInputError(f"--set {key}: {value!r} is not a valid YAML value ({exc})") from None
        if isinstance(parsed, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                parsed = float(parsed)
            except ValueError:
                pass
        out[key] = parsed
    return out


def git_commit() -> str:
    """The checkout's commit (with ``-dirty`` when there are uncommitted changes)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except Exception:
        return "unknown"


def environment(device: str = "cpu") -> Dict[str, Any]:
    import torch
    import torch_geometric

    from graphcl.ops import get_scatter_backend

    env = {
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "python": platform.python_version(),
        "device": device,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "scatter_backend": get_scatter_backend(),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


def load_average() -> float:
    """1-minute load average (recorded with each run: timings are comparable only when ~idle)."""
    return float(os.getloadavg()[0])


def peak_memory_mb(device: str = "cpu") -> float:
    """Peak resident memory of this process (CPU) or peak CUDA allocation (GPU), in MB."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB: ``VmHWM`` from ``/proc/self/status``.

    Not ``ru_maxrss``: Linux carries that over from the parent through fork and exec, so a
    worker started by a parent that once held a large graph would report the parent's peak.
    Falls back to ``ru_maxrss`` where ``/proc`` is missing.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def summarize(runs: Sequence[Mapping[str, Any]]) -> tuple[Dict[str, Any], Dict[str, Any]]:
    """Mean and (population) std over seeds of every numeric key of the runs; nested dicts
    (the heterogeneous ``classification`` block) are summarised key by key."""
    mean: Dict[str, Any] = {}
    std: Dict[str, Any] = {}
    for k, v in runs[0].items():
        if k == "seed":
            continue
        if isinstance(v, Mapping) and all(isinstance(r.get(k), Mapping) for r in runs):
            mean[k], std[k] = summarize([r[k] for r in runs])
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and all(
            isinstance(r.get(k), (int, float)) for r in runs  # keys every run has
        ):
            mean[k] = float(np.mean([r[k] for r in runs]))
            std[k] = float(np.std([r[k] for r in runs]))
    return mean, std


def run_seeds_in_subprocesses(
    worker_argv: Sequence[str], seeds: Sequence[int], log=print, on_run=None
) -> List[Dict[str, Any]]:
    """Run ``python <worker_argv> --seed S`` once per seed, each in a fresh process.

    The worker prints one JSON object on its last stdout line; a fresh process per seed
    makes ``peak_memory_mb`` belong to that seed alone. ``on_run(runs_so_far)`` is called
    after every seed (the scripts write their JSON there, so a long sweep that is stopped
    keeps the seeds it finished).
    """
    runs = []
    for seed in seeds:
        cmd = [sys.executable, *worker_argv, "--seed", str(seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
            raise RuntimeError(f"seed {seed} failed (exit {proc.returncode}): {tail[0]}\n  command: {shlex.join(cmd)}")
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        log(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in run.items()}))
        runs.append(run)
        if on_run is not None:
            on_run(list(runs))
    return runs


def write_result(
    path: os.PathLike | str,
    *,
    method: str,
    dataset: str,
    config: Mapping[str, Any],
    runs: List[Dict[str, Any]],
    started_at: str,
    device: str = "cpu",
    extra: Optional[Mapping[str, Any]] = None,
    commit: Optional[str] = None,
) -> Dict[str, Any]:
    """Write the DESIGN §5 JSON (merging runs of other seeds already in the file).

    ``commit`` is the code version that produced the runs (take it when the sweep starts);
    by default the checkout's commit now.
    """
    path = Path(path)
    previous: List[Dict[str, Any]] = []
    if path.exists():
        with open(path) as fh:
            old = json.load(fh)
        if old.get("config") == dict(config):  # keep seeds from earlier sessions of the same setting
            new_seeds = {r["seed"] for r in runs}
            previous = [r for r in old.get("runs", []) if r["seed"] not in new_seeds]
    all_runs = sorted(previous + runs, key=lambda r: r["seed"])
    mean, std = summarize(all_runs)
    result = {
        "method": method,
        "dataset": dataset,
        "config": dict(config),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "git_commit": commit or git_commit(),
        "started_at": started_at,
        "runs": all_runs,
        "mean": mean,
        "std": std,
        "environment": environment(device),
    }
    if extra:
        result.update(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w") as fh:
        json.dump(result, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, path)
    return result


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
