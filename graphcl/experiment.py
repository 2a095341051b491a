"""Reproduction harness shared by ``experiments/*.py``: configs, one subprocess per seed,
the benchmark JSON contract (DESIGN §5) and its provenance keys.

Provenance: every entry of a result's ``runs`` carries its own ``command`` (the command that
reproduces that seed alone), ``git_commit`` and ``started_at`` (:data:`RUN_PROVENANCE_KEYS`);
seeds merged into one file keep theirs. A file whose runs do not all carry clean provenance
(the three keys, a commit without ``-dirty``) is marked ``"legacy_provenance": true``
(:func:`has_clean_provenance`). The scripts refuse to write into ``experiments/results/`` from
a tree with uncommitted changes to the code or configs (:func:`check_clean_tree`) unless told
``--allow-dirty``, which each run then records.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from graphcl.errors import GraphclInputError

METRICS = ("acc", "nmi", "ari", "f1")
PROVENANCE_KEYS = ("method", "dataset", "config", "command", "git_commit", "started_at", "runs", "environment")
REPO_ROOT = Path(__file__).resolve().parents[1]
#: Keys every entry of ``runs`` carries: the seed's own provenance (DESIGN §5).
RUN_PROVENANCE_KEYS = ("command", "git_commit", "started_at")
#: Where results live; writing there needs a clean tree (:func:`check_clean_tree`).
RESULTS_DIR = REPO_ROOT / "experiments" / "results"
#: Paths whose uncommitted changes make a result irreproducible (git pathspecs, from the
#: repository root): the library, the scripts and their configs, but not the results folder,
#: which holds a sweep's own earlier outputs.
WATCHED_PATHSPECS = ("graphcl", "experiments", ":(exclude)experiments/results")


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
    return {key: yaml_number(value) for key, value in out.items()}


# A decimal number with an exponent or a dot: what YAML 1.1 leaves as text when the mantissa
# has no dot (``1e-3``) or the exponent no sign (``1.0e3``).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def yaml_number(value: Any) -> Any:
    """``value`` with YAML-1.1 numeric strings turned into floats, in lists and dicts too.

    PyYAML follows YAML 1.1, which reads ``1e-3`` (no dot) as the string ``"1e-3"``; a config
    file or a ``--set`` value written that way means the number. Other strings are kept.

    Examples:
        ``yaml_number("1e-3") == 0.001``; ``yaml_number(["5e2", "hard"]) == [500.0, "hard"]``.
    """
    if isinstance(value, str):
        text = value.strip()
        return float(text) if _NUMBER.fullmatch(text) and any(c in text for c in ".eE") else value
    if isinstance(value, list):
        return [yaml_number(v) for v in value]
    if isinstance(value, dict):
        return {k: yaml_number(v) for k, v in value.items()}
    return value


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
        out[key] = yaml_number(parsed)  # YAML 1.1 reads 1e-4 (no dot) as a string
    return out


def _git(*args: str) -> str:
    """``git <args>`` in the checkout; its stdout (raises ``OSError``/``CalledProcessError``)."""
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def dirty_paths() -> List[str]:
    """Uncommitted changes (modified, staged or untracked files) under :data:`WATCHED_PATHSPECS`,
    as ``git status --porcelain`` paths.

    Raises:
        GraphclInputError: git is missing or this is not a git checkout (cleanliness unknown).
    """
    try:
        out = _git("status", "--porcelain", "--untracked-files=all", "--", *WATCHED_PATHSPECS)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        raise GraphclInputError(f"cannot tell whether {REPO_ROOT} has uncommitted changes (git failed: "
                                f"{detail.strip()[:200]})") from None
    return [line[3:] for line in out.splitlines() if line.strip()]


def git_commit(dirty: Optional[bool] = None) -> str:
    """The checkout's commit, with ``-dirty`` when :func:`dirty_paths` lists uncommitted
    changes under ``graphcl/`` or ``experiments/`` (not the results a sweep has written so far,
    nor docs or tests, which no result depends on).

    Args:
        dirty: Force (``True``) or drop (``False``) the suffix instead of asking git.

    Returns:
        The commit's SHA-1 (``"unknown"`` outside a git checkout).
    """
    try:
        sha = _git("rev-parse", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if dirty is None:
        try:
            dirty = bool(dirty_paths())
        except GraphclInputError:
            dirty = True
    return sha + ("-dirty" if dirty else "")


def writes_into_results(path: os.PathLike | str) -> bool:
    """Whether ``path`` lies under ``experiments/results/`` of this checkout."""
    try:
        Path(path).resolve().relative_to(RESULTS_DIR.resolve())
    except ValueError:
        return False
    return True


def check_clean_tree(out: os.PathLike | str, allow_dirty: bool = False,
                     config_files: Sequence[os.PathLike | str] = ()) -> bool:
    """Refuse, before any training, to write a result into ``experiments/results/`` from code
    that no commit holds.

    The tree is dirty when :func:`dirty_paths` lists anything (modified, staged or untracked
    files under ``graphcl/`` or ``experiments/``, the results folder aside) or a config file in
    ``config_files`` lies outside the checkout. Writing anywhere else is always allowed.

    Args:
        out: The result file about to be written.
        allow_dirty: ``--allow-dirty``: write anyway (the caller records it in each run).
        config_files: The config files the run reads.

    Returns:
        Whether the result is written from a dirty tree under ``--allow-dirty`` (record
        ``"allow_dirty": true`` and a ``-dirty`` commit then); ``False`` otherwise.

    Raises:
        GraphclInputError: ``out`` is under ``experiments/results/``, the tree is dirty and
            ``allow_dirty`` is false (or git cannot tell).
    """
    if not writes_into_results(out):
        return False
    root = REPO_ROOT.resolve()
    outside = []
    for cfg in config_files:
        try:
            Path(cfg).resolve().relative_to(root)
        except ValueError:
            outside.append(str(cfg))
    try:
        changed = dirty_paths()
    except GraphclInputError as exc:
        if allow_dirty:
            return True
        raise GraphclInputError(f"{exc}; pass --allow-dirty to write {out} anyway") from None
    problems = [f"config file {c} is outside the checkout" for c in outside]
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        problems.append(f"uncommitted changes under graphcl/ or experiments/: {shown}")
    if not problems:
        return False
    if allow_dirty:
        return True
    raise GraphclInputError(
        f"refusing to write {out} into experiments/results/ from a dirty tree ({'; '.join(problems)}): "
        "commit first, write elsewhere with --out, or pass --allow-dirty (the runs then record it)")


def refuse_dirty_results(out: os.PathLike | str, allow_dirty: bool,
                         config_files: Sequence[os.PathLike | str] = ()) -> bool:
    """:func:`check_clean_tree` for a script's ``main``: on refusal print one ``error:`` line
    and exit with status 1 (before any work). Returns whether the write goes ahead dirty."""
    try:
        return check_clean_tree(out, allow_dirty, config_files)
    except GraphclInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def seed_command(argv: Sequence[str], seed: int) -> str:
    """The command line that reproduces one seed of ``argv`` alone: ``--seeds A B C`` (or
    ``--seeds=A``) becomes ``--seeds <seed>``; a command without ``--seeds`` gets it appended.

    Example:
        ``seed_command(["experiments/scgc.py", "--seeds", "0", "1", "--dataset", "usps"], 1)``
        is ``"python experiments/scgc.py --seeds 1 --dataset usps"``.
    """
    args, out, i, found = list(argv), [], 0, False
    while i < len(args):
        a = args[i]
        if a == "--seeds":
            out += ["--seeds", str(seed)]
            found = True
            i += 1
            while i < len(args) and re.fullmatch(r"-?\d+", args[i]):
                i += 1
            continue
        if a.startswith("--seeds="):
            out.append(f"--seeds={seed}")
            found = True
        else:
            out.append(a)
        i += 1
    if not found:
        out += ["--seeds", str(seed)]
    return command_line(out)


def command_line(argv: Sequence[str]) -> str:
    """``python <argv>`` as one shell-quoted string, the script (``argv[0]``) relative to the
    checkout when it lies inside it (as the docs write it)."""
    out = list(argv)
    if out:
        try:
            out[0] = str(Path(out[0]).resolve().relative_to(REPO_ROOT.resolve()))
        except ValueError:
            pass
    return shlex.join(["python", *out])


def has_clean_provenance(run: Mapping[str, Any]) -> bool:
    """Whether a run carries :data:`RUN_PROVENANCE_KEYS` with a known commit without ``-dirty``
    (and was not written under ``--allow-dirty``). Does not ask git whether the commit exists."""
    if not all(run.get(k) for k in RUN_PROVENANCE_KEYS) or run.get("allow_dirty"):
        return False
    commit = str(run["git_commit"])
    return commit != "unknown" and not commit.endswith("-dirty")


def machine(device: str = "cpu") -> str:
    """The machine a run ran on, as one string: the CPU model (``model name`` in
    ``/proc/cpuinfo``, else :func:`platform.processor`), the instruction set torch's CPU kernels
    use (:func:`torch.backends.cpu.get_cpu_capability`, e.g. ``AVX2``), the CPU count and, for a
    CUDA ``device``, the GPU's name: ``"AMD EPYC, AVX2, 2 CPUs"``.

    Each run records it (:func:`write_result`): seeds merged into one file may come from
    different machines, whose timings differ and whose float results need not agree to the
    last digit (BLAS kernels sum in a CPU-dependent order).
    """
    import torch

    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    parts = [model or platform.processor() or platform.machine() or "unknown CPU"]
    try:
        parts.append(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):  # older torch
        pass
    parts.append(f"{os.cpu_count()} CPUs")
    gpu = gpu_name(device)
    if gpu is not None:
        parts.append(gpu)
    return ", ".join(parts)


def gpu_name(device: str) -> Optional[str]:
    """The name of ``device``'s GPU (``cuda:1`` names GPU 1), or ``None`` off CUDA."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return None


