#!/usr/bin/env python
"""Generate ``docs/results.md`` from the committed result JSON (never typed by hand).

    python experiments/make_tables.py [--results experiments/results] [--out docs/results.md]

Every ``experiments/results/<method>/<dataset>.json`` must carry the provenance keys of
DESIGN §5 (method, dataset, config, command, git_commit, started_at, runs, environment);
a file without them is refused. Reference numbers come from ``experiments/reference_numbers.yaml``
and are printed in their own column with their source and selection protocol.

Rows read from a file marked ``"legacy_provenance": true`` (seeds without their own command,
commit and start time, or from a dirty tree) carry a ``†`` and a footnote. Under each table, one
generated sentence per method that loses to a baseline on ACC or NMI (heterogeneous tables: on
Ma-F1 at 20 labels per class, or on clustering NMI), with the numbers (DESIGN §4.3).

``load_results(folder)`` and ``make_tables(results, refs)`` take any results folder (the
tests render tiny synthetic ones).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from graphcl.experiment import METRICS, PROVENANCE_KEYS  # noqa: E402
from graphcl.selection import CRITERIA as SELECTION_CRITERIA  # noqa: E402  (criterion -> +1 / -1)
from graphcl.selection import DEFAULT_CRITERION, SELECT_CRITERIA  # noqa: E402

HOMOGENEOUS = ["usps", "acm", "dblp", "cite", "cora", "photo"]
METHOD_ORDER = ["kmeans", "kmeans_smoothed", "spectral", "scgc", "scgc_star", "selected", "selected_best", "selected_modularity_gain_best",
                "selected_modularity_best",
                "pamc", "pamc_reference",
                "pamc_soft"]
METHOD_LABEL = {
    "kmeans": "k-means (raw X)",
    "kmeans_smoothed": "k-means (Â²X)",
    "spectral": "smoothed spectral (training-free)",
    "scgc": "SCGC",
    "scgc_star": "SCGC*",
    "pamc": "PamC",
    "pamc_reference": "PamC (reference formula)",
    "selected": "SCGC*, label-free: default block + grid, consensus of its clusterings",
    "selected_best": "SCGC*, label-free selection by silhouette (the default before the consensus)",
    "selected_modularity_gain_best": "SCGC*, label-free selection by modularity gain (the default before silhouette)",
    "selected_modularity_best": "SCGC*, label-free selection by modularity (the default before modularity gain)",
    "pamc_soft": "PamC (soft meta-nodes)",
}


def method_label(method: str) -> str:
    """A homogeneous row's label; ``<method>_restarts<R>[_<criterion>]`` (experiments/restarts.py)
    is the method's label with the restarts named."""
    if method in METHOD_LABEL:
        return METHOD_LABEL[method]
    base, sep, rest = method.partition("_restarts")
    if sep and (base == "selected" or base.startswith("selected_")):  # selected.py --restarts R
        return f"{method_label(base)}, the grid fitted from {rest} seeds"
    if sep:
        count, _, criterion = rest.partition("_")
        return f"{METHOD_LABEL.get(base, base)}, best of {count} restarts by {criterion or 'modularity'}"
    return method


# seeds a row should have, where not 0-4 (homogeneous and heterogeneous tables alike)
EXPECTED_SEEDS = {("scgc_star", "usps"): 10, ("pamc", "usps"): 10, ("pamc_reference", "usps"): 10, ("pamc_soft", "usps"): 10}
HETEROGENEOUS = ["acm", "dblp", "aminer", "imdb", "freebase"]
HETERO_ORDER = ["kmeans", "kmeans_smoothed", "spectral_metapath", "meow_reference", "meow", "meow_linear", "adameow"]
HETERO_LABEL = {"kmeans": "k-means (raw X)", "kmeans_smoothed": "k-means (meta-path-smoothed X)",
                "spectral_metapath": "smoothed spectral on the meta-paths (training-free)",
                "meow_reference": "MEOW (reference behaviour)", "meow": "MEOW",
                "meow_linear": "MEOW linear-time (meta-node negatives, warm k-means)", "adameow": "AdaMEOW"}
#: The baselines' rows of the classification table: logistic regression on their features.
CLASSIFICATION_LABEL = {"kmeans": "logistic regression (raw X)",
                        "kmeans_smoothed": "logistic regression (meta-path-smoothed X)"}
BASELINES = ("kmeans", "kmeans_smoothed")
LEGACY_MARK = "†"
LEGACY_NOTE = (f"{LEGACY_MARK} legacy provenance: seeds produced before per-seed provenance (or from a dirty "
               "tree); to be re-run at HEAD.")
RATIOS = ("20", "40", "60")


