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


def hetero(seed=0):
    from graphcl.data.synthetic_hetero import planted_hetero_graph

    return planted_hetero_graph(400, 4, 16, 3.0, seed=seed)


def test_metapath_variant_smooths_each_metapath_and_recovers_planted_classes():
    """On a planted paper-author-venue graph whose features alone are noisy, the mean of the
    per-meta-path smoothings clusters the papers; the embedding is the documented pipeline."""
    from graphcl.data.metapath import metapath_adjacency
    from graphcl.models import SmoothedSpectralMetaPath

    data = hetero()
    y = data["paper"].y.numpy()
    unlabelled = copy.copy(data)
    del unlabelled["paper"].y
    model = SmoothedSpectralMetaPath(4, random_state=0).fit(unlabelled)
    assert evaluate_clustering(y, model.labels_)["acc"] > 0.9 and model.n_epochs_ == model.n_iter_
    assert get("spectral_metapath") is SmoothedSpectralMetaPath and SmoothedSpectralMetaPath.family == "heterogeneous"
    x = F.normalize(data["paper"].x.float(), dim=1)
    zs = []
    for mp in data.metapaths.values():
        ei, _ = metapath_adjacency(data, mp, binary=True)
        zs.append(geometric_smoothing(x, ei[:, ei[0] != ei[1]], alpha=0.9, hops=10))
    z = F.normalize(sum(zs) / len(zs), dim=1)
    eig = modularity_eigenvectors(z, 4, gamma=1.0, max_iter=100, tol=1e-5, random_state=0)
    assert torch.allclose(torch.as_tensor(model.embeddings_), F.normalize(eig.vectors, dim=1), atol=1e-5)
    again = SmoothedSpectralMetaPath(4, random_state=0).fit(data)  # labels present: never read
    np.testing.assert_array_equal(again.labels_, model.labels_)
    assert not model.featureless_ and model.metapath_names_ == list(data.metapaths)


def test_metapath_variant_featureless_target_and_errors():
    from graphcl.models import SmoothedSpectralMetaPath

    data = hetero(seed=1)
    del data["paper"].x
    model = SmoothedSpectralMetaPath(4, random_state=0, sketch_dim=16, featureless="sketch").fit(data)
    assert model.featureless_ and model.embeddings_.shape == (400, 4)
    svd = SmoothedSpectralMetaPath(4, random_state=0, sketch_dim=16).fit(data)
    assert svd.featureless == "svd" and svd.featureless_ and svd.embeddings_.shape == (400, 4)
    assert evaluate_clustering(data["paper"].y.numpy(), svd.labels_)["acc"] > 0.5  # structure alone; chance 0.25
    with pytest.raises(GraphclInputError, match="featureless must be one of"):
        SmoothedSpectralMetaPath(3, featureless="table").fit(data)
    with pytest.raises(GraphclInputError, match="HeteroData"):
        SmoothedSpectralMetaPath(3).fit(graph(n=60, k=3))
    with pytest.raises(GraphclInputError, match="target node type 'nope'"):
        SmoothedSpectralMetaPath(3, target="nope").fit(data)
    with pytest.raises(GraphclInputError, match="meta-path"):
        SmoothedSpectralMetaPath(3, metapaths=[[("paper", "to", "nowhere")]]).fit(data)