def environment(device: str = "cpu") -> Dict[str, Any]:
    """The software and hardware a result file was written with: versions, ``device``, thread
    and CPU counts, the scatter backend, :func:`machine` and, on CUDA, the name of ``device``'s GPU.
    """
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
        "machine": machine(device),
    }
    gpu = gpu_name(device)
    if gpu is not None:
        env["gpu"] = gpu
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


def worker_env(threads: Optional[int] = None) -> Dict[str, str]:
    """The environment of a worker process: this one's, with ``OMP_NUM_THREADS`` and
    ``MKL_NUM_THREADS`` set to ``threads`` when given (otherwise inherited, so a user's
    ``OMP_NUM_THREADS=1`` reaches every seed; unset, torch takes its default)."""
    env = dict(os.environ)
    if threads is not None:
        from graphcl.validation import check_int

        threads = check_int(threads, "--threads")
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def apply_threads(threads: Optional[int]) -> Optional[int]:
    """``--threads N``: set ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` of this process (and so of
    the workers it starts) to ``N``, and torch's thread count when torch is already imported.
    ``None`` leaves everything as it is (torch's default, or an inherited ``OMP_NUM_THREADS``).

    Raises:
        GraphclInputError: ``threads`` is not a positive integer.
    """
    if threads is None:
        return None
    from graphcl.validation import check_int

    threads = check_int(threads, "--threads")
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return threads