def load_results(folder: Path) -> dict:
    results = {}
    for path in sorted(folder.glob("*/*.json")):
        if path.parent.name in ("bench", "studies"):  # own shapes: bench_*.py and the study scripts write their tables
            continue
        with open(path) as fh:
            res = json.load(fh)
        missing = [k for k in PROVENANCE_KEYS if k not in res]
        if missing:
            raise SystemExit(f"error: {path} lacks provenance keys {missing}; refusing to tabulate it")
        family = res.get("family", "homogeneous")
        if res.get("overrides"):  # an ablation (meow.py --set): listed apart, never as the method's row
            key = (res["method"], res["dataset"], f"{family}_ablation", path.stem)
        elif family == "homogeneous":  # the folder names the row: a file moved aside when a default
            key = (path.parent.name, res["dataset"])  # changed keeps the `method` it was written under
        elif family == "distributed":  # one file per number of ranks
            key = (res["method"], res["dataset"], family, res["config"]["world_size"])
        else:
            key = (res["method"], res["dataset"], family)
        results[key] = res
    return results


def is_legacy(res: dict) -> bool:
    """Whether a result file is marked ``legacy_provenance``."""
    return bool(res.get("legacy_provenance"))


def mark(label: str, res: dict) -> str:
    """A row's label, with :data:`LEGACY_MARK` when its file has legacy provenance."""
    return label + LEGACY_MARK if is_legacy(res) else label


def legacy_footnote(lines: list, start: int) -> list:
    """``[LEGACY_NOTE, ""]`` when a row from ``lines[start:]`` carries the mark, else ``[]``."""
    rows = [line for line in lines[start:] if line.startswith("| ")]
    return [LEGACY_NOTE, ""] if any(LEGACY_MARK in line.split(" | ")[0] for line in rows) else []


def mean_of(runs, key: str, ratio: str | None = None) -> float | None:
    """Mean of a metric over the runs (``ratio``: Macro-F1 of the classification block at that
    split); ``None`` when no run has it."""
    if ratio is None:
        vals = [r[key] for r in runs if key in r]
    else:
        vals = [r["classification"][ratio][key] for r in runs if ratio in r.get("classification", {})]
    return float(np.mean(vals)) if vals else None


def loss_sentence(label: str, dataset: str, losses: list) -> str:
    """``"<label> loses to <baseline> on <dataset>: ACC a vs b, NMI c vs d; and to ...: ..."``
    from ``losses`` = ``[(baseline label, [(metric, ours, theirs), ...]), ...]``."""
    parts = []
    for i, (baseline, metrics) in enumerate(losses):
        numbers = ", ".join(f"{name} {ours} vs {theirs}" for name, ours, theirs in metrics)
        parts.append(f"{baseline} on {dataset}: {numbers}" if i == 0 else f"to {baseline}: {numbers}")
    return f"{label.replace(LEGACY_MARK, '')} loses to " + "; and ".join(parts) + "."


def losses_to_baselines(rows: list, metrics: list, baseline_label: dict) -> list:
    """One sentence per method row that loses to a baseline row on one of ``metrics``.

    Args:
        rows: ``(method, label, runs)`` of one table (baselines among them).
        metrics: ``(shown name, key, ratio or None, formatter)``: a method loses on a metric
            when its mean is below the baseline's.
        baseline_label: How a baseline is named in the sentence.

    Returns:
        ``(label, [(baseline label, [(metric, ours, theirs), ...])])`` per losing method.
    """
    baselines = [(m, runs) for m, _, runs in rows if m in BASELINES]
    out = []
    for method, label, runs in rows:
        if method in BASELINES:
            continue
        losses = []
        for base, base_runs in baselines:
            lost = []
            for name, key, ratio, show in metrics:
                ours, theirs = mean_of(runs, key, ratio), mean_of(base_runs, key, ratio)
                if ours is not None and theirs is not None and ours < theirs:
                    lost.append((name, show(ours), show(theirs)))
            if lost:
                losses.append((baseline_label[base], lost))
        if losses:
            out.append((label, losses))
    return out


def loss_lines(rows: list, dataset: str, metrics: list, baseline_label: dict) -> list:
    """The generated sentences under a table (each its own paragraph), or nothing."""
    sentences = [loss_sentence(label, dataset, losses)
                 for label, losses in losses_to_baselines(rows, metrics, baseline_label)]
    return [line for sentence in sentences for line in (sentence, "")]


FOUR = "{:.4f}".format
HOMOGENEOUS_LOSS_METRICS = [("ACC", "acc", None, FOUR), ("NMI", "nmi", None, FOUR)]
CLASSIFICATION_LOSS_METRICS = [("Ma-F1@20", "macro_f1", "20", lambda v: f"{100 * v:.2f}")]
CLUSTERING_LOSS_METRICS = [("clustering NMI", "nmi", None, FOUR)]


def fmt(runs, key) -> str:
    vals = [r[key] for r in runs if key in r]
    if not vals:
        return "–"
    return f"{np.mean(vals):.4f} ± {np.std(vals):.4f}"


def seed_text(runs, want: int) -> str:
    seeds = [r["seed"] for r in runs]
    if len(seeds) > 1 and seeds == list(range(min(seeds), max(seeds) + 1)):
        txt = f"{min(seeds)}–{max(seeds)}"
    else:
        txt = ",".join(map(str, seeds))
    return txt + (f" (partial: {len(seeds)}/{want})" if len(seeds) < want else "")


