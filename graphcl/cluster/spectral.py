r"""Spectral embedding by the modularity of a feature-similarity graph, without an ``N × N`` matrix.

:func:`modularity_eigenvectors` returns the leading eigenvectors of the modularity matrix of the
graph whose edge weights are the inner products of the rows of ``Z``,

.. math::
    B = Z Z^\top - \gamma\,\frac{d\,d^\top}{\mathbf 1^\top d}, \qquad d = Z Z^\top \mathbf 1,

by block subspace iteration: each product :math:`BQ = Z(Z^\top Q) - \gamma\, d\,(d^\top Q) /
\mathbf 1^\top d` costs ``O(N d k)``, so ``B`` is never formed. With unit rows of non-negative
features, :math:`ZZ^\top` is the cosine-similarity graph, ``d`` its weighted degrees and ``B``
Newman's modularity matrix (resolution :math:`\gamma`); its leading eigenvectors are the
spectral relaxation of modularity maximisation. graphcl's :class:`~graphcl.models.SmoothedSpectral`
applies it to graph-smoothed features (after S2CAG, Lin et al., KDD 2024).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from graphcl.cluster.kmeans import kmeans
from graphcl.errors import GraphclInputError
from graphcl.validation import check_float, check_int

__all__ = ["ModularityEigenvectors", "SpectralClustering", "modularity_eigenvectors", "spectral_clustering"]


class ModularityEigenvectors(NamedTuple):
    r"""Output of :func:`modularity_eigenvectors`.

    Attributes:
        vectors: ``[N, k]`` orthonormal columns, the Ritz vectors of the leading eigenvalues.
        values: ``[k]`` their Ritz values, in decreasing order.
        n_iter: Subspace iterations run.
        residual: :math:`\lVert BQ - Q(Q^\top BQ)\rVert_F / \lVert BQ\rVert_F` at the last
            iteration (0 for an exact invariant subspace).
        traces: ``trace(Q^T B Q)`` at each iteration (non-decreasing up to rounding).
    """

    vectors: Tensor
    values: Tensor
    n_iter: int
    residual: float
    traces: list


def modularity_eigenvectors(z: Tensor, k: int, *, gamma: float = 1.0, max_iter: int = 100, tol: float = 1e-6,
                            random_state: int = 0,
                            callback: Optional[Callable[[int, float, float], None]] = None) -> ModularityEigenvectors:
    r"""The ``k`` leading eigenvectors of :math:`B = ZZ^\top - \gamma\,dd^\top/\mathbf 1^\top d`.

    **Why subspace iteration finds the largest eigenvalues.** With :math:`s = Z^\top\mathbf 1`,
    :math:`d = Zs` and :math:`\mathbf 1^\top d = \lVert s\rVert^2`, so for any ``v``
    :math:`v^\top B v = \lVert Z^\top v\rVert^2 - \gamma (s^\top Z^\top v)^2/\lVert s\rVert^2
    \ge (1-\gamma)\lVert Z^\top v\rVert^2 \ge 0` (Cauchy–Schwarz): ``B`` is positive
    semi-definite for :math:`0 \le \gamma \le 1`, so the eigenvalues of largest magnitude are the
    largest ones. When :math:`s = 0` (rows summing to zero) the correction is dropped and
    :math:`B = ZZ^\top`. Rows with negative entries are allowed (the formula holds; the
    "modularity" reading needs non-negative similarities).

    Each iteration multiplies by ``B`` and re-orthonormalises (QR); it stops when the relative
    residual of the invariant-subspace equation falls below ``tol`` or after ``max_iter``
    iterations, then rotates the basis to ``B``'s Ritz vectors (Rayleigh–Ritz). Cost
    ``O(N d k)`` per iteration, memory ``O(N (d + k))``.

    Args:
        z: ``[N, d]`` floating rows.
        k: Number of eigenvectors, ``1 <= k <= min(N, d)`` (``B`` has rank at most ``d``).
        gamma: Resolution :math:`\gamma \in [0, 1]` (1: Newman's modularity matrix).
        max_iter: Most subspace iterations (at least 1).
        tol: Relative residual at which to stop.
        random_state: Seed of the starting block (a local generator; the global RNG is untouched).
        callback: Called after each iteration with ``(iteration, trace(Q^T B Q), residual)``
            (iterations count from 0; an estimator reports them as epochs).

    Returns:
        A :class:`ModularityEigenvectors`.

    Raises:
        GraphclInputError: A bad ``z``, ``k``, ``gamma``, ``max_iter`` or ``tol``.
    """
    if not isinstance(z, Tensor) or z.dim() != 2 or z.numel() == 0 or not torch.is_floating_point(z):
        raise GraphclInputError(f"z must be a non-empty floating 2-D tensor [N, d], got {getattr(z, 'shape', z)}")
    if not bool(torch.isfinite(z).all()):
        raise GraphclInputError("z has non-finite entries")
    n, d = z.shape
    k = check_int(k, "k", minimum=1, maximum=min(n, d))
    gamma = check_float(gamma, "gamma", 0.0, 1.0)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    tol = check_float(tol, "tol", 0.0)
    s = z.sum(dim=0)
    degrees = z @ s  # d = Z Z^T 1, [N]
    total = float(s @ s)  # 1^T d
    scale = gamma / total if total > 0 else 0.0

    def apply(q: Tensor) -> Tensor:
        return z @ (z.t() @ q) - (scale * degrees).unsqueeze(1) * (degrees @ q).unsqueeze(0)

    g = torch.Generator(device=z.device).manual_seed(int(random_state))
    q = torch.linalg.qr(torch.randn(n, k, generator=g, device=z.device, dtype=z.dtype)).Q
    traces, residual, it = [], float("inf"), 0
    for it in range(1, max_iter + 1):
        y = apply(q)
        h = q.t() @ y
        traces.append(float(torch.trace(h)))
        norm = float(torch.linalg.norm(y))
        residual = float(torch.linalg.norm(y - q @ h)) / norm if norm > 0 else 0.0
        if callback is not None:
            callback(it - 1, traces[-1], residual)
        if residual <= tol:
            break
        q = torch.linalg.qr(y).Q
    h = q.t() @ apply(q)
    values, rot = torch.linalg.eigh((h + h.t()) / 2)
    order = torch.argsort(values, descending=True)
    return ModularityEigenvectors(q @ rot[:, order], values[order], it, residual, traces)


class SpectralClustering(NamedTuple):
    """Output of :func:`spectral_clustering`.

    Attributes:
        eigen: The :class:`ModularityEigenvectors` of the solve.
        embedding: ``[N, k]`` the eigenvectors with their rows L2-normalised.
        centers: ``[k, k]`` k-means centres in that embedding.
        labels: ``[N]`` clusters.
    """

    eigen: ModularityEigenvectors
    embedding: Tensor
    centers: Tensor
    labels: Tensor


def spectral_clustering(z: Tensor, k: int, *, gamma: float = 1.0, max_iter: int = 100, tol: float = 1e-6,
                        random_state: int = 0, n_init: int = 10,
                        callback: Optional[Callable[[int, float, float], None]] = None) -> SpectralClustering:
    r"""Spectral clustering of the rows of ``z`` by modularity: k-means (:func:`graphcl.cluster.kmeans`,
    ``n_init`` restarts, seeded with ``random_state``) on the row-normalised ``k`` leading
    eigenvectors of :math:`B = ZZ^\top - \gamma\,dd^\top/\mathbf 1^\top d`
    (:func:`modularity_eigenvectors`, whose other arguments these are). What
    :class:`~graphcl.models.SmoothedSpectral` does to its smoothed features and MEOW's
    ``clustering="spectral"`` to its embedding."""
    eig = modularity_eigenvectors(z, k, gamma=gamma, max_iter=max_iter, tol=tol, random_state=random_state,
                                  callback=callback)
    emb = F.normalize(eig.vectors, dim=1)
    centers, labels = kmeans(emb, k, random_state=random_state, n_init=n_init)
    return SpectralClustering(eig, emb, centers, labels)
