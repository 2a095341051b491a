"""SmoothedSpectral: the pipeline it documents, label-blindness, determinism, errors, save/load."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone

from graphcl.cluster.spectral import modularity_eigenvectors
from graphcl.data import planted_partition_graph
from graphcl.errors import GraphclInputError
from graphcl.metrics import evaluate_clustering
from graphcl.models import SmoothedSpectral, get, load_estimator
from graphcl.ops import geometric_smoothing


def graph(seed=0, n=300, k=4):
    return planted_partition_graph(n, k, avg_degree=6.0, p_intra=0.85, num_features=24, sigma=3.0, seed=seed)


def test_recovers_planted_clusters_and_is_the_documented_pipeline():
    """On a planted partition whose features alone are noisy, smoothing plus the modularity
    embedding finds the blocks; the fitted embedding is exactly rownorm(U) for the leading
    eigenvectors U of the documented B on rownorm(smoothed rownorm(X))."""
    data = graph()
    y = data.y.numpy()
    model = SmoothedSpectral(4, random_state=0).fit(data)
    assert evaluate_clustering(y, model.labels_)["acc"] > 0.9
    x = F.normalize(data.x.float(), dim=1)
    z = F.normalize(geometric_smoothing(x, data.edge_index, alpha=0.9, hops=10), dim=1)
    eig = modularity_eigenvectors(z, 4, gamma=1.0, max_iter=100, tol=1e-5, random_state=0)
    assert torch.allclose(torch.as_tensor(model.embeddings_), F.normalize(eig.vectors, dim=1), atol=1e-6)
    assert model.embeddings_.shape == (300, 4) and model.eigenvalues_.shape == (4,)
    assert np.all(np.diff(model.eigenvalues_) <= 1e-6) and model.n_iter_ == eig.n_iter
    assert len(model.loss_history_) == model.n_iter_ == len(model.timings_["epoch_seconds"])
    assert model.timings_["pretrain_seconds"] == 0.0
    # the features alone (no smoothing) cluster worse: the graph is doing work
    raw = SmoothedSpectral(4, hops=0, random_state=0).fit(data)
    assert evaluate_clustering(y, raw.labels_)["acc"] < evaluate_clustering(y, model.labels_)["acc"]


def test_never_reads_labels_and_is_seeded():
    data = graph(seed=1)
    a = SmoothedSpectral(4, random_state=3).fit(data)
    shuffled = copy.copy(data)
    shuffled.y = data.y[torch.randperm(data.y.numel())]
    b = SmoothedSpectral(4, random_state=3).fit(shuffled)
    unlabelled = copy.copy(data)
    del unlabelled.y
    c = SmoothedSpectral(4, random_state=3).fit(unlabelled)
    d = SmoothedSpectral(4, random_state=3).fit(data.x, data.edge_index)
    for other in (b, c, d):
        np.testing.assert_array_equal(a.labels_, other.labels_)
        np.testing.assert_array_equal(a.embeddings_, other.embeddings_)
    np.testing.assert_array_equal(a.fit_predict(data), a.labels_)
    assert get("spectral") is SmoothedSpectral and SmoothedSpectral.family == "homogeneous"
    assert clone(a).get_params() == a.get_params()


def test_errors():
    data = graph(n=60, k=3)
    with pytest.raises(GraphclInputError, match="feature count"):
        SmoothedSpectral(30).fit(data)  # 24 features: Z Z^T has rank <= 24
    with pytest.raises(GraphclInputError, match="checkpoint"):
        SmoothedSpectral(3, checkpoint="ckpt.pt").fit(data)
    with pytest.raises(GraphclInputError, match="resume"):
        SmoothedSpectral(3).fit(data, resume="ckpt.pt")
    for bad, match in (({"alpha": 1.0}, "alpha"), ({"hops": -1}, "hops"), ({"gamma": 2.0}, "gamma"),
                       ({"epochs": 0}, "epochs"), ({"tol": -1}, "tol"), ({"kmeans_n_init": 0}, "kmeans_n_init")):
        with pytest.raises(GraphclInputError, match=match):
            SmoothedSpectral(3, **bad).fit(data)
    with pytest.raises(GraphclInputError, match="edge_index"):
        SmoothedSpectral(3).fit(data.x)


def test_save_load_and_epoch_log(tmp_path):
    data = graph(n=120, k=3)
    log = tmp_path / "iterations.csv"
    model = SmoothedSpectral(3, random_state=2, epoch_log=str(log)).fit(data)
    assert log.is_file() and len(log.read_text().strip().splitlines()) >= model.n_iter_  # one row per iteration
    model.save(tmp_path / "m.pt")
    back = load_estimator(tmp_path / "m.pt")
    assert type(back) is SmoothedSpectral and back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.labels_, model.labels_)
    np.testing.assert_array_equal(back.embeddings_, model.embeddings_)
    assert back.n_iter_ == model.n_iter_ and back.n_features_in_ == 24