def fmt_nested(runs, ratio: str, key: str) -> str:
    vals = [r["classification"][ratio][key] for r in runs if "classification" in r]
    return "–" if not vals else f"{100 * np.mean(vals):.2f} ± {100 * np.std(vals):.2f}"


def hetero_tables(results: dict, refs: dict) -> list:
    lines = []
    for dataset in HETEROGENEOUS:
        methods = [m for m in HETERO_ORDER if (m, dataset, "heterogeneous") in results]
        methods += sorted(k[0] for k in results if len(k) == 3 and k[1] == dataset and k[2] == "heterogeneous"
                          and k[0] not in HETERO_ORDER)  # methods registered later
        # (method, label in the clustering table, label in the classification table, runs, seeds wanted)
        rows = [(m, mark(HETERO_LABEL.get(m, m), res), mark(CLASSIFICATION_LABEL.get(m, HETERO_LABEL.get(m, m)), res),
                 res["runs"], EXPECTED_SEEDS.get((m, dataset), 5))
                for m in methods for res in [results[(m, dataset, "heterogeneous")]]]
        if not rows:
            continue
        for key in sorted(k for k in results if len(k) == 4 and k[1] == dataset and k[2] == "heterogeneous_ablation"):
            res = results[key]
            changed = ", ".join(f"{name}={value}" for name, value in res["overrides"].items())
            label = mark(f"{HETERO_LABEL.get(key[0], key[0])}, {changed} (ablation)", res)
            rows.append((None, label, label, res["runs"], len(res["runs"])))
        ref = ((refs.get("meow_stored_embeddings") or {}).get(dataset)) or {}
        lines += [f"## {dataset} (heterogeneous)", ""]
        if any(method is None for method, *_ in rows):
            lines += ["Rows marked *(ablation)* change the one config value they name (`experiments/meow.py --set`) "
                      "of the row they are named after, at the commit each seed ran at, and are reported only: a row does not "
                      "change a default by itself (graphcl's defaults, the ablations that changed one — MEOW's "
                      "`spherical_kmeans` and `featureless` — and where they differ from the reference's: docs/meow.md).", ""]
        lines += ["Classification (logistic regression on the frozen embeddings, ×100; model selection on the validation split):", "",
                  "| method | seeds | Ma-F1 20 | Ma-F1 40 | Ma-F1 60 | Mi-F1 20 | Mi-F1 40 | Mi-F1 60 | AUC 20 | AUC 40 | AUC 60 | epochs | s/epoch |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        table = len(lines)
        for _, _, label, runs, want in rows:
            cells = [fmt_nested(runs, ratio, key) for key in ("macro_f1", "micro_f1", "auc") for ratio in RATIOS]
            epochs = [r["epochs"] for r in runs if "epochs" in r]
            eps = [r["epoch_seconds_mean"] for r in runs if "epoch_seconds_mean" in r]
            ep_cell = f"{np.mean(epochs):.0f}" if epochs else "–"
            s_cell = f"{np.mean(eps):.3f}" if eps else "–"
            loads = [r["load_average"] for r in runs if "load_average" in r]
            if eps and loads:  # only comparable on an idle machine: show how busy it was
                s_cell += f" (load {np.mean(loads):.1f})"
            lines.append(f"| {label} | {seed_text(runs, want)} | " + " | ".join(cells + [ep_cell, s_cell]) + " |")
        if ref:
            cls = ref.get("classification", {})
            cells = [f"{cls[key][ratio]:.2f}" if key in cls and ratio in cls[key] else "–"
                     for key in ("macro_f1", "micro_f1", "auc") for ratio in RATIOS]
            lines.append(f"| reference MEOW embeddings [{ref['key']}] | 1 run | " + " | ".join(cells) + " | – | – |")
        lines.append("")
        lines += legacy_footnote(lines, table)
        lines += loss_lines([(m, label, runs) for m, _, label, runs, _ in rows if m is not None], dataset,
                            CLASSIFICATION_LOSS_METRICS, CLASSIFICATION_LABEL)
        lines += ["Clustering (k-means on the embeddings: the model's `labels_` scored once — ACC/NMI/ARI/F1 — "
                  "and NMI/ARI averaged over 10 k-means runs):", "",
                  "| method | seeds | ACC | NMI | ARI | F1 | NMI (10 runs) | ARI (10 runs) |", "|---|---|---|---|---|---|---|---|"]
        table = len(lines)
        for _, label, _, runs, want in rows:
            cells = [fmt(runs, k) for k in METRICS] + [fmt(runs, "kmeans10_nmi"), fmt(runs, "kmeans10_ari")]
            lines.append(f"| {label} | {seed_text(runs, want)} | " + " | ".join(cells) + " |")
        if ref and "nmi" in ref:
            lines.append(f"| reference MEOW embeddings [{ref['key']}] | 1 run | – | – | – | – | {ref['nmi'] / 100:.4f} | {ref['ari'] / 100:.4f} |")
        lines.append("")
        lines += legacy_footnote(lines, table)
        lines += loss_lines([(m, label, runs) for m, label, _, runs, _ in rows if m is not None], dataset,
                            CLUSTERING_LOSS_METRICS, HETERO_LABEL)
    return lines


def distributed_tables(results: dict) -> list:
    """Data-parallel runs (experiments/train_distributed.py) beside the same method's
    single-process seeds 0-4 on the same dataset."""
    keys = sorted(k for k in results if len(k) == 4 and k[2] == "distributed")
    if not keys:
        return []
    lines = ["## Distributed training", "",
             "`torchrun` runs of `experiments/train_distributed.py` (CPU ranks, gloo) beside the single-process runs "
             "of the same method and config, seeds 0–4. `|Δ| / std` is the distance of each distributed run's ACC "
             "from the single-process mean, in single-process standard deviations.", "",
             "| method | dataset | ranks | seeds | ACC | NMI | ARI | F1 | single-process ACC (seeds 0–4) | ACC \\|Δ\\| / std | s/epoch |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    table = len(lines)
    for key in keys:
        method, dataset, _, ranks = key
        runs = results[key]["runs"]
        single = [r for r in results.get((method, dataset), {}).get("runs", []) if r["seed"] in range(5)]
        if single:
            mean, std = np.mean([r["acc"] for r in single]), np.std([r["acc"] for r in single])
            ref = f"{mean:.4f} ± {std:.4f} ({len(single)} seeds)"
            dist = ", ".join(f"{abs(r['acc'] - mean) / std:.2f}" if std > 0 else "–" for r in runs)
        else:
            ref, dist = "–", "–"
        eps = [r["epoch_seconds_mean"] for r in runs if "epoch_seconds_mean" in r]
        s_cell = f"{np.mean(eps):.3f} (load {np.mean([r.get('load_average', float('nan')) for r in runs]):.1f})" if eps else "–"
        lines.append(f"| {mark(method_label(method), results[key])} | {dataset} | {ranks} | {seed_text(runs, len(runs))} | "
                     + " | ".join(fmt(runs, k) for k in METRICS) + f" | {ref} | {dist} | {s_cell} |")
    lines.append("")
    return lines + legacy_footnote(lines, table)


def reference_cell(refs: dict, method: str, dataset: str) -> str:
    entries = (refs.get(method) or {}).get(dataset) or []
    return "<br>".join(
        f"{e['acc']:.4f} / " + ("–" if e.get("nmi") is None else f"{e['nmi']:.4f}") + (f" [{e['key']}]" if "key" in e else "")
        for e in entries
    ) or "–"


def _rho_cell(v: float | None) -> str:
    return "–" if v is None else f"{v:+.2f}"


def _rank_correlation(a, b) -> float | None:
    """Spearman's rho of two equal-length sequences (``None`` when either is constant)."""
    from scipy.stats import spearmanr

    if len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return float(spearmanr(a, b).statistic)


def _chosen_by(method: str) -> str:
    """How a ``selected[_method][_<criterion>][_best]`` folder's clustering was made: `` (chosen
    by <criterion>)`` for a ``_best`` folder (the folder's criterion suffix, or
    :data:`DEFAULT_CRITERION` without one), `` (consensus of the grid)`` otherwise (with ``,
    <criterion>'s temperatures`` for a criterion other than the default)."""
    best = method.endswith("_best")
    stem = method[: -len("_best")] if best else method
    criterion = next((name for name in sorted(SELECT_CRITERIA, key=len, reverse=True)  # modularity_gain first
                      if stem.endswith("_" + name)), None)
    if best:
        return f" (chosen by {(criterion or DEFAULT_CRITERION).replace('_', ' ')})"
    return " (consensus of the grid" + (f", {criterion.replace('_', ' ')}'s temperatures)" if criterion else ")")


def short_label(method: str) -> str:
    """A row's label in the study tables, where rows of one method from different folders meet:
    the method's name, with the restarts or the selection criterion that tells them apart."""
    if "_restarts" in method:
        return method_label(method)
    if method == "selected" or method.startswith("selected_"):  # selected[_<method>][_<criterion>][_best]
        token = method.partition("_")[2].split("_")[0]  # a method's folder (selected_pamc...), else SCGC*'s
        base = METHOD_LABEL.get(token, METHOD_LABEL["scgc_star"])
        return f"{base}, selected{_chosen_by(method)}"
    return method_label(method).split(",")[0]


def selection_study(grids: list, criteria: Optional[dict] = None) -> dict:
    """What each criterion would pick among the fitted grid points of each seed, scored after the fact.

    ``grids``: one list of grid rows (``selection["grid"]`` with an ``evaluation`` block) per seed;
    ``criteria``: ``name -> +1 / -1`` (maximised / minimised; default ``SELECT_CRITERIA``), each
    studied on the grids whose every point records it.
    Returns ``criterion -> {"rho_acc", "rho_nmi", "acc", "nmi", "seeds", "first_acc"}`` (means over
    the seeds that record the criterion; ``first_acc``: the first grid point's ACC on those) plus
    ``"best"`` (the grid point with the best ACC, ties by NMI: reads labels, an upper bound) and
    ``"first"`` (the first grid point, the ``default:`` block's own configuration)."""
    out = {}
    for name, sign in (SELECT_CRITERIA if criteria is None else criteria).items():
        rho_acc, rho_nmi, acc, nmi = [], [], [], []
        scored = [grid for grid in grids if all(name in g for g in grid)]  # older files lack modularity_gain
        if not scored:
            continue
        for grid in scored:
            score = [sign * g[name] for g in grid]
            for rho, key in ((rho_acc, "acc"), (rho_nmi, "nmi")):
                r = _rank_correlation(score, [g["evaluation"][key] for g in grid])
                if r is not None:
                    rho.append(r)
            pick = grid[int(np.argmax(score))]["evaluation"]
            acc.append(pick["acc"]), nmi.append(pick["nmi"])
        out[name] = {"rho_acc": float(np.mean(rho_acc)) if rho_acc else None,
                     "rho_nmi": float(np.mean(rho_nmi)) if rho_nmi else None,
                     "acc": float(np.mean(acc)), "nmi": float(np.mean(nmi)), "seeds": len(scored),
                     "first_acc": float(np.mean([grid[0]["evaluation"]["acc"] for grid in scored]))}
    # the best point by ACC, an ACC tie broken by NMI (equal ACCs happen: two points with the same partition)
    best = [max(grid, key=lambda g: (g["evaluation"]["acc"], g["evaluation"]["nmi"]))["evaluation"] for grid in grids]
    out["best"] = {"acc": float(np.mean([b["acc"] for b in best])), "nmi": float(np.mean([b["nmi"] for b in best]))}
    out["first"] = {"acc": float(np.mean([g[0]["evaluation"]["acc"] for g in grids])),
                    "nmi": float(np.mean([g[0]["evaluation"]["nmi"] for g in grids]))}
    return out


def _has_grid_keys(grid: list) -> bool:
    return all(key in g for g in grid for key in ("input_hops", "order", "temperature"))


def first_stage_study(grids: list) -> dict:
    """The input/order stage (the grid points at the first grid point's temperature, at least
    two): per criterion, ``grids`` (how many) and ``keeps_first`` (on how many its maximum is the
    first grid point, raw ``X`` at the smallest order)."""
    out = {}
    firsts = [[g for g in grid if g["temperature"] == grid[0]["temperature"]] for grid in filter(_has_grid_keys, grids)]
    firsts = [st for st in firsts if len(st) >= 2]
    for name, sign in SELECT_CRITERIA.items():
        stages = [st for st in firsts if all(name in g for g in st)]
        if stages:
            out[name] = {"grids": len(stages),
                         "keeps_first": sum(max(st, key=lambda g: sign * g[name]) is st[0] for st in stages)}
    return out


def temperature_study(grids: list) -> dict:
    """Within each temperature stage (grid points of one seed sharing ``input_hops`` and
    ``order``, at least three temperatures): per criterion, and for ACC itself (key ``"acc"``,
    read from the labels), ``stages`` (how many), ``rises`` / ``falls`` (on how many the value
    increases / decreases strictly with the temperature), ``picks_largest`` / ``picks_smallest``
    (on how many its maximum is at the largest / smallest temperature) and ``acc_vs_base`` (mean
    ACC of its pick minus the ACC at the first grid point's temperature, the ``default:``
    block's)."""
    stages = []
    for grid in filter(_has_grid_keys, grids):
        groups: dict = {}
        for g in grid:
            groups.setdefault((g["input_hops"], g["order"]), []).append(g)
        base_t = grid[0]["temperature"]
        for points in groups.values():
            points = sorted(points, key=lambda g: g["temperature"])
            base = [g for g in points if g["temperature"] == base_t]
            if len(points) >= 3 and base:
                stages.append((points, base[0]["evaluation"]["acc"]))
    out = {}
    for name, sign in [*SELECT_CRITERIA.items(), ("acc", 1.0)]:
        value = (lambda g: g["evaluation"]["acc"]) if name == "acc" else (lambda g, n=name, s=sign: s * g[n])
        per = [(points, base) for points, base in stages if name == "acc" or all(name in g for g in points)]
        if not per:
            continue
        rises = sum(all(value(a) < value(b) for a, b in zip(points, points[1:])) for points, _ in per)
        falls = sum(all(value(a) > value(b) for a, b in zip(points, points[1:])) for points, _ in per)
        picks = [max(points, key=value) for points, _ in per]
        out[name] = {"stages": len(per), "rises": rises, "falls": falls,
                     "picks_largest": sum(p is points[-1] for p, (points, _) in zip(picks, per)),
                     "picks_smallest": sum(p is points[0] for p, (points, _) in zip(picks, per)),
                     "acc_vs_base": float(np.mean([p["evaluation"]["acc"] - base for p, (_, base) in zip(picks, per)]))}
    return out


def selection_tables(results: dict) -> list:
    """Does a label-free criterion order the grid like the labels? From the selected*/ files (a
    consensus file's seeds that its ``_best`` twin also holds are the same fits: read once, there)."""
    lines, pooled = [], []
    for (method, dataset, *rest), res in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if rest or not (method == "selected" or method.startswith("selected_")):
            continue
        twin = results.get((method + "_best", dataset)) if not method.endswith("_best") else None
        twin_seeds = {r["seed"] for r in twin["runs"]} if twin else set()
        grids = [r["selection"]["grid"] for r in res["runs"] if r.get("seed") not in twin_seeds
                 and all("evaluation" in g for g in r.get("selection", {}).get("grid", [{}]))]
        if not grids:
            continue
        if not lines:
            lines += ["## Label-free selection: does the criterion order the grid?", "",
                      "For each seed of a `selected` file, every fitted grid point was scored against the labels",
                      "*after* the choice (nothing in training or selection reads them). ρ is Spearman's rank",
                      "correlation, over the fitted grid points of a seed, between the criterion (sign-flipped for",
                      "conductance, so higher is better) and ACC or NMI, averaged over seeds; `picks` is the mean",
                      "ACC / NMI of the point the criterion would choose among the points fitted (the temperature",
                      "stage followed the run's own criterion, so for the others this is an approximation).",
                      "`modularity_gain` is the modularity minus that of k-means on the grid point's own input (X or",
                      "Â²X); files written before it was recorded count in its `seeds` only when they have it.",
                      "`first grid point` is the `default:` block's own configuration (raw X, order 1, T); `best",
                      "grid point` reads the labels and bounds what any criterion could pick.", "",
                      "| method | dataset | seeds | criterion | ρ with ACC | ρ with NMI | picks ACC / NMI |",
                      "|---|---|---|---|---|---|---|"]
        study = selection_study(grids)
        label = short_label(method)
        seeds = len(grids)
        for name in (n for n in SELECT_CRITERIA if n in study):
            st = study[name]
            lines.append(f"| {label} | {dataset} | {st['seeds']} | {name} | {_rho_cell(st['rho_acc'])} | {_rho_cell(st['rho_nmi'])} | "
                         f"{st['acc']:.4f} / {st['nmi']:.4f} |")
        for name, text in (("first", "first grid point"), ("best", "best grid point (labels)")):
            lines.append(f"| {label} | {dataset} | {seeds} | {text} | | | {study[name]['acc']:.4f} / "
                         f"{study[name]['nmi']:.4f} |")
        pooled += [(dataset, grid) for grid in grids]
    if pooled:
        pooled, repeats = distinct_grids(pooled)
        lines += ["", f"Pooled over every distinct seed grid above ({len(pooled)}): the mean ρ with ACC, and how the",
                  "criterion's pick compares with the first grid point (the `default:` configuration, no selection) on",
                  "the same seed. A grid recorded in two files (the same fits, whose temperature stage two criteria",
                  f"chose alike: {repeats} such repeats) counts once.", "",
                  "| criterion | seed grids | mean ρ with ACC | pick − first grid point (ACC) | pick better |",
                  "|---|---|---|---|---|"]
        for name, st in pooled_selection_study(pooled).items():
            lines.append(f"| {name} | {st['grids']} | {_rho_cell(st['rho_acc'])} | {st['acc_vs_first']:+.4f} | "
                         f"{st['better']}/{st['grids']} |")
        first = first_stage_study(pooled)
        if first:
            lines += ["", "The input/order stage (the grid points at the first grid point's temperature): on how many",
                      "seed grids the criterion keeps the first grid point (raw X, smallest order): "
                      + "; ".join(f"{name} {st['keeps_first']}/{st['grids']}" for name, st in first.items()) + "."]
        temps = temperature_study(pooled)
        if temps:
            lines += ["", "Within a temperature stage (the grid points of one seed that share the input and the order,",
                      "fitted at three or more temperatures; pooled as above): on how many stages the criterion rises",
                      "or falls strictly with the temperature, where its maximum lies, and the ACC of that pick minus",
                      "the ACC at the first grid point's temperature. `ACC (labels)` is the same for the labels' own",
                      "score: what a criterion that orders temperatures would follow.", "",
                      "| criterion | stages | rises with T | falls with T | picks the largest T | picks the smallest T "
                      "| pick − first T (ACC) |",
                      "|---|---|---|---|---|---|---|"]
            for name, st in temps.items():
                n = st["stages"]
                label = "ACC (labels)" if name == "acc" else name
                lines.append(f"| {label} | {n} | {st['rises']}/{n} | {st['falls']}/{n} | {st['picks_largest']}/{n} | "
                             f"{st['picks_smallest']}/{n} | {st['acc_vs_base']:+.4f} |")
            for name, st in temps.items():
                n = st["stages"]
                end = "largest" if st["picks_largest"] == n else "smallest" if st["picks_smallest"] == n else None
                if name != "acc" and end:
                    lines += ["", f"{name} keeps the {end} temperature on every stage recorded: between temperatures it "
                              "follows the temperature, not the quality of the clustering, so its temperature stage "
                              "is a fixed rule, not a selection."]
    return lines + [""] if lines else []


def _grid_key(dataset: str, grid: list) -> tuple:
    """What identifies one seed's fitted grid: its dataset and each point's parameters and scores."""
    return (dataset,) + tuple((g.get("input_hops"), g.get("order"), g.get("temperature"), g.get("silhouette"),
                               g.get("modularity"), g["evaluation"]["acc"], g["evaluation"]["nmi"]) for g in grid)


def distinct_grids(grids: list) -> tuple:
    """``([grid, ...], repeats)`` from ``[(dataset, grid), ...]``: each grid once, in first-seen order.

    Runs under different criteria fit the same first stage, and where both keep the same temperature
    stage their six fits are the same fits: such a grid is recorded in two files but is one observation.
    """
    seen, out = set(), []
    for dataset, grid in grids:
        key = _grid_key(dataset, grid)
        if key not in seen:
            seen.add(key)
            out.append(grid)
    return out, len(grids) - len(out)


def pooled_selection_study(grids: list) -> dict:
    """Per criterion, over seed grids taken one at a time: ``grids`` (how many record the
    criterion), mean ``rho_acc``, mean ACC of its pick minus the first grid point's
    (``acc_vs_first``) and on how many grids the pick is ``better`` than the first point."""
    studies = [(selection_study([grid]), grid[0]["evaluation"]["acc"]) for grid in grids]  # once per grid
    out = {}
    for name in SELECT_CRITERIA:
        per = [study[name] | {"first": first} for study, first in studies if name in study]
        if not per:
            continue
        rho = [p["rho_acc"] for p in per if p["rho_acc"] is not None]
        out[name] = {"grids": len(per), "rho_acc": float(np.mean(rho)) if rho else None,
                     "acc_vs_first": float(np.mean([p["acc"] - p["first"] for p in per])),
                     "better": sum(p["acc"] > p["first"] for p in per)}
    return out


def restart_tables(results: dict) -> list:
    """Does a label-free score order restarts (the seeds of one configuration) like the labels?"""
    rows = []
    for (method, dataset, *rest), res in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        runs = res["runs"]
        if rest or method in ("kmeans", "kmeans_smoothed") or len(runs) < 3:
            continue
        scores = {"training loss": [-r["final_loss"] for r in runs] if all("final_loss" in r for r in runs) else None}
        for name, sign in SELECTION_CRITERIA.items():
            if all(name in r.get("label_free", {}) for r in runs):
                scores[name] = [sign * r["label_free"][name] for r in runs]
        acc, nmi = [r["acc"] for r in runs], [r["nmi"] for r in runs]
        for name, score in scores.items():
            if score is None:
                continue
            pick = int(np.argmax(score))
            ra, rn = _rank_correlation(score, acc), _rank_correlation(score, nmi)
            label = short_label(method)
            rows.append(f"| {label} | {dataset} | {len(runs)} | {name} | "
                        + " | ".join(_rho_cell(v) for v in (ra, rn))
                        + f" | {acc[pick]:.4f} | {np.mean(acc):.4f} |")
    if not rows:
        return []
    return ["## Restarts: does a label-free score order the seeds of one configuration?", "",
            "Over the seeds of each result file (one configuration, or for a selected row one selection",
            "pipeline, different starts): Spearman's ρ between a",
            "label-free score of the run (the negated final training loss; modularity, conductance negated, and",
            "silhouette of the final clustering where the run recorded them in `label_free`) and ACC or NMI,",
            "and the ACC of the seed the score would keep, beside the mean. A score that does not order the",
            "seeds cannot be used to keep the best of several restarts.", "",
            "| method | dataset | seeds | score | ρ with ACC | ρ with NMI | ACC of the kept seed | mean ACC |",
            "|---|---|---|---|---|---|---|---|", *rows, ""]


def seed_spread_tables(results: dict) -> list:
    """Where a method's seed spread comes from: the ablations that share one pretrained
    autoencoder across seeds (``--set pretrain_random_state=A``), one file per ``A``."""
    groups: dict = {}
    for (method, dataset, *rest), res in results.items():
        if rest[:1] == ["homogeneous_ablation"] and set(res.get("overrides", {})) == {"pretrain_random_state"}:
            groups.setdefault((method, dataset), []).append((int(res["overrides"]["pretrain_random_state"]), res))
    rows = []
    for (method, dataset), files in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        files.sort(key=lambda f: f[0])
        label = method_label(method).split(",")[0]
        accs = [[r["acc"] for r in res["runs"]] for _, res in files]
        for a, res in files:
            runs = res["runs"]
            rows.append(f"| {mark(label, res)} | {dataset} | pretraining seed {a} | {seed_text(runs, len(runs))} | "
                        f"{fmt(runs, 'acc')} | {fmt(runs, 'nmi')} |")
        if len(files) > 1:
            within = float(np.mean([np.std(acc) for acc in accs]))
            between = float(np.std([np.mean(acc) for acc in accs]))
            rows.append(f"| {label} | {dataset} | **spread** | | within a pretraining (k-means start, training): "
                        f"{within:.4f}; between pretrainings (std of their means): {between:.4f} | |")
        own = results.get((method, dataset))
        if own is not None:
            rows.append(f"| {mark(label, own)} | {dataset} | each seed its own pretraining (the row above) | "
                        f"{seed_text(own['runs'], len(own['runs']))} | {fmt(own['runs'], 'acc')} | {fmt(own['runs'], 'nmi')} |")
    if not rows:
        return []
    return ["## Where the seed spread comes from", "",
            "graphcl pretrains one autoencoder per seed; the reference loads one SDCN autoencoder for every",
            "run. Each file below fixes the pretraining seed (`--set pretrain_random_state=A`, so one",
            "autoencoder is shared) and varies the seed of the k-means start and training. `within` is the",
            "mean over pretrainings of the ACC std over seeds; `between` is the std of the pretrainings' mean",
            "ACC. Command: `python experiments/scgc.py --method M --dataset D --set pretrain_random_state=A",
            "--seeds ...`.", "",
            "| method | dataset | pretraining | seeds | ACC | NMI |", "|---|---|---|---|---|---|", *rows, ""]


def make_tables(results: dict, refs: dict) -> str:
    lines = [
        "# Results",
        "",
        "Generated by `python experiments/make_tables.py` from `experiments/results/*/*.json`; do not edit.",
        "",
        "Protocol (DESIGN §4): training never sees labels; every number is the clustering of the",
        "**last epoch**, scored once against the labels; mean ± std (population) over the seeds",
        "listed. k-means baselines (raw features and Â²X with Â = D⁻¹(A+I)) stand beside each method.",
        "Reference numbers are in their own column (ACC / NMI), labelled with source and protocol below.",
        "`train s/seed` is wall time of training (epochs + k-means init) per seed; where recorded, the",
        "1-minute load average of the 2-core machine at the end of the run follows it — figures taken",
        "while other jobs ran (load above ~2) are not timing measurements; `docs/bench_scgc.md` is.",
        "Under each table, a generated sentence names every method that loses to a baseline on ACC or NMI",
        "(heterogeneous tables: Ma-F1 at 20 labels per class, or clustering NMI); a row marked "
        f"{LEGACY_MARK} comes from a file",
        "whose seeds predate per-seed provenance (`legacy_provenance` in its JSON).",
        "",
    ]
    for dataset in HOMOGENEOUS:
        methods = [m for m in METHOD_ORDER if (m, dataset) in results]
        methods += sorted(k[0] for k in results if len(k) == 2 and k[1] == dataset and k[0] not in METHOD_ORDER)
        rows = [(m, results[(m, dataset)]) for m in methods]
        if not rows:
            continue
        lines += [f"## {dataset}", "", "| method | seeds | ACC | NMI | ARI | F1 | train s/seed | reference (ACC / NMI) |",
                  "|---|---|---|---|---|---|---|---|"]
        table = len(lines)
        for method, res in rows:
            runs = res["runs"]
            seed_txt = seed_text(runs, EXPECTED_SEEDS.get((method, dataset), 5))
            train = f"{np.mean([r.get('train_seconds', 0.0) for r in runs]):.1f}"
            loads = [r["load_average"] for r in runs if "load_average" in r]
            if loads:  # timings are only comparable on an idle machine: show how busy it was
                train += f" (load {np.mean(loads):.1f})"
            cells = [fmt(runs, k) for k in METRICS]
            lines.append(f"| {mark(method_label(method), res)} | {seed_txt} | " + " | ".join(cells)
                         + f" | {train} | {reference_cell(refs, method, dataset)} |")
        lines.append("")
        lines += legacy_footnote(lines, table)
        lines += loss_lines([(m, method_label(m), res["runs"]) for m, res in rows], dataset,
                            HOMOGENEOUS_LOSS_METRICS, METHOD_LABEL)
    lines += selection_tables(results)
    lines += restart_tables(results)
    lines += seed_spread_tables(results)
    lines += hetero_tables(results, refs)
    lines += distributed_tables(results)
    notes = refs.get("_sources") or {}
    if notes:
        lines += ["## Reference sources", ""]
        for key, text in notes.items():
            lines.append(f"- **[{key}]** {text}")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", default=str(HERE / "results"))
    p.add_argument("--references", default=str(HERE / "reference_numbers.yaml"))
    p.add_argument("--out", default=str(HERE.parent / "docs" / "results.md"))
    args = p.parse_args(argv)
    import yaml

    refs = {}
    if Path(args.references).exists():
        with open(args.references) as fh:
            refs = yaml.safe_load(fh) or {}
    text = make_tables(load_results(Path(args.results)), refs)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
