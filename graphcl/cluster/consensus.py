r"""Consensus of several hard clusterings of the same nodes (a cluster ensemble).

Given :math:`m` partitions :math:`\pi_1, \dots, \pi_m` of :math:`N` nodes, each node gets the
binary membership row :math:`h_i = [\,e_{\pi_1(i)}; \dots; e_{\pi_m(i)}\,] \in \{0, 1\}^{\sum_j
K_j}` (one one-hot block per partition, :math:`K_j` its number of clusters), and the consensus
is k-means with :math:`K` clusters on the rows :math:`h_i`. For a candidate partition
:math:`\pi` with clusters :math:`C_1, \dots, C_K`, the k-means objective on these rows is

.. math::
    \sum_{k} \sum_{i \in C_k} \lVert h_i - \bar h_{C_k} \rVert^2
    = N m - \sum_{j=1}^{m} \sum_{k} \frac{1}{|C_k|} \sum_{l} n^{(j)}_{kl}{}^2,

with :math:`n^{(j)}_{kl}` the number of nodes in cluster :math:`k` of :math:`\pi` and cluster
:math:`l` of :math:`\pi_j`. Minimising it maximises :math:`\sum_j \sum_k \sum_l
n^{(j)}_{kl}{}^2 / |C_k|`, the summed *category utility* (quadratic mutual information) between
:math:`\pi` and the members: the partition that agrees best with all of them at once (Mirkin,
2001; Topchy, Jain & Punch, *Clustering ensembles: models of consensus and weak partitions*,
IEEE TPAMI 2005). Labels are never involved: only the members' partitions.

The rows are stored sparse (:math:`m` non-zeros each), so memory and each k-means iteration
are :math:`O(N m K)` — never the :math:`N \times N` co-association matrix the same consensus is
often written with (:math:`h_i^\top h_{i'}` counts the members that put :math:`i` and
:math:`i'` together).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from graphcl.errors import GraphclInputError
from graphcl.validation import check_int, check_n_clusters

__all__ = ["consensus_clustering", "membership_matrix"]


def membership_matrix(partitions: Sequence[np.ndarray]):
    r"""The sparse binary membership matrix ``[N, Σ_j K_j]`` of ``partitions`` (one one-hot
    block per partition; a partition's labels are compacted to ``0 .. K_j - 1`` first, so
    unused label values cost no column).

    Args:
        partitions: ``m >= 1`` hard clusterings of the same ``N`` nodes, each ``[N]`` integers.

    Returns:
        A ``scipy.sparse.csr_matrix`` of float64 with exactly ``m`` ones per row.

    Raises:
        GraphclInputError: No partition, partitions of different lengths, an empty or
            non-integer or multi-dimensional one.
    """
    from scipy.sparse import csr_matrix

    if len(partitions) == 0:
        raise GraphclInputError("consensus: no partition given")
    arrays = [np.asarray(p) for p in partitions]
    n = arrays[0].shape[0] if arrays[0].ndim == 1 else -1
    cols, offset = [], 0
    for j, p in enumerate(arrays):
        if p.ndim != 1 or p.shape[0] != n or n == 0:
            raise GraphclInputError(f"consensus: partition {j} has shape {p.shape}; every partition must be [N] "
                                    f"with the same N >= 1 (the first has {arrays[0].shape})")
        if not np.issubdtype(p.dtype, np.integer):
            raise GraphclInputError(f"consensus: partition {j} holds {p.dtype} values, not integer labels")
        _, compact = np.unique(p, return_inverse=True)
        cols.append(compact.reshape(-1) + offset)
        offset += int(compact.max()) + 1
    m = len(arrays)
    indices = np.stack(cols, axis=1).reshape(-1)  # row-major: node i's m columns, increasing
    indptr = np.arange(0, n * m + 1, m)
    return csr_matrix((np.ones(n * m), indices, indptr), shape=(n, offset))


def consensus_clustering(partitions: Sequence[np.ndarray], n_clusters: int, random_state: int = 0,
                         n_init: int = 20) -> np.ndarray:
    r"""The consensus of ``partitions``: k-means (scikit-learn, ``n_init`` k-means++ restarts,
    seeded) on their :func:`membership_matrix`; see the module docstring for what it maximises.

    Args:
        partitions: ``m >= 1`` hard clusterings ``[N]`` of the same nodes.
        n_clusters: ``K`` of the consensus (``2 <= K <= N``).
        random_state: Seed of the k-means restarts.
        n_init: k-means++ restarts (the lowest objective is kept).

    Returns:
        The consensus labels ``[N]`` (int64, ``0 .. K - 1``).

    Raises:
        GraphclInputError: Bad partitions (see :func:`membership_matrix`), ``n_clusters``,
            ``random_state`` or ``n_init``.
    """
    from sklearn.cluster import KMeans

    h = membership_matrix(partitions)
    n_clusters = check_n_clusters(n_clusters, h.shape[0])
    random_state = check_int(random_state, "random_state", minimum=0, maximum=2**32 - 1)
    n_init = check_int(n_init, "n_init")
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(h)
    return km.labels_.astype(np.int64)
