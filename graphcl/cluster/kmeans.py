"""k-means initialisation of cluster centres (scikit-learn, seeded)."""

from __future__ import annotations

from typing import Tuple

import numpy as np
import torch
from torch import Tensor

from graphcl.validation import check_features, check_int, check_n_clusters


def kmeans(x: Tensor, n_clusters: int, random_state: int = 0, n_init: int = 20) -> Tuple[Tensor, Tensor]:
    """Fit scikit-learn's KMeans on ``x`` and return ``(centers [K, d], labels [N])``.

    The result is on ``x``'s device and dtype. ``random_state`` makes it deterministic (the
    reference used the unseeded global numpy RNG).

    Args:
        x: Points ``[N, d]``.
        n_clusters: ``K`` (``2 <= K <= N``).
        random_state: Seed for scikit-learn, in ``[0, 2**32 - 1]`` (``None``: unseeded).
        n_init: Number of k-means++ restarts (20, as SCGC).

    Raises:
        GraphclInputError: A bad ``x``, ``n_clusters``, ``random_state`` or ``n_init``.
    """
    from sklearn.cluster import KMeans

    x = check_features(x)
    n_clusters = check_n_clusters(n_clusters, x.size(0))
    random_state = check_int(random_state, "random_state", minimum=0, maximum=2**32 - 1, allow_none=True)
    n_init = check_int(n_init, "n_init")
    data = x.detach().cpu().double().numpy()
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(data)
    centers = torch.as_tensor(km.cluster_centers_, dtype=x.dtype, device=x.device)
    labels = torch.as_tensor(km.labels_.astype(np.int64), device=x.device)
    return centers, labels


def kmeans_centers(z: Tensor, n_clusters: int, random_state: int = 0, n_init: int = 20) -> Tensor:
    """Cluster centres ``[K, d]`` from k-means on embeddings ``z`` (see :func:`kmeans`)."""
    return kmeans(z, n_clusters, random_state=random_state, n_init=n_init)[0]