def run_seeds_in_subprocesses(
    worker_argv: Sequence[str],
    seeds: Sequence[int],
    log=print,
    on_run=None,
    *,
    commit: Optional[str] = None,
    allow_dirty: bool = False,
    threads: Optional[int] = None,
    argv: Optional[Sequence[str]] = None,
) -> List[Dict[str, Any]]:
    """Run ``python <worker_argv> --seed S`` once per seed, each in a fresh process.

    The worker prints one JSON object on its last stdout line; a fresh process per seed
    makes ``peak_memory_mb`` belong to that seed alone. ``on_run(runs_so_far)`` is called
    after every seed (the scripts write their JSON there, so a long sweep that is stopped
    keeps the seeds it finished).

    Each run gets its provenance (:data:`RUN_PROVENANCE_KEYS`): ``started_at`` when its
    process started, ``git_commit`` (``commit``, by default the checkout's now) and
    ``command``, this invocation's command line with ``--seeds`` narrowed to that seed; and
    ``"allow_dirty": true`` under ``allow_dirty``.

    Args:
        commit: The commit recorded in each run (default: the checkout's now).
        allow_dirty: Record ``"allow_dirty": true`` in each run.
        threads: ``OMP_NUM_THREADS`` of the workers (default: inherited from this process).
            Jobs that run side by side on one machine should use 1 each.
        argv: The invocation (script path first) whose ``--seeds`` each run's ``command``
            narrows (default ``sys.argv``).

    A worker that continued a run started by an earlier process (:class:`SeedCheckpoint`)
    reports that run's first start as its own ``started_at``, which is kept.
    """
    env = worker_env(threads)
    commit = commit or git_commit()
    runs = []
    for seed in seeds:
        cmd = [sys.executable, *worker_argv, "--seed", str(seed)]
        started = now_iso()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
            raise RuntimeError(f"seed {seed} failed (exit {proc.returncode}): {tail[0]}\n  command: {shlex.join(cmd)}")
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        log(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in run.items()}))
        run.update(command=seed_command(sys.argv if argv is None else argv, seed), git_commit=commit,
                   started_at=run.get("started_at", started))
        if allow_dirty:
            run["allow_dirty"] = True
        runs.append(run)
        if on_run is not None:
            on_run(list(runs))
    return runs


