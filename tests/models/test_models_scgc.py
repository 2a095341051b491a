"""SCGC / SCGC* estimators: quality on a synthetic graph, label-blindness, prediction, errors."""

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphcl import GraphclInputError
from graphcl.cluster import kmeans
from graphcl.data import planted_partition_graph
from graphcl.metrics import cluster_acc
from graphcl.models import SCGC, SCGCStar

SMALL = dict(hidden_channels=(64,), embedding_dim=8, pretrain_epochs=20, cache=False)


def hidden_signal_graph(seed, n=600, k=4):
    """A planted partition whose class signal sits in 4 of 32 feature columns, buried under 28
    high-variance noise columns: k-means on the raw features is near chance, while the graph
    (90 % intra-block edges) tells an encoder which directions matter."""
    data = planted_partition_graph(n, k, avg_degree=10, p_intra=0.9, num_features=4, sigma=0.3, seed=seed)
    g = torch.Generator().manual_seed(seed)
    data.x = torch.cat([data.x, 2.0 * torch.randn(n, 28, generator=g)], dim=1)
    return data


@pytest.mark.parametrize("seed", [0, 1])
def test_scgc_star_beats_kmeans_on_raw_features(seed):
    data = hidden_signal_graph(seed)
    _, km = kmeans(data.x, 4, random_state=seed)
    km_acc = cluster_acc(data.y, km)
    assert km_acc <= 0.6
    model = SCGCStar(4, order=2, temperature=0.5, lr=1e-2, epochs=100, random_state=seed, **SMALL)
    acc = cluster_acc(data.y, model.fit(data).labels_)
    assert acc >= km_acc + 0.1, (acc, km_acc)


def test_fit_never_sees_labels():
    data = hidden_signal_graph(0, n=200)
    kw = dict(order=2, temperature=0.5, lr=1e-2, epochs=10, random_state=0, **SMALL)
    no_y = Data(x=data.x, edge_index=data.edge_index)
    permuted = Data(x=data.x, edge_index=data.edge_index, y=data.y[torch.randperm(200)])
    a = SCGCStar(4, **kw).fit(no_y).labels_
    b = SCGCStar(4, **kw).fit(permuted).labels_
    c = SCGCStar(4, **kw).fit(data).labels_
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_estimator_api_and_unseen_nodes():
    data = hidden_signal_graph(1, n=200)
    model = SCGC(4, order=1, epochs=5, random_state=0, **SMALL)
    labels = model.fit_predict(data)
    assert labels.shape == (200,) and model.labels_ is labels
    assert model.soft_assignments_.shape == (200, 4)
    assert np.allclose(model.soft_assignments_.sum(1), 1, atol=1e-5)
    assert model.cluster_centers_.shape == (4, 8) and model.embeddings_.shape == (200, 8)
    assert len(model.loss_history_) == 5 and "reconstruction" in model.loss_history_[0]
    assert model.decoder_ is not None
    # prediction needs features only: the graph is not used at inference
    assert np.array_equal(model.predict(data.x), model.labels_)
    assert model.predict(data.x[:7]).shape == (7,)
    assert model.transform(data.x[:3]).shape == (3, 8)
    assert set(model.timings_) >= {"prepare_seconds", "pretrain_seconds", "train_seconds", "epoch_seconds"}
    assert model.get_params()["order"] == 1
    star = SCGCStar(4, epochs=2, random_state=0, **SMALL).fit(data)
    assert star.decoder_ is None and "reconstruction" not in star.loss_history_[0]
    assert star.get_params()["influence"] is None and star._use_influence()


def test_same_seed_same_labels():
    data = hidden_signal_graph(2, n=150)
    kw = dict(order=2, epochs=8, random_state=4, **SMALL)
    assert np.array_equal(SCGCStar(4, **kw).fit(data).labels_, SCGCStar(4, **kw).fit(data).labels_)


