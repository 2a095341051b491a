r"""Node classification and repeated-clustering evaluation of fixed embeddings (the HeCo / DMGI
protocol that MEOW and AdaMEOW report, meow.md §5).

:func:`evaluate_classification` trains ``runs`` logistic-regression probes on the training
nodes and reads the test scores at the step chosen on the **validation** split: Macro-F1 at the
step of best validation Macro-F1; Micro-F1 and AUC at the step of best validation Micro-F1.
The reference code does the same with a Python loop of 50 models; here the runs are one
batched model and the F1 scores of every step come from confusion counts in torch.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.metrics.clustering import ari, nmi
from graphcl.validation import check_features, check_float, check_int, check_n_clusters, check_positive

__all__ = ["evaluate_classification", "evaluate_clustering_runs"]

_EVAL_ELEMENTS = 1 << 23  # bound on one block of [nodes, steps, runs, classes] logits


def _as_tensor(x: Any, name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x.detach()
    try:
        return torch.as_tensor(np.asarray(x))
    except (TypeError, ValueError):
        raise GraphclInputError(f"{name} must be a tensor or array, got {type(x).__name__}") from None


def _check_split(idx: Any, n: int, name: str, device: torch.device) -> Tensor:
    """A split as node indices ``[M]`` (long): from an index array or a boolean mask ``[N]``."""
    t = _as_tensor(idx, name).to(device)
    if t.dtype == torch.bool:
        if t.shape != (n,):
            raise GraphclInputError(f"{name} is a boolean mask of shape {tuple(t.shape)}, expected [{n}]")
        t = t.nonzero().view(-1)
    if t.dim() != 1 or torch.is_floating_point(t) or t.is_complex():
        raise GraphclInputError(f"{name} must be a 1-D integer index array or a boolean mask, got {tuple(t.shape)} {t.dtype}")
    if t.numel() == 0:
        raise GraphclInputError(f"{name} is empty")
    t = t.long()
    if int(t.min()) < 0 or int(t.max()) >= n:
        raise GraphclInputError(f"{name} holds node ids outside [0, {n})")
    if torch.unique(t).numel() != t.numel():
        raise GraphclInputError(f"{name} holds duplicate node ids")
    return t


def _check_inputs(
    embeddings: Any, y: Any, splits: Tuple[Any, Any, Any]
) -> Tuple[Tensor, Tensor, List[Tensor], int]:
    """Validate and return ``(x [N, d] float, y [N] in 0..C-1, [train, val, test] indices, C)``."""
    x = check_features(_as_tensor(embeddings, "embeddings"), "embeddings")
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()
    labels = _as_tensor(y, "y").to(x.device)
    if labels.dim() != 1 or labels.numel() != x.size(0):
        raise GraphclInputError(f"y must be 1-D with one label per embedding row ({x.size(0)}), got shape {tuple(labels.shape)}")
    if torch.is_floating_point(labels) or labels.dtype == torch.bool or labels.is_complex():
        raise GraphclInputError(f"y must hold integer labels, got dtype {labels.dtype}")
    names = ("train_idx", "val_idx", "test_idx")
    idx = [_check_split(s, x.size(0), nm, x.device) for s, nm in zip(splits, names)]
    for i in range(3):
        for j in range(i + 1, 3):
            if bool(torch.isin(idx[i], idx[j]).any()):
                raise GraphclInputError(f"{names[i]} and {names[j]} overlap")
    used = torch.cat(idx)
    classes = torch.unique(labels[used])
    if classes.numel() < 2:
        raise GraphclInputError("the splits hold a single class: classification is undefined")
    missing = classes[~torch.isin(classes, labels[idx[0]])]
    if missing.numel():
        raise GraphclInputError(f"classes {missing.tolist()} occur in val_idx/test_idx but not in train_idx")
    if torch.unique(labels[idx[2]]).numel() < 2:
        raise GraphclInputError("test_idx holds a single class: AUC is undefined")
    y_mapped = torch.searchsorted(classes, labels.clamp(classes[0], classes[-1]))  # only used on split nodes
    return x, y_mapped, idx, int(classes.numel())


def _init_weights(runs: int, n_classes: int, dim: int, seed: int, dtype: torch.dtype) -> Tensor:
    """Xavier-uniform ``[runs, C, d]`` weights; run ``r`` draws its ``[C, d]`` matrix from its own
    ``torch.Generator`` seeded ``seed + r`` (in the compute dtype, as
    ``torch.nn.init.xavier_uniform_(w, generator=g)`` on a ``Linear(d, C)`` weight)."""
    bound = float(np.sqrt(6.0 / (dim + n_classes)))
    out = torch.empty(runs, n_classes, dim, dtype=dtype)
    for r in range(runs):
        out[r].uniform_(-bound, bound, generator=torch.Generator().manual_seed(seed + r))
    return out


def _train_probes(
    x_train: Tensor, y_train: Tensor, w: Tensor, lr: float, weight_decay: float, epochs: int
) -> Tuple[Tensor, Tensor]:
    """Full-batch Adam on the summed per-run mean cross-entropies (Adam is elementwise, so each
    run follows exactly the path it would alone). Returns the weights ``[epochs, R, C, d]`` and
    biases ``[epochs, R, C]`` after every step."""
    runs, n_classes, dim = w.shape
    w = w.clone().requires_grad_()
    b = torch.zeros(runs, n_classes, dtype=w.dtype, device=w.device, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr, weight_decay=weight_decay)
    target = y_train.repeat_interleave(runs)  # rows of logits.view(-1, C) are (node, run)
    w_hist = w.new_empty(epochs, runs, n_classes, dim)
    b_hist = w.new_empty(epochs, runs, n_classes)
    for e in range(epochs):
        opt.zero_grad(set_to_none=True)
        logits = (x_train @ w.view(-1, dim).t()).view(-1, runs, n_classes) + b
        loss = F.cross_entropy(logits.view(-1, n_classes), target, reduction="sum") / x_train.size(0)
        loss.backward()
        opt.step()
        w_hist[e], b_hist[e] = w.detach(), b.detach()
    return w_hist, b_hist


def _f1_from_counts(counts: Tensor) -> Tuple[Tensor, Tensor]:
    """Macro- and Micro-F1 from confusion counts ``[..., C, C]`` (true × predicted).

    Macro-F1 averages the per-class :math:`2tp / (2tp + fp + fn)` over the classes that occur
    in the truth or the predictions, as ``sklearn.metrics.f1_score(average="macro")``;
    Micro-F1 of single-label predictions is the accuracy."""
    counts = counts.double()
    tp = torch.diagonal(counts, dim1=-2, dim2=-1)
    denom = counts.sum(-1) + counts.sum(-2)  # true + predicted = 2tp + fp + fn
    present = denom > 0
    f1 = torch.where(present, 2 * tp / denom.clamp_min(1), torch.zeros_like(tp))
    macro = f1.sum(-1) / present.sum(-1)
    micro = tp.sum(-1) / counts.sum((-2, -1))
    return macro, micro


def _first_argmax(logits: Tensor) -> Tensor:
    """Argmax over dim 1 of ``[M, C, ...]`` (the first maximum on ties, as ``torch.argmax``),
    as a running comparison over the ``C`` class slices: with classes on a middle axis this is
    several times faster on CPU than ``argmax`` over a short last axis."""
    best, idx = logits[:, 0], torch.zeros(logits[:, 0].shape, dtype=torch.long, device=logits.device)
    for c in range(1, logits.size(1)):
        better = logits[:, c] > best
        best = torch.maximum(best, logits[:, c])
        idx.masked_fill_(better, c)
    return idx


def _scores_per_step(x: Tensor, y: Tensor, w_hist: Tensor, b_hist: Tensor) -> Tuple[Tensor, Tensor]:
    """Macro-/Micro-F1 ``[epochs, R]`` of the probes after every step on the nodes ``x``, ``y``,
    in blocks of steps: one matmul per block (bias folded in as a column of ones), confusion
    counts by one ``bincount``."""
    epochs, runs, n_classes, dim = w_hist.shape
    step = max(1, _EVAL_ELEMENTS // (x.size(0) * runs * n_classes))
    x1 = torch.cat([x, x.new_ones(x.size(0), 1)], dim=1)
    macro, micro = [], []
    for e0 in range(0, epochs, step):
        wb = torch.cat([w_hist[e0 : e0 + step], b_hist[e0 : e0 + step, :, :, None]], dim=-1)  # [k, R, C, d+1]
        k = wb.size(0)
        wb = wb.permute(2, 0, 1, 3).reshape(-1, dim + 1)  # rows ordered (class, step, run)
        pred = _first_argmax((x1 @ wb.t()).view(-1, n_classes, k, runs))  # [M, k, R]
        cell = torch.arange(k * runs, device=x.device).view(1, k, runs) * n_classes + y.view(-1, 1, 1)
        counts = torch.bincount((cell * n_classes + pred).view(-1), minlength=k * runs * n_classes * n_classes)
        ma, mi = _f1_from_counts(counts.view(k, runs, n_classes, n_classes))
        macro.append(ma)
        micro.append(mi)
    return torch.cat(macro), torch.cat(micro)


def _macro_auc(y: np.ndarray, proba: np.ndarray) -> float:
    """One-vs-rest macro AUC (``sklearn.metrics.roc_auc_score`` per class, averaged over the
    classes present in ``y``; with every class present this is
    ``roc_auc_score(y, proba, multi_class="ovr")``, and for two classes the binary AUC)."""
    from sklearn.metrics import roc_auc_score

    present = np.unique(y)
    return float(np.mean([roc_auc_score(y == c, proba[:, c]) for c in present]))


def evaluate_classification(
    embeddings: Any,
    y: Any,
    train_idx: Any,
    val_idx: Any,
    test_idx: Any,
    *,
    lr: float,
    weight_decay: float = 0.0,
    runs: int = 50,
    epochs: int = 200,
    seed: int = 0,
) -> Dict[str, float]:
    r"""Logistic-regression probe on fixed embeddings, HeCo / DMGI protocol (meow.md §5).

    Each of ``runs`` runs trains a ``Linear(d, C)`` (Xavier-uniform weight, zero bias) with
    ``Adam(lr, weight_decay)`` for ``epochs`` full-batch cross-entropy steps on the training
    nodes, and scores the validation and test nodes after every step. The run reports

    - test **Macro-F1** at the step with the best validation Macro-F1;
    - test **Micro-F1** and test **AUC** (one-vs-rest macro ``roc_auc_score`` of the softmax)
      at the step with the best validation Micro-F1

    (the first such step on ties). The test split never influences which step is read. The
    result is the mean and the population standard deviation (``np.std``) over runs, as
    fractions in ``[0, 1]`` (the reference prints ×100).

    Implementation: the runs are one batched model (weights ``[runs, C, d]``; Adam acts
    elementwise, so each run follows the path it would follow alone), the weights after every
    step are kept (``epochs · runs · C · d`` numbers), and the F1 scores of all steps come from
    confusion counts in torch, a block of steps per matmul; scikit-learn only computes the
    ``runs`` final AUCs. Run ``r`` draws its initial weight from a ``torch.Generator`` seeded
    ``seed + r``, in the embeddings' dtype (float32 or float64). Embeddings are used as given
    (the reference does not normalise them).

    Args:
        embeddings: ``[N, d]`` node embeddings (tensor or array, any device).
        y: ``[N]`` integer class labels (any ids; only nodes in the splits are used).
        train_idx, val_idx, test_idx: Disjoint, non-empty node subsets, each an integer index
            array or a boolean mask ``[N]``.
        lr: Adam learning rate (the per-dataset ``eva_lr`` of the reference).
        weight_decay: Adam weight decay (``eva_wd``).
        runs: Number of independent probes (50).
        epochs: Training steps per probe (200).
        seed: Base seed.

    Returns:
        ``{"macro_f1", "micro_f1", "auc", "macro_f1_std", "micro_f1_std", "auc_std"}``.

    Raises:
        GraphclInputError: non-finite or non-2-D embeddings, ``y`` of the wrong length, an empty,
            out-of-range, duplicated or overlapping split, a class of val/test missing from
            train, fewer than two classes (or a single class in test: AUC undefined), or a bad
            ``lr`` / ``weight_decay`` / ``runs`` / ``epochs``.
    """
    lr = check_positive(lr, "lr")
    weight_decay = check_float(weight_decay, "weight_decay", minimum=0.0)
    runs, epochs = check_int(runs, "runs"), check_int(epochs, "epochs")
    seed = check_int(seed, "seed", minimum=None)
    x, labels, (train, val, test), n_classes = _check_inputs(embeddings, y, (train_idx, val_idx, test_idx))

    w0 = _init_weights(runs, n_classes, x.size(1), seed, x.dtype).to(x.device)
    with torch.enable_grad():
        w_hist, b_hist = _train_probes(x[train], labels[train], w0, lr, weight_decay, epochs)
    with torch.no_grad():
        val_macro, val_micro = _scores_per_step(x[val], labels[val], w_hist, b_hist)
        test_macro, test_micro = _scores_per_step(x[test], labels[test], w_hist, b_hist)
        run_ids = torch.arange(runs, device=x.device)
        best_macro, best_micro = val_macro.argmax(0), val_micro.argmax(0)  # first maximum per run
        macro = test_macro[best_macro, run_ids]
        micro = test_micro[best_micro, run_ids]
        w, b = w_hist[best_micro, run_ids], b_hist[best_micro, run_ids]  # [R, C, d], [R, C]
        proba = torch.softmax(torch.einsum("nd,rcd->rnc", x[test], w) + b[:, None, :], dim=-1)
    y_test, proba_np = labels[test].cpu().numpy(), proba.double().cpu().numpy()
    auc = np.array([_macro_auc(y_test, p) for p in proba_np])
    result: Dict[str, float] = {}
    for name, values in (("macro_f1", macro.cpu().numpy()), ("micro_f1", micro.cpu().numpy()), ("auc", auc)):
        result[name] = float(np.mean(values))
        result[f"{name}_std"] = float(np.std(values))
    return result


def evaluate_clustering_runs(
    embeddings: Any, y: Any, n_clusters: int, runs: int = 10, seed: int = 0
) -> Dict[str, float]:
    r"""k-means on fixed embeddings, repeated (the reference's ``run_kmeans``, meow.md §5).

    Run ``r`` fits scikit-learn ``KMeans(n_clusters, n_init=10, random_state=seed + r)`` on all
    ``N`` embeddings (the reference left it unseeded) and scores the labels with
    :func:`graphcl.metrics.nmi` (arithmetic normalisation) and :func:`graphcl.metrics.ari`.

    Args:
        embeddings: ``[N, d]`` node embeddings.
        y: ``[N]`` integer class labels.
        n_clusters: ``K`` (the reference uses the number of classes).
        runs: Number of k-means fits.
        seed: Base seed, ``>= 0`` (``seed + runs - 1`` must stay below ``2**32``, scikit-learn's
            limit).

    Returns:
        ``{"nmi", "ari", "nmi_std", "ari_std"}``: means and population standard deviations.

    Raises:
        GraphclInputError: Bad embeddings, ``y`` of the wrong length, or a bad ``n_clusters``,
            ``runs`` or ``seed``.
    """
    from sklearn.cluster import KMeans

    x = check_features(_as_tensor(embeddings, "embeddings"), "embeddings")
    labels = _as_tensor(y, "y")
    if labels.dim() != 1 or labels.numel() != x.size(0):
        raise GraphclInputError(f"y must be 1-D with one label per embedding row ({x.size(0)}), got shape {tuple(labels.shape)}")
    n_clusters = check_n_clusters(n_clusters, x.size(0))
    runs = check_int(runs, "runs")
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - runs)  # scikit-learn seeds seed + r
    data = x.cpu().numpy()
    scores = {"nmi": [], "ari": []}
    for r in range(runs):
        pred = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed + r).fit_predict(data)
        scores["nmi"].append(nmi(labels, pred))
        scores["ari"].append(ari(labels, pred))
    result: Dict[str, float] = {}
    for name, values in scores.items():
        result[name] = float(np.mean(values))
        result[f"{name}_std"] = float(np.std(values))
    return result