def _run_setting(run: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """A run's recorded estimator arguments other than the seed (``estimator_params`` without
    ``random_state``), or ``None`` where the run did not record them."""
    params = run.get("estimator_params")
    if not isinstance(params, Mapping):
        return None
    return {k: v for k, v in params.items() if k != "random_state"}


def _settings_differ(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two recorded settings disagree on an argument both record. An argument only one
    of them records is an estimator argument added in between: its default keeps the former
    behaviour (graphcl's rule for new options), so it does not make the runs differ."""
    return any(json.dumps(a[k], sort_keys=True) != json.dumps(b[k], sort_keys=True) for k in set(a) & set(b))


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
    command: Optional[str] = None,
    argv: Optional[Sequence[str]] = None,
) -> Dict[str, Any]:
    """Write the DESIGN §5 JSON (merging runs of other seeds already in the file).

    Runs of seeds already in the file replace them only when ``config`` equals the file's; a
    changed config starts the file over, and so does a kept run whose recorded
    ``estimator_params`` (all estimator arguments but ``random_state``) differ from the new
    runs on an argument both record (a changed estimator default, which ``config`` does not
    show; a run without the record, or an argument added since a kept run, does not trigger
    this). The top-level ``command``, ``git_commit`` and
    ``started_at`` describe this (the latest) invocation; each run keeps its own. A new run
    without them gets ``command`` (this command narrowed to its seed), ``git_commit``
    (``commit``), ``started_at`` (``started_at``) and ``machine`` (:func:`machine`: CPU
    model, torch's CPU capability, CPU count); runs kept from the file are never
    changed. The result carries ``"legacy_provenance": true`` (first key) while any of its runs
    lacks clean provenance (:func:`has_clean_provenance`: seeds from before per-seed
    provenance, or written from a dirty tree), and loses it once every run has it.

    Args:
        commit: The code version that produced the runs (take it when the sweep starts);
            by default the checkout's commit now.
        command: The top-level command (default: this process's command line).
        argv: The invocation (script path first) whose ``--seeds`` a new run's ``command``
            narrows (default ``sys.argv``).
    """
    path = Path(path)
    commit = commit or git_commit()
    argv = list(sys.argv if argv is None else argv)
    ran_on = machine(device)  # one process, one machine: looked up once for all its runs
    new_runs = []
    for run in runs:
        run = dict(run)
        run.setdefault("command", seed_command(argv, run["seed"]))
        run.setdefault("git_commit", commit)
        run.setdefault("started_at", started_at)
        run.setdefault("machine", ran_on)
        new_runs.append(run)
    previous: List[Dict[str, Any]] = []
    if path.exists():
        with open(path) as fh:
            old = json.load(fh)
        if old.get("config") == dict(config):  # keep seeds from earlier sessions of the same setting
            new_seeds = {r["seed"] for r in new_runs}
            previous = [r for r in old.get("runs", []) if r["seed"] not in new_seeds]
            # ... unless the estimator ran with other arguments (a changed default the config cannot show)
            ran = [p for p in map(_run_setting, new_runs) if p is not None]
            kept = [p for p in map(_run_setting, previous) if p is not None]
            if any(_settings_differ(a, b) for a in kept for b in ran):
                previous = []
    all_runs = sorted(previous + new_runs, key=lambda r: r["seed"])
    mean, std = summarize(all_runs)
    result = {
        "method": method,
        "dataset": dataset,
        "config": dict(config),
        "command": command or command_line(argv),
        "git_commit": commit,
        "started_at": started_at,
        "runs": all_runs,
        "mean": mean,
        "std": std,
        "environment": environment(device),
    }
    if extra:
        result.update(extra)
    result.pop("legacy_provenance", None)
    if not all(has_clean_provenance(r) for r in all_runs):
        result = {"legacy_provenance": True, **result}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(result, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, path)
    return result


def pack_labels(labels: Any) -> Dict[str, Any]:
    """A hard clustering, JSON-ready and compact: ``{"dtype", "n", "zlib_base64"}``, the labels
    as little-endian unsigned integers of the smallest width that holds them, zlib-compressed
    and base64-encoded (a few kB for ten thousand nodes). :func:`unpack_labels` inverts it.

    Raises:
        GraphclInputError: ``labels`` is not one-dimensional, or holds a negative value.
    """
    import base64
    import zlib

    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise GraphclInputError(f"pack_labels: labels must be one-dimensional, got shape {arr.shape}")
    if arr.size and arr.min() < 0:
        raise GraphclInputError("pack_labels: labels must be non-negative")
    top = int(arr.max()) if arr.size else 0
    dtype = next(d for d in ("<u1", "<u2", "<u4", "<u8") if top <= np.iinfo(np.dtype(d)).max)
    data = base64.b64encode(zlib.compress(arr.astype(dtype).tobytes(), 9)).decode("ascii")
    return {"dtype": dtype, "n": int(arr.size), "zlib_base64": data}


def unpack_labels(packed: Mapping[str, Any]) -> np.ndarray:
    """The ``int64 [n]`` labels of a :func:`pack_labels` record.

    Raises:
        GraphclInputError: The record is malformed or its length differs from ``n``.
    """
    import base64
    import binascii
    import zlib

    try:
        raw = zlib.decompress(base64.b64decode(packed["zlib_base64"]))
        arr = np.frombuffer(raw, dtype=np.dtype(packed["dtype"])).astype(np.int64)
        n = int(packed["n"])
    except (KeyError, TypeError, ValueError, binascii.Error, zlib.error) as exc:
        raise GraphclInputError(f"unpack_labels: not a packed labelling ({exc})") from exc
    if arr.size != n:
        raise GraphclInputError(f"unpack_labels: {arr.size} labels where the record says {n}")
    return arr


def now_iso() -> str:
    """The current UTC time, ISO-8601 to the second (``2026-11-29T00:51:11+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_study(out: os.PathLike | str, method: str, script: str, argv: Sequence[str], started: str, dirty: bool,
                **fields: Any) -> Dict[str, Any]:
    """Write a study's JSON (``experiments/results/studies/``) with the provenance every result
    file carries: ``method``, ``command`` (``python <script> <argv>``), ``git_commit``,
    ``started_at``, ``written_at``, then ``fields`` in order, ``environment`` and, for a run
    from a dirty tree (``dirty``, from :func:`refuse_dirty_results`), ``allow_dirty``. Returns
    the record written."""
    record: Dict[str, Any] = {"method": method, "command": " ".join(["python", script, *argv]),
                              "git_commit": git_commit(dirty=True if dirty else None), "started_at": started,
                              "written_at": now_iso(), **fields, "environment": environment("cpu")}
    if dirty:
        record["allow_dirty"] = True
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(record, indent=1) + "\n")
    return record


def start_study(out: os.PathLike | str, allow_dirty: bool, threads: Optional[int] = None) -> Tuple[bool, str]:
    """A study script's start: torch's thread count (``threads``, if given), the clean-tree check
    of :func:`refuse_dirty_results` for ``out``, and the start time. Returns ``(dirty, started_at)``
    for :func:`write_study`."""
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    return refuse_dirty_results(out, allow_dirty), now_iso()


class SeedCheckpoint:
    """One seed's resumable training state in a folder, so that a run longer than one sitting
    (AdaMEOW's 3,000 AMiner epochs) can stop and continue where it stopped.

    Three files, named after ``name`` and the seed: ``<name>_seed<S>.pt`` (the estimator's
    training checkpoint, written every ``every`` epochs and after the last), ``<name>_seed<S>.epochs.jsonl``
    (its per-epoch log: loss terms and seconds, each epoch once even when a resume runs some
    again) and ``<name>_seed<S>.json`` (the run's provenance: the commit and config it was started with, its
    first start time and each resume). The estimator's resume is exact (modules, optimizer,
    RNG, loss history), so a resumed seed ends with the weights, embedding and labels that one
    uninterrupted process would have given.

    A resume is refused when the commit or the config differ from the ones the run started
    with, or when the tree has uncommitted changes (a ``-dirty`` commit): a seed's record names
    one commit, and that must be the code of every epoch.

    Args:
        directory: The folder (made if missing).
        name: The run's name (method, dataset and any ablation suffix).
        seed: The seed.
        commit: The checkout's commit now (:func:`git_commit`).
        config: The run's config (compared on resume).
        every: Epochs between checkpoints.
    """

    #: Estimator arguments that only serve the checkpointing: left out of a run's recorded
    #: ``estimator_params`` (they say where files went, not how the model was trained).
    RUNTIME_ARGUMENTS = ("checkpoint", "checkpoint_every", "epoch_log")

    def __init__(self, directory: os.PathLike | str, name: str, seed: int, commit: str, config: Mapping[str, Any],
                 every: int = 25) -> None:
        from graphcl.validation import check_int

        self.every = check_int(every, "checkpoint_every", minimum=1)
        if commit.endswith("-dirty") or commit == "unknown":
            raise GraphclInputError(f"a resumable run needs a clean, committed tree (the checkout is at {commit}): "
                                    f"commit the changes or drop --checkpoint-dir")
        stem = Path(directory) / f"{name}_seed{int(seed)}"
        self.model_path = stem.with_name(stem.name + ".pt")
        self.log_path = stem.with_name(stem.name + ".epochs.jsonl")
        self.meta_path = stem.with_name(stem.name + ".json")
        self.commit = commit
        self.config = json.loads(json.dumps(dict(config), default=str))
        self.meta: Dict[str, Any] = {}

    def begin(self) -> Optional[Path]:
        """Start or continue the run: the training checkpoint to resume from, or ``None`` for a
        fresh start (no record yet, or a record whose process died before its first checkpoint).

        Raises:
            GraphclInputError: The record was started at another commit or with another config.
        """
        from graphcl.checkpoint import load_checkpoint

        self.model_path.parent.mkdir(parents=True, exist_ok=True)
        if self.meta_path.is_file() and self.model_path.is_file():
            meta = json.loads(self.meta_path.read_text())
            if meta.get("git_commit") != self.commit:
                raise GraphclInputError(
                    f"{self.model_path} was written at commit {meta.get('git_commit')}, the checkout is at {self.commit}: "
                    f"check out that commit to finish the run, or delete {self.meta_path.with_suffix('')}.* to start over")
            if meta.get("config") != self.config:
                raise GraphclInputError(f"{self.model_path} was written with another config: "
                                        f"delete {self.meta_path.with_suffix('')}.* to start over")
            from_epoch = int(load_checkpoint(self.model_path, "training")["epoch"]) + 1
            meta["resumed"] = [*meta.get("resumed", []), {"at": now_iso(), "from_epoch": from_epoch}]
            self.meta = meta
            self._write_meta()
            return self.model_path
        self.meta = {"git_commit": self.commit, "config": self.config, "started_at": now_iso(), "resumed": []}
        self._write_meta()
        return None

    def estimator_arguments(self) -> Dict[str, Any]:
        """The estimator arguments that checkpoint the run and log its epochs."""
        return {"checkpoint": str(self.model_path), "checkpoint_every": self.every, "epoch_log": str(self.log_path)}

    def epoch_seconds(self) -> List[float]:
        """The seconds of every epoch in the finished run's history, over all its processes
        (epochs run again after a resume count once, in their last run)."""
        rows = [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]
        return [float(r["seconds"]) for r in sorted(rows, key=lambda r: r["epoch"])]

    def provenance(self) -> Dict[str, Any]:
        """What the seed's record adds: ``started_at`` (the first process's start) and
        ``resumed`` (when each later process continued, and from which epoch), plus
        ``checkpoint_every``."""
        return {"started_at": self.meta["started_at"], "resumed": list(self.meta["resumed"]),
                "checkpoint_every": self.every}

    def _write_meta(self) -> None:
        tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        tmp.write_text(json.dumps(self.meta, indent=1) + "\n")
        os.replace(tmp, self.meta_path)