def test_pretrain_random_state_shares_one_autoencoder_across_seeds(monkeypatch):
    import graphcl.models.scgc as scgc_module

    seen = []
    real = scgc_module.pretrain_autoencoder

    def spy(*args, **kwargs):
        seen.append(kwargs["random_state"])
        return real(*args, **kwargs)

    monkeypatch.setattr(scgc_module, "pretrain_autoencoder", spy)
    data = hidden_signal_graph(3, n=120)
    kw = dict(order=1, epochs=1, **SMALL)
    nets = [SCGCStar(4, random_state=s, pretrain_random_state=7, **kw) for s in (0, 1)]
    encoders = [est.build_network(data.x, torch.device("cpu"))[0] for est in nets]
    for a, b in zip(encoders[0].parameters(), encoders[1].parameters()):
        assert torch.equal(a, b)  # one pretrained autoencoder for both seeds
    own = [SCGCStar(4, random_state=s, **kw).build_network(data.x, torch.device("cpu"))[0] for s in (0, 1)]
    assert not torch.equal(next(own[0].parameters()), next(own[1].parameters()))  # default: one per seed
    assert seen == [7, 7, 0, 1]
    # a fit with a shared pretraining is reproducible
    a = SCGCStar(4, random_state=0, pretrain_random_state=7, **kw).fit(data)
    b = SCGCStar(4, random_state=0, pretrain_random_state=7, **kw).fit(data)
    assert np.array_equal(a.labels_, b.labels_) and seen[-2:] == [7, 7]
    with pytest.raises(GraphclInputError, match="pretrain_random_state"):
        SCGCStar(4, pretrain_random_state=-1, **kw).fit(data)


def test_bad_input():
    data = hidden_signal_graph(0, n=50)
    est = SCGCStar(4, epochs=1, **SMALL)
    x_nan = data.x.clone()
    x_nan[3, 1] = float("nan")
    with pytest.raises(GraphclInputError, match="NaN"):
        est.fit(Data(x=x_nan, edge_index=data.edge_index))
    with pytest.raises(GraphclInputError, match="out of range"):
        est.fit(Data(x=data.x, edge_index=torch.tensor([[0, 50], [1, 2]])))
    with pytest.raises(GraphclInputError, match="negative"):
        est.fit(Data(x=data.x, edge_index=torch.tensor([[0, -1], [1, 2]])))
    with pytest.raises(GraphclInputError, match=r"shape \[2, num_edges\]"):
        est.fit(Data(x=data.x, edge_index=torch.tensor([[0, 1, 2]])))
    with pytest.raises(GraphclInputError, match="integers"):
        est.fit(Data(x=data.x, edge_index=data.edge_index.float()))
    with pytest.raises(GraphclInputError, match="no nodes"):
        est.fit(Data(x=torch.empty(0, 4), edge_index=torch.empty(2, 0, dtype=torch.long)))
    with pytest.raises(GraphclInputError, match="n_clusters"):
        SCGCStar(1, **SMALL).fit(data)
    with pytest.raises(GraphclInputError, match="n_clusters"):
        SCGCStar(51, **SMALL).fit(data)
    with pytest.raises(GraphclInputError, match="temperature"):
        SCGCStar(4, temperature=0, **SMALL).fit(data)
    with pytest.raises(GraphclInputError, match="not fitted"):
        SCGCStar(4).predict(data.x)
    fitted = SCGCStar(4, epochs=1, **SMALL).fit(data)
    with pytest.raises(GraphclInputError, match="features"):
        fitted.predict(data.x[:, :5])


