"""Small fits whose seed-0 results were recorded before the estimators moved onto one base class
(``graphcl/models/base.py``), so that ``test_models_unchanged.py`` can show the restructuring
left behaviour unchanged.

``python tests/models/reference_fits.py OUT.npz`` writes every case's ``labels_`` and
``embeddings_``. The committed ``tests/models/data/reference_fits.npz`` was written this way at
commit 7bfb5a4 (before the restructuring), on one torch thread.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

HOMOGENEOUS = dict(hidden_channels=(32,), embedding_dim=8, pretrain_epochs=5, cache=False, epochs=25, random_state=0)


def _homogeneous_graph():
    from graphcl.data import planted_partition_graph

    g = planted_partition_graph(300, 3, avg_degree=6.0, p_intra=0.8, num_features=20, sigma=1.0, seed=0)
    g.y = None
    return g


def _hetero_graph():
    from test_models_meow import planted_hetero

    data = planted_hetero(0)
    del data["item"].y
    return data


def cases() -> Dict[str, Tuple[Callable[[], Any], Callable[[], Any]]]:
    """name -> (graph factory, estimator factory). MEOW's arguments use the names every
    version of the API accepts (``max_epochs`` / ``hidden_channels`` are deprecated aliases after
    the restructuring: the warning is silenced here)."""
    from graphcl import models

    meow = dict(hidden_channels=16, num_prototypes=(6, 12), max_epochs=30, patience=20, temperature=0.5, lr=5e-3,
                top_k=[20, 40], adj_mask=0.2, feat_mask=0.2, random_state=0)
    # PamC as the reference runs it (graphcl's PamC defaults changed after the restructuring)
    ref = {"negatives": "meta", "reseed_empty": False} if "negatives" in models.PamC._get_param_names() else {}
    # mini-batch partners as they were encoded then (graphcl's default became historical embeddings)
    enc = {"partners": "encode"} if "partners" in models.SCGC._get_param_names() else {}
    # MEOW's per-epoch k-means as it was then (spherical; graphcl's default became plain means)
    sph = {"spherical_kmeans": True} if "spherical_kmeans" in models.MEOW._get_param_names() else {}
    return {
        "scgc": (_homogeneous_graph, lambda: models.SCGC(3, order=2, **HOMOGENEOUS)),
        "scgc_star": (_homogeneous_graph, lambda: models.SCGCStar(3, order=3, **HOMOGENEOUS)),
        "scgc_star_minibatch": (_homogeneous_graph, lambda: models.SCGCStar(3, order=2, batch_size=64, **HOMOGENEOUS, **enc)),
        "pamc": (_homogeneous_graph, lambda: models.PamC(3, order=3, alpha=2.0, beta=2.0, **HOMOGENEOUS, **ref)),
        "pamc_minibatch": (_homogeneous_graph, lambda: models.PamC(3, order=2, batch_size=64, **HOMOGENEOUS, **ref, **enc)),
        "meow": (_hetero_graph, lambda: models.MEOW(3, **meow, **sph)),
        "adameow": (_hetero_graph, lambda: models.AdaMEOW(3, **{**meow, "max_epochs": 15, "patience": None})),
    }


def fit_case(name: str) -> Tuple[np.ndarray, np.ndarray]:
    """``(labels_, embeddings_)`` of one case, fitted on one torch thread."""
    graph, estimator = cases()[name]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = estimator().fit(graph())
    finally:
        torch.set_num_threads(threads)
    return np.asarray(model.labels_), np.asarray(model.embeddings_)


if __name__ == "__main__":
    out = {}
    for name in cases():
        labels, emb = fit_case(name)
        out[f"{name}/labels"], out[f"{name}/embeddings"] = labels, emb
        print(name, np.bincount(labels))
    np.savez_compressed(sys.argv[1], **out)
