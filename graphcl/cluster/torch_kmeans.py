r"""Lloyd's k-means in torch (any device): k-means++ seeding, best of several restarts.

It replaces the faiss-GPU clustering that MEOW runs on every epoch (meow.md §2.5, §8, §9.3):
``metric="ip"`` assigns each point to the centroid of largest inner product, like faiss
``IndexFlatIP``, and keeps the centroids L2-normalised (spherical k-means). All restarts run
together as one batch, and the assignment step is chunked over rows, so memory is
``O(chunk · n_init · K + n_init · (K + N) · d)`` besides the input.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.validation import check_choice, check_features, check_int, check_n_clusters

METRICS = ("ip", "euclidean", "ip_mean")
INITS = ("k-means++", "random")
_CHUNK_ELEMENTS = 1 << 20  # bound on the [chunk, n_init, K] score block (small blocks stay in cache)


class KMeansResult(NamedTuple):
    """Output of :func:`torch_kmeans`.

    Attributes:
        centroids: ``[K, d]`` cluster centres (unit-norm rows for ``metric="ip"``).
        labels: ``[N]`` long, the cluster of each point under ``centroids``.
        scores: ``[N]`` the assignment score: the inner product with the assigned centroid
            (``"ip"``) or the squared Euclidean distance to it (``"euclidean"``).
    """

    centroids: Tensor
    labels: Tensor
    scores: Tensor


def _normalize_centroids(c: Tensor, metric: str) -> Tensor:
    # A zero mean (e.g. two antipodal points) stays a zero vector rather than becoming NaN.
    return F.normalize(c, dim=-1) if metric == "ip" else c


def _assign(x: Tensor, x_sq: Tensor, c: Tensor, metric: str, chunk: int) -> Tuple[Tensor, Tensor]:
    """Best centroid of each point for every restart.

    Args:
        x: Points ``[N, d]``; x_sq: their squared norms ``[N]``.
        c: Centroids ``[R, K, d]`` (``R`` restarts).
        chunk: Rows per block: the score block is ``[chunk, R, K]``.

    Returns:
        ``(labels [R, N] long, scores [R, N])``: the score is the inner product (``"ip"``) or
        the squared distance (``"euclidean"``, clamped at 0 against rounding).
    """
    r, n = c.size(0), x.size(0)
    labels = torch.empty(r, n, dtype=torch.long, device=x.device)
    scores = torch.empty(r, n, dtype=x.dtype, device=x.device)
    k = c.size(1)
    ct = c.reshape(r * k, -1).t()  # [d, R·K]: one plain matmul for all restarts
    c_sq = c.pow(2).sum(-1).unsqueeze(0)  # [1, R, K]
    for s in range(0, n, chunk):
        sim = (x[s : s + chunk] @ ct).view(-1, r, k)  # [b, R, K]
        if metric == "euclidean":  # argmin ||x - c||^2 = argmax (2 x·c - ||c||^2)
            sim.mul_(2.0).sub_(c_sq)
        # argmax + gather, not max(dim): the latter can stall for milliseconds per call on a
        # busy multi-threaded CPU (torch 2.x), even on tiny blocks.
        idx = sim.argmax(dim=2)
        best = sim.gather(2, idx.unsqueeze(2)).squeeze(2)
        if metric == "euclidean":
            best = (x_sq[s : s + chunk, None] - best).clamp_min_(0.0)
        labels[:, s : s + chunk] = idx.t()
        scores[:, s : s + chunk] = best.t()
    return labels, scores


def _badness(scores: Tensor, metric: str) -> Tensor:
    """How far each point is from its centroid (larger = farther)."""
    return scores if metric == "euclidean" else -scores


def _draw(weights: Tensor, generator: torch.Generator) -> Tensor:
    """One index per row of ``weights [R, N] >= 0`` with probability proportional to the weight
    (uniform on an all-zero row), by inverting the cumulative sum: ``torch.multinomial`` costs
    far more per call, and k-means++ calls this ``K`` times."""
    cdf = weights.cumsum(1)
    total = cdf[:, -1:]
    flat = total <= 0  # every point coincides with a seed: draw uniformly (no sync)
    cdf = torch.where(flat, torch.arange(1, weights.size(1) + 1, device=cdf.device, dtype=cdf.dtype), cdf)
    target = torch.rand(weights.size(0), 1, generator=generator, device=cdf.device, dtype=cdf.dtype) * cdf[:, -1:]
    # side="right": a zero-weight point (an empty interval of the cdf) is never drawn.
    return torch.searchsorted(cdf, target, right=True).view(-1).clamp_max_(weights.size(1) - 1)


def _kmeans_pp(x: Tensor, x_sq: Tensor, k: int, n_init: int, generator: torch.Generator) -> Tensor:
    r"""k-means++ seeding for ``n_init`` restarts at once: ``[n_init, K]`` point indices.

    Each new seed is drawn with probability proportional to the squared Euclidean distance
    to the nearest seed so far (for both metrics: on unit vectors it is :math:`2 - 2\cos`).
    When every remaining point coincides with a seed (``K`` above the number of distinct
    points) the draw is uniform.
    """
    n = x.size(0)
    rows = torch.arange(n_init, device=x.device)
    idx = torch.empty(n_init, k, dtype=torch.long, device=x.device)
    idx[:, 0] = torch.randint(n, (n_init,), generator=generator, device=x.device)
    d2 = torch.full((n_init, n), float("inf"), dtype=x.dtype, device=x.device)
    for j in range(k):
        if j > 0:
            idx[:, j] = _draw(d2, generator)
        seed = x[idx[:, j]]  # [n_init, d]
        new = (x_sq[None, :] - 2.0 * seed @ x.t() + x_sq[idx[:, j]][:, None]).clamp_min_(0.0)
        new[rows, idx[:, j]] = 0.0  # exactly 0 for the seed itself, whatever the rounding
        d2 = torch.minimum(d2, new)
    return idx


def _update(x: Tensor, labels: Tensor, k: int) -> Tuple[Tensor, Tensor]:
    """Cluster means ``[R, K, d]`` and member counts ``[R, K]`` (0-vector for empty clusters)."""
    r, n = labels.shape
    flat = (labels + torch.arange(r, device=x.device)[:, None] * k).view(-1)
    sums = x.new_zeros(r * k, x.size(1)).index_add_(0, flat, x.repeat(r, 1))
    counts = torch.bincount(flat, minlength=r * k).view(r, k)
    means = sums.view(r, k, -1) / counts.clamp_min(1).unsqueeze(-1).to(x.dtype)
    return means, counts


def _reseed(x: Tensor, c: Tensor, small: Tensor, scores: Tensor, metric: str) -> Tensor:
    """Move each under-populated centroid onto one of the farthest points of its restart.

    The ``e``-th under-populated cluster of a restart (in index order) takes that restart's
    ``e``-th farthest point from its own centroid, so two re-seeded clusters never share a seed.
    """
    m = int(small.sum(1).max())
    far = _badness(scores, metric).topk(m, dim=1).indices  # [R, m]
    rank = (small.cumsum(1) - 1).clamp_min(0)  # [R, K]
    seed = x[far.gather(1, rank.clamp_max(m - 1))]  # [R, K, d]
    return torch.where(small.unsqueeze(-1), _normalize_centroids(seed, metric), c)


def torch_kmeans(
    x: Tensor,
    n_clusters: int,
    *,
    metric: str = "ip",
    n_init: int = 5,
    max_iter: int = 20,
    random_state: int = 0,
    min_points: int = 1,
    chunk_size: Optional[int] = None,
    init: Union[str, Tensor] = "k-means++",
) -> KMeansResult:
    r"""Lloyd's k-means; the best of ``n_init`` restarts.

    ``init="k-means++"`` seeds each restart by k-means++ (``K`` sequential draws);
    ``init="random"`` takes ``K`` distinct points uniformly, as faiss's ``Kmeans`` does (MEOW's
    clustering) — one draw, much cheaper for large ``K``.

    Each iteration assigns every point to its best centroid, then sets each centroid to the
    mean of its points (``metric="ip"``: the L2-normalised mean, i.e. spherical k-means, as
    MEOW's faiss ``IndexFlatIP`` clustering). A restart stops after ``max_iter`` updates or as
    soon as its assignment stops changing without a re-seeding (further iterations would repeat
    themselves); converged restarts drop out of the batch. The returned labels and scores are
    a final assignment to the returned centroids. The best restart maximises the total
    similarity :math:`\sum_i x_i^\top\mu_{c(i)}` (``"ip"``) or minimises the inertia
    :math:`\sum_i \lVert x_i-\mu_{c(i)}\rVert^2` (``"euclidean"``).

    **Empty clusters**: after each update, every cluster with fewer than ``min_points``
    members (default 1: only empty ones) is re-seeded on one of the points farthest from their
    own centroid in that restart (the largest distance, or the smallest inner product), a
    different point per cluster. faiss instead splits a large cluster, and only warns about
    ``min_points_per_centroid``. When ``K`` exceeds the number of distinct points some clusters
    must stay empty: coinciding centroids tie and the lowest index wins.

    Randomness comes only from a local ``torch.Generator`` seeded with ``random_state`` on
    ``x``'s device, so the same seed gives the same result (bit-identical on CPU), and the
    global RNG is untouched.

    Cost per iteration: ``O(n_init · N · K · d)`` time (one matmul per row chunk for all
    restarts); seeding ``O(n_init · K · N · d)`` in ``K`` sequential steps. On one CPU thread,
    ``N = 4000``, ``K = 300``, ``d = 64`` and the defaults take about 0.3 s: the matmuls are
    the floor (``20 · 5 · 2NKd ≈ 15`` GFLOP at most); ``n_init=1`` or clustering every few
    epochs is the way to go faster.

    Args:
        x: Points ``[N, d]`` (detached: k-means is not differentiable).
        n_clusters: ``K``, with ``2 <= K <= N``.
        metric: ``"ip"`` (inner product, unit-norm centroids: spherical k-means),
            ``"euclidean"``, or ``"ip_mean"`` (inner-product assignment to centroids that are
            plain means, not normalised: faiss's ``Clustering`` on an ``IndexFlatIP`` with its
            default ``spherical=False``, as MEOW's reference clusters).
        n_init: Number of restarts (faiss ``nredo``; MEOW uses 5).
        max_iter: Maximum number of Lloyd updates (faiss ``niter``; MEOW uses 20).
        random_state: Seed of the local generator.
        min_points: Clusters with fewer members are re-seeded after each update.
        chunk_size: Rows per assignment block; default keeps the ``[chunk, n_init, K]`` block
            near :math:`2^{20}` elements.
        init: ``"k-means++"``, ``"random"``, or a ``[K, d]`` tensor of starting centroids (a
            warm start, e.g. the previous epoch's: one restart, ``n_init`` is ignored, and a
            starting centroid nobody is nearest to is re-seeded like an emptied one).

    Returns:
        :class:`KMeansResult` ``(centroids [K, d], labels [N] long, scores [N])``.

    Raises:
        GraphclInputError: bad ``x``, ``K`` outside ``[2, N]``, unknown metric or init, a
            ``random_state`` that is not an integer, a negative
            ``max_iter`` or a non-positive ``n_init`` / ``min_points`` / ``chunk_size``.
    """
    x = check_features(x).detach()
    n = x.size(0)
    k = check_n_clusters(n_clusters, n)
    check_choice(metric, "metric", METRICS)
    n_init = check_int(n_init, "n_init", minimum=1)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    min_points = check_int(min_points, "min_points", minimum=1)
    if isinstance(init, Tensor):
        if init.dim() != 2 or tuple(init.shape) != (k, x.size(1)) or not torch.is_floating_point(init):
            raise GraphclInputError(f"init must be 'k-means++', 'random' or a float tensor [{k}, {x.size(1)}] of "
                                    f"starting centroids, got shape {tuple(init.shape)}")
        if not bool(torch.isfinite(init).all()):
            raise GraphclInputError("init holds a non-finite centroid")
        n_init = 1
    else:
        check_choice(init, "init", INITS)
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ELEMENTS // (n_init * k))
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    random_state = check_int(random_state, "random_state", minimum=None)

    generator = torch.Generator(device=x.device).manual_seed(random_state)
    with torch.no_grad():
        x_sq = x.pow(2).sum(1)
        if isinstance(init, Tensor):
            c = _normalize_centroids(init.detach().to(device=x.device, dtype=x.dtype).unsqueeze(0).clone(), metric)
        elif init == "random":
            seeds = torch.stack([torch.randperm(n, generator=generator, device=x.device)[:k] for _ in range(n_init)])
            c = _normalize_centroids(x[seeds], metric)  # [R, K, d]
        else:
            c = _normalize_centroids(x[_kmeans_pp(x, x_sq, k, n_init, generator)], metric)
        labels, scores = _assign(x, x_sq, c, metric, chunk_size)
        active = torch.arange(n_init, device=x.device)  # restarts still moving
        for _ in range(max_iter):
            means, counts = _update(x, labels[active], k)
            c_a = torch.where((counts > 0).unsqueeze(-1), _normalize_centroids(means, metric), c[active])
            small = counts < min_points
            if bool(small.any()):
                c_a = _reseed(x, c_a, small, scores[active], metric)
            labels_a, scores_a = _assign(x, x_sq, c_a, metric, chunk_size)
            # Same labels and no re-seeding: the next update would give the same centroids.
            moving = small.any(1) | (labels_a != labels[active]).any(1)
            c[active], labels[active], scores[active] = c_a, labels_a, scores_a
            active = active[moving]
            if active.numel() == 0:
                break
        objective = scores.sum(1)
        best = int(objective.argmin() if metric == "euclidean" else objective.argmax())
    return KMeansResult(c[best].contiguous(), labels[best].contiguous(), scores[best].contiguous())