def test_graph_without_edges_still_fits():
    """Every node keeps its self-loop positive, so an edgeless graph is legal input."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=g)
    model = SCGCStar(3, epochs=2, **SMALL).fit(x, edge_index=torch.empty(2, 0, dtype=torch.long))
    assert model.labels_.shape == (40,)


def test_warns_when_clusters_are_left_empty():
    x = torch.ones(30, 4)  # identical nodes: every node lands in the same cluster
    edge_index = torch.tensor([[0, 1], [1, 0]])
    with pytest.warns(RuntimeWarning, match="clusters received nodes"):
        SCGCStar(3, epochs=1, **SMALL).fit(x, edge_index=edge_index)


def test_guard_rail_refuses_an_exact_run_that_would_take_hours(monkeypatch):
    from graphcl.data import planted_partition_graph
    from graphcl.models import PamC, SCGCStar

    data = planted_partition_graph(20_000, 4, 4, 0.8, 8, 1.0)
    with pytest.raises(GraphclInputError, match=r"20000 nodes would take about .* h \(.* s per epoch x 100000 epochs.*use PamC"):
        SCGCStar(4, pretrain_epochs=0, epochs=100_000, max_hours=0.01).fit(data)
    calls = []
    monkeypatch.setattr("graphcl.losses.neighbor_contrast.estimate_all_pairs_seconds", lambda *a, **k: calls.append(a) or 1.0)
    PamC(4, pretrain_epochs=0, epochs=1, max_hours=0.01, hidden_channels=(8,)).fit(data)  # linear: never measured
    SCGCStar(4, pretrain_epochs=0, epochs=1, max_hours=None, hidden_channels=(8,), batch_size=4096).fit(data)
    assert calls == []


def test_kl_warmup_default_follows_pretraining():
    assert SCGCStar(3, pretrain_epochs=0, epochs=9)._kl_warmup_epochs() == 4
    assert SCGCStar(3, pretrain_epochs=30, epochs=9)._kl_warmup_epochs() == 0
    assert SCGCStar(3, pretrain_epochs=0, epochs=9, kl_warmup=7)._kl_warmup_epochs() == 7
    assert SCGCStar(3, pretrain_epochs=0, epochs=9, distributed=True)._kl_warmup_epochs() == 0
    data = hidden_signal_graph(0, n=60)
    with pytest.raises(GraphclInputError, match="kl_warmup"):
        SCGCStar(4, kl_warmup=-1, **SMALL).fit(data)
    with pytest.raises(GraphclInputError, match="kl_warmup is not supported with distributed"):
        SCGCStar(4, kl_warmup=2, distributed=True, **SMALL).fit(data)


@pytest.mark.parametrize("batch_size", [None, 64])
def test_kl_warmup_trains_the_contrast_alone_then_restarts_the_centres(monkeypatch, batch_size):
    from graphcl.models import PamC
    from graphcl.models import scgc as scgc_module

    calls = []
    original = scgc_module.kmeans_centers

    def counting(z, *args, **kwargs):
        calls.append(z.detach().clone())
        return original(z, *args, **kwargs)

    monkeypatch.setattr(scgc_module, "kmeans_centers", counting)
    data = hidden_signal_graph(0, n=200)
    model = PamC(4, order=1, epochs=6, kl_warmup=3, alpha=2.0, beta=2.0, lr=1e-2, random_state=0,
                 batch_size=batch_size, **dict(SMALL, pretrain_epochs=0)).fit(data)
    h = model.loss_history_
    for e in range(3):  # warm-up: the loss is the contrastive term alone
        assert h[e]["loss"] == pytest.approx(2.0 * h[e]["contrast"], rel=1e-6)
    for e in range(3, 6):
        assert h[e]["loss"] == pytest.approx(2.0 * h[e]["kl"] + 2.0 * h[e]["contrast"], rel=1e-6)
        assert h[e]["kl"] > 0
    # k-means twice: on the initial embedding, then on the warmed-up one (which has moved)
    assert len(calls) == 2 and not torch.allclose(calls[0], calls[1])
    no_warmup = PamC(4, order=1, epochs=6, kl_warmup=0, alpha=2.0, beta=2.0, lr=1e-2, random_state=0,
                     batch_size=batch_size, **dict(SMALL, pretrain_epochs=0)).fit(data)
    assert len(calls) == 3
    assert no_warmup.loss_history_[0]["loss"] > no_warmup.loss_history_[0]["contrast"] * 2.0
