"""Pictures of a result: a 2-D t-SNE of the embeddings and the training-loss curve (PNG).

Needs matplotlib (``pip install graphcl[plot]``); t-SNE is scikit-learn's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from graphcl.errors import GraphclInputError

__all__ = ["plot_embeddings", "plot_loss", "plot_scaling", "tsne_2d"]

PathLike = Union[str, os.PathLike]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise GraphclInputError("plotting needs matplotlib: pip install 'graphcl[plot]'") from None
    return plt


def tsne_2d(embeddings: Any, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """t-SNE coordinates ``[N, 2]`` of ``embeddings [N, d]`` (PCA initialisation, seeded)."""
    from sklearn.manifold import TSNE

    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 3:
        raise GraphclInputError(f"embeddings must be [N >= 3, d], got shape {x.shape}")
    if not np.isfinite(x).all():
        raise GraphclInputError("embeddings contain NaN or Inf values")
    perplexity = min(perplexity, (x.shape[0] - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)


def plot_embeddings(embeddings: Any, labels: Any, path: PathLike, true_labels: Optional[Any] = None,
                    seed: int = 0, title: str = "") -> Path:
    """Scatter the t-SNE of ``embeddings`` coloured by predicted cluster (and, beside it, by the
    true label when ``true_labels`` is given); write a PNG to ``path``.

    Args:
        embeddings: ``[N, d]``.
        labels: ``[N]`` predicted clusters.
        path: Output PNG.
        true_labels: Optional ``[N]`` labels for a second panel.
        seed: t-SNE seed.
        title: Figure title.
    """
    plt = _pyplot()
    labels = np.asarray(labels).reshape(-1)
    n = np.asarray(embeddings).shape[0]
    panels = [("predicted cluster", labels)]
    if true_labels is not None:
        panels.append(("label", np.asarray(true_labels).reshape(-1)))
    for name, values in panels:
        if values.shape[0] != n:
            raise GraphclInputError(f"{name}s have {values.shape[0]} entries for {n} embeddings")
    xy = tsne_2d(embeddings, seed)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 5), squeeze=False, dpi=100)
    for ax, (name, values) in zip(axes[0], panels):
        ax.scatter(xy[:, 0], xy[:, 1], c=values, cmap="tab20", s=max(1.0, 2000.0 / n), linewidths=0)
        ax.set_title(f"t-SNE coloured by {name} ({len(np.unique(values))} groups)")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_loss(history: Sequence[Dict[str, float]], path: PathLike, title: str = "") -> Path:
    """Every loss term of a per-epoch ``history`` (an estimator's ``loss_history_``, or the rows
    of an epoch log) against the epoch; write a PNG to ``path``."""
    plt = _pyplot()
    if not history:
        raise GraphclInputError("the loss history is empty: nothing to plot")
    keys: List[str] = [k for k in history[0] if k not in ("epoch", "seconds")]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    epochs = np.arange(len(history))
    for key in keys:
        ax.plot(epochs, [float(h[key]) for h in history], label=key, linewidth=2 if key == "loss" else 1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.set_title(title or "training loss")
    ax.legend()
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_scaling(rows: Sequence[Dict[str, Any]], path: PathLike, *, run_key: str, size_key: str,
                 seconds_key: str, order: Sequence[str] = (), xlabel: str = "nodes N") -> Path:
    """A benchmark's seconds per epoch and peak resident memory (``peak_memory_mb``) against its
    size, one log-log line per run name, in two panels; rows without a time are left out. Runs
    are drawn in ``order`` first, then the others sorted by name."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    names = list(order) + sorted({r[run_key] for r in rows} - set(order))
    for run in names:
        pts = sorted((r[size_key], r) for r in rows if r[run_key] == run and r.get(seconds_key))
        if not pts:
            continue
        ns = [n for n, _ in pts]
        axes[0].plot(ns, [r[seconds_key] for _, r in pts], marker="o", label=run)
        axes[1].plot(ns, [r["peak_memory_mb"] for _, r in pts], marker="o", label=run)
    for ax, title in zip(axes, ["seconds per epoch", "peak resident memory (MB)"]):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.set_dpi(120)
    return _save(fig, plt, path)


def _save(fig, plt, path: PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
