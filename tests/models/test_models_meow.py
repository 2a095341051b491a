"""MEOW / AdaMEOW estimators on a small synthetic HeteroData (not a shipped dataset)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from graphcl.errors import GraphclInputError
from graphcl.metrics import cluster_acc, nmi
from graphcl.models import MEOW, AdaMEOW, MEOWLinear, MEOWReference

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "losses"))
from meow_dense_references import (  # noqa: E402
    dense_adaptive_infonce,
    dense_meta_weighted_infonce,
    dense_prototype,
    dense_weighted_infonce,
)


def planted_hetero(seed: int = 0, n_item: int = 240, n_tag: int = 60, n_shop: int = 12, k: int = 3) -> HeteroData:
    """Items (target, weak features) linked to featureless tags and to shops with features;
    an item links mostly to tags and shops of its own block."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n_item) % k
    data = HeteroData()
    means = torch.randn(k, 16, generator=g)
    data["item"].x = means[y] * 0.6 + torch.randn(n_item, 16, generator=g)
    data["item"].y = y
    data["tag"].num_nodes = n_tag
    data["shop"].x = torch.randn(n_shop, 8, generator=g)

    def links(n_dst: int, per_item: int, p_in: float) -> torch.Tensor:
        src = torch.arange(n_item).repeat_interleave(per_item)
        own = torch.rand(src.numel(), generator=g) < p_in
        block = torch.where(own, y[src], torch.randint(0, k, (src.numel(),), generator=g))
        size = n_dst // k
        dst = block * size + torch.randint(0, size, (src.numel(),), generator=g)
        return torch.stack([src, dst]).unique(dim=1)

    it, is_ = links(n_tag, 4, 0.9), links(n_shop, 1, 0.8)
    data["item", "has", "tag"].edge_index = it
    data["tag", "of", "item"].edge_index = it.flip(0)
    data["item", "sold_at", "shop"].edge_index = is_
    data["shop", "sells", "item"].edge_index = is_.flip(0)
    data.target_node_type = "item"
    data.metapaths = {
        "ITI": [("item", "has", "tag"), ("tag", "of", "item")],
        "ISI": [("item", "sold_at", "shop"), ("shop", "sells", "item")],
    }
    return data


SMALL = dict(embedding_dim=16, num_prototypes=(6, 12), epochs=60, patience=20, temperature=0.5, lr=5e-3,
             top_k=[20, 40], adj_mask=0.2, feat_mask=0.2)


def _without_y(data):
    d = data.clone()
    del d["item"].y
    return d


def test_meow_fits_and_uses_the_graph():
    data = planted_hetero()
    y = data["item"].y.numpy()
    model = MEOW(3, random_state=0, **SMALL).fit(_without_y(data))
    assert model.embeddings_.shape == (240, 16) and np.isfinite(model.embeddings_).all()
    assert model.labels_.shape == (240,) and 1 <= model.n_epochs_ <= 60
    assert all(np.isfinite(h["loss"]) for h in model.loss_history_)
    assert np.allclose(model.transform(), model.embeddings_, atol=1e-6)  # eval mode: deterministic
    from sklearn.cluster import KMeans

    raw = KMeans(3, n_init=10, random_state=0).fit_predict(data["item"].x.numpy())
    # the meta-path views carry the block structure that the weak features alone do not
    assert nmi(y, model.labels_) > nmi(y, raw) + 0.2
    assert cluster_acc(y, model.labels_) > 0.8


def test_meow_spectral_clustering_changes_only_the_labels():
    """clustering="spectral": the same training and embedding, bit for bit; labels_ are k-means
    on the row-normalised modularity eigenvectors of the embedding (as documented)."""
    import torch.nn.functional as F
    from sklearn.cluster import KMeans

    from graphcl.cluster import modularity_eigenvectors

    data = _without_y(planted_hetero(4))
    args = {**SMALL, "epochs": 10}
    a = MEOW(3, random_state=2, **args).fit(data)
    b = MEOW(3, random_state=2, clustering="spectral", **args).fit(data)
    np.testing.assert_array_equal(a.embeddings_, b.embeddings_)
    assert a.loss_history_ == b.loss_history_
    eig = modularity_eigenvectors(torch.as_tensor(b.embeddings_, dtype=torch.float64), 3, gamma=1.0, max_iter=1000,
                                  tol=1e-8, random_state=2)
    want = KMeans(3, n_init=10, random_state=2).fit_predict(F.normalize(eig.vectors, dim=1).numpy())
    np.testing.assert_array_equal(b.labels_, want)
    with pytest.raises(GraphclInputError, match="clustering"):
        MEOW(3, clustering="dbscan", **args).fit(data)
    with pytest.raises(GraphclInputError, match="n_clusters <= embedding_dim"):
        MEOW(20, clustering="spectral", **args).fit(data)


def test_meow_never_sees_labels():
    data = planted_hetero(1)
    a = MEOW(3, random_state=3, **{**SMALL, "epochs": 8}).fit(_without_y(data)).labels_
    permuted = data.clone()
    permuted["item"].y = permuted["item"].y[torch.randperm(240)]
    b = MEOW(3, random_state=3, **{**SMALL, "epochs": 8}).fit(permuted).labels_
    assert np.array_equal(a, b)


def test_adameow_fits():
    data = planted_hetero(2)
    y = data["item"].y.numpy()
    model = AdaMEOW(3, random_state=0, embedding_dim=16, epochs=60, temperature=0.5, lr=5e-3,
                    top_k=[20, 40]).fit(_without_y(data))
    assert model.n_epochs_ == 60 and np.isfinite(model.embeddings_).all()
    assert cluster_acc(y, model.labels_) > 0.6


def test_bad_inputs():
    data = planted_hetero()
    with pytest.raises(GraphclInputError, match="HeteroData"):
        MEOW(3).fit(data["item"].x)
    with pytest.raises(GraphclInputError, match="not a path"):
        MEOW(3, metapaths=[[("item", "has", "tag"), ("item", "sold_at", "shop")]]).fit(data)
    with pytest.raises(GraphclInputError, match="lacks"):
        MEOW(3, metapaths=[[("item", "likes", "tag"), ("tag", "of", "item")]]).fit(data)
    with pytest.raises(GraphclInputError, match="top_k"):
        MEOW(3, top_k=[1, 2, 3]).fit(data)
    with pytest.raises(GraphclInputError, match="temperature"):
        MEOW(3, temperature=0).fit(data)
    with pytest.raises(GraphclInputError, match="target"):
        MEOW(3, target="user").fit(data)
    with pytest.raises(GraphclInputError, match="fitted"):
        MEOW(3).transform()


def test_patience_stop_on_a_flat_loss_warns_and_min_epochs_trains_past_it():
    # lr=1e-30 and no dropout: the weights (float32) never change, so the loss is exactly flat
    data = _without_y(planted_hetero(3))
    flat = {**SMALL, "lr": 1e-30, "dropout": 0.0, "patience": 2, "epochs": 40}
    with pytest.warns(RuntimeWarning, match="early plateau"):
        stopped = MEOWReference(3, random_state=0, **flat).fit(data)  # the reference's rule
    assert stopped.n_epochs_ == 3 and len({h["loss"] for h in stopped.loss_history_}) == 1
    with pytest.warns(RuntimeWarning, match="early plateau"):
        later = MEOWReference(3, random_state=0, min_epochs=10, **flat).fit(data)
    assert later.n_epochs_ == 10
    with pytest.raises(GraphclInputError, match="min_epochs"):
        MEOW(3, min_epochs=-1).fit(data)


def test_graphcl_default_warm_up_never_stops_an_untrained_model():
    """graphcl's MEOW (min_decrease=0.05): a loss that never falls trains until `epochs`; a
    trained run stops only after its loss fell by 5 % of the first epoch's."""
    data = _without_y(planted_hetero(3))
    flat = {**SMALL, "lr": 1e-30, "dropout": 0.0, "patience": 2, "epochs": 12}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "early plateau" warning: it did not stop
        model = MEOW(3, random_state=0, **flat).fit(data)
    assert model.n_epochs_ == 12 and model.min_decrease == 0.05
    trained = MEOW(3, random_state=0, **{**SMALL, "patience": 3}).fit(data)
    losses = [h["loss"] for h in trained.loss_history_]
    assert losses[0] - min(losses) >= 0.05 * abs(losses[0])
    with pytest.raises(GraphclInputError, match="min_decrease"):
        MEOW(3, min_decrease=1.5).fit(data)


def test_meow_reference_is_registered_with_the_reference_stopping_rule():
    from sklearn.base import clone

    from graphcl.models import get

    assert get("meow_reference") is MEOWReference and get("meow") is MEOW
    ref = MEOWReference(3, patience=7)
    assert ref.min_decrease == 0.0 and MEOW(3).min_decrease == 0.05
    reference_ways = dict(embedding="train", concentration="similarity", spherical_kmeans=False, pathsim_ties="numpy")
    assert {k: getattr(ref, k) for k in reference_ways} == reference_ways
    assert {k: getattr(MEOW(3), k) for k in reference_ways} == dict(embedding="eval", concentration="distance",
                                                                    spherical_kmeans=False, pathsim_ties="seeded")
    assert MEOWLinear(3).spherical_kmeans is True and MEOWLinear(3, spherical_kmeans=False).spherical_kmeans is False
    params = ref.get_params()
    assert params["patience"] == 7 and set(params) == set(MEOW(3).get_params())
    assert clone(ref).get_params() == params


def test_meow_meta_negatives_fit_and_cluster():
    data = planted_hetero()
    y = data["item"].y.numpy()
    model = MEOW(3, random_state=0, negatives="meta", **SMALL).fit(_without_y(data))
    assert type(model.loss_module_).__name__ == "MetaNodeWeightedInfoNCE"
    assert np.isfinite(model.embeddings_).all() and cluster_acc(y, model.labels_) > 0.8


def test_meow_linear_warm_kmeans_clusters_and_continues_from_the_last_centroids(monkeypatch):
    from graphcl import cluster  # MEOW imports torch_kmeans from here at call time: the spy sees every call

    data = planted_hetero()
    y = data["item"].y.numpy()
    calls = []

    original = cluster.torch_kmeans

    def spy(x, k, **kw):
        calls.append((k, kw.get("init") if isinstance(kw.get("init"), str) else "warm", kw.get("max_iter", 20)))
        return original(x, k, **kw)

    monkeypatch.setattr(cluster, "torch_kmeans", spy)
    model = MEOWLinear(3, random_state=0, **SMALL).fit(_without_y(data))
    assert model.negatives == "meta" and model.kmeans == "warm"
    assert calls[:2] == [(6, "random", 20), (12, "random", 20)]  # the first epoch: the reference's clustering
    assert all(c == (k, "warm", MEOW.WARM_ITERATIONS) for c, k in zip(calls[2:], [6, 12] * len(calls)))
    assert len(calls) == 2 * model.n_epochs_
    assert np.isfinite(model.embeddings_).all() and cluster_acc(y, model.labels_) > 0.8
    with pytest.raises(GraphclInputError, match="kmeans must be"):
        MEOW(3, kmeans="cold").fit(_without_y(data))


def test_featureless_types_get_a_table_or_neighbour_sketches():
    data = _without_y(planted_hetero())  # "tag" has no features
    table = MEOW(3, random_state=0, **{**SMALL, "epochs": 2})
    table.fit(data)
    assert table.network_args_["feature_dims"]["tag"] is None and table.inputs_.features["tag"] is None
    sketch = MEOW(3, random_state=0, featureless="sketch", **{**SMALL, "epochs": 2}).fit(data)
    assert sketch.network_args_["feature_dims"]["tag"] == 64  # one relation leaves "tag": 64 dimensions
    assert sketch.inputs_.features["tag"].shape == (60, 64)
    assert torch.equal(sketch.inputs_.features["item"], table.inputs_.features["item"])  # real features kept
    with pytest.raises(GraphclInputError, match="featureless must be one of"):
        MEOW(3, featureless="onehot").fit(data)


def test_featureless_svd_gives_a_featureless_target_its_metapath_svd_features():
    from graphcl.data import metapath_svd_features

    data = _without_y(planted_hetero())
    y = planted_hetero()["item"].y.numpy()
    del data["item"].x  # the target is featureless now; "tag" still is
    data["item"].num_nodes = 240
    model = MEOW(3, random_state=0, featureless="svd", **{**SMALL, "epochs": 8, "patience": None}).fit(data)
    x = model.inputs_.features["item"]
    assert x.shape == (240, 64) and model.network_args_["feature_dims"]["item"] == 64
    assert torch.equal(x, metapath_svd_features(data, "item", list(data.metapaths.values()), 64, seed=0))
    assert model.inputs_.features["tag"] is None  # context types keep their learnable tables
    assert np.isfinite(model.embeddings_).all() and cluster_acc(y, model.labels_) > 0.8
    with_x = MEOW(3, random_state=0, featureless="svd", **{**SMALL, "epochs": 2}).fit(_without_y(planted_hetero()))
    assert torch.equal(with_x.inputs_.features["item"], planted_hetero()["item"].x)  # real features kept
    # graphcl's default; the reference's behaviour keeps the learnable table for the target too
    from graphcl.models import MEOWReference

    assert MEOW().featureless == "svd" and MEOWReference().featureless == "table"
    ref = MEOWReference(3, random_state=0, **{**SMALL, "epochs": 2, "pathsim_ties": "seeded"}).fit(data)
    assert ref.inputs_.features["item"] is None and ref.network_args_["feature_dims"]["item"] is None


def test_reference_options_each_change_the_fit_and_the_reference_fits():
    data = _without_y(planted_hetero())
    small = {**SMALL, "epochs": 6, "patience": None}
    base = MEOW(3, random_state=0, **small).fit(data)
    for option in (dict(embedding="train"), dict(concentration="similarity"), dict(spherical_kmeans=True),
                   dict(pathsim_ties="numpy")):
        other = MEOW(3, random_state=0, **small, **option).fit(data)
        assert np.isfinite(other.embeddings_).all()
        assert not np.allclose(other.embeddings_, base.embeddings_), option
    train = MEOW(3, random_state=0, embedding="train", **small).fit(data)
    assert not np.allclose(train.transform(), train.embeddings_)  # transform is eval mode; the fit kept train mode
    ref = MEOWReference(3, random_state=0, **small).fit(data)
    assert ref.embeddings_.shape == (240, 16) and np.isfinite(ref.embeddings_).all()
    for bad in (dict(embedding="test"), dict(concentration="cosine"), dict(spherical_kmeans="yes"),
                dict(pathsim_ties="stable")):
        with pytest.raises(GraphclInputError, match=next(iter(bad))):
            MEOW(3, **bad).fit(data)


def test_negatives_values_and_the_all_target_guard_rail(monkeypatch):
    data = _without_y(planted_hetero())
    with pytest.raises(GraphclInputError, match="negatives must be one of"):
        MEOW(3, negatives="mass").fit(data)
    with pytest.raises(GraphclInputError, match="negatives must be one of"):
        AdaMEOW(3, negatives="meta").fit(data)
    with pytest.raises(GraphclInputError, match="max_epoch_seconds"):
        MEOW(3, max_epoch_seconds=0).fit(data)
    monkeypatch.setattr(MEOW, "GUARD_MIN_TARGETS", 100)  # 240 targets: the guard measures
    with pytest.raises(GraphclInputError, match=r"about \d+ s per epoch.*negatives='meta'"):
        MEOW(3, random_state=0, max_epoch_seconds=1e-9, **{**SMALL, "epochs": 1}).fit(data)
    fine = MEOW(3, random_state=0, negatives="meta", max_epoch_seconds=1e-9, **{**SMALL, "epochs": 1}).fit(data)
    assert fine.n_epochs_ == 1  # the meta-node loss is linear: no guard


def test_estimate_pairs_seconds_scales_with_the_square_of_n():
    from graphcl.losses.meow import estimate_pairs_seconds

    small, large = estimate_pairs_seconds(2000, 16), estimate_pairs_seconds(8000, 16)
    assert 0 < small < large  # 16x the pairs; a loose bound on a shared machine
    with pytest.raises(GraphclInputError, match="num_targets"):
        estimate_pairs_seconds(0, 16)


@pytest.mark.parametrize("method", ["meow", "meow_meta", "adameow"])
def test_training_loss_on_a_tiny_graph_equals_dense_reference(method):
    # the whole training loss of a tiny heterogeneous graph (encoders, both views, projection,
    # chunked loss with its hand-written backward) against the dense formulas, through autograd
    # to every network parameter
    from graphcl.cluster import torch_kmeans
    from graphcl.losses import cluster_concentration

    data = _without_y(planted_hetero(5, n_item=30, n_tag=9, n_shop=3))
    common = dict(random_state=0, embedding_dim=8, epochs=1, dropout=0.0, temperature=0.5, top_k=None)
    if method in ("meow", "meow_meta"):
        negatives = "meta" if method == "meow_meta" else "pairs"
        model = MEOW(3, num_prototypes=(3, 5), lambda_proto=0.7, negatives=negatives, **common).fit(data)
    else:
        model = AdaMEOW(3, projection_channels=6, weight_hidden=4, **common).fit(data)
    net, loss_fn, inputs = model.network_, model.loss_module_, model.inputs_
    net.train()
    params = [p for p in list(net.parameters()) + list(loss_fn.parameters()) if p.requires_grad]
    z, zc = net(**inputs.network_inputs())
    got = model._loss(loss_fn, net, z, zc)["loss"]
    got_grads = torch.autograd.grad(got, params, allow_unused=True)
    z, zc = net(**inputs.network_inputs())
    if method in ("meow", "meow_meta"):
        u, v = net.project(zc), net.project(z)
        labels, centroids, phis = [], [], []
        for r, k in enumerate((3, 5)):
            # the reference's plain-mean centroids (MEOW's default), normalised for the prototypes
            km = torch_kmeans(v.detach(), k, metric="ip_mean", init="random", random_state=r)
            labels.append(km.labels)
            centroids.append(torch.nn.functional.normalize(km.centroids, dim=1))
            phis.append(cluster_concentration(v.detach(), km.centroids, km.labels, 0.5, smoothing=5.0))
        contrast = dense_meta_weighted_infonce if method == "meow_meta" else dense_weighted_infonce
        ref = contrast(u, v, labels, 0.5) + 0.7 * dense_prototype(u, centroids, labels, phis)
    else:
        ref = dense_adaptive_infonce(net.project(z), net.project(zc), loss_fn.lin_a.weight, loss_fn.lin_a.bias,
                                     loss_fn.lin_b.weight, loss_fn.lin_b.bias, 0.5)
    ref_grads = torch.autograd.grad(ref, params, allow_unused=True)
    assert torch.allclose(got, ref, rtol=1e-5)
    assert sum(g is not None and g.abs().sum() > 0 for g in got_grads) > len(params) // 2  # the loss reaches the network
    for g, h in zip(got_grads, ref_grads):
        assert (g is None) == (h is None)
        if g is not None:
            assert torch.allclose(g, h, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("cls", [MEOW, MEOWLinear, AdaMEOW])
def test_recompute_trains_bit_identically(cls):
    data = planted_hetero(seed=2)
    kw = dict(SMALL, epochs=8, patience=None, random_state=1)
    if cls is AdaMEOW:
        kw = {k: v for k, v in kw.items() if k not in ("num_prototypes",)}
    a = cls(3, recompute=False, **kw).fit(data)
    b = cls(3, recompute=True, **kw).fit(data)
    assert a.get_params()["recompute"] is False and b.get_params()["recompute"] is True
    assert np.array_equal(a.embeddings_, b.embeddings_)
    assert [h["loss"] for h in a.loss_history_] == [h["loss"] for h in b.loss_history_]
    assert np.array_equal(a.labels_, b.labels_)


def test_recompute_releases_freed_heap_before_each_backward(monkeypatch):
    """When memory binds (recompute on) the freed heap goes back to the system once after the
    inputs and once per epoch before the backward pass; not otherwise."""
    import graphcl.models.meow as meow_module

    calls = []
    monkeypatch.setattr(meow_module, "release_free_heap", lambda: calls.append(1) or True)
    data = planted_hetero(seed=2)
    kw = dict(SMALL, epochs=3, patience=None, random_state=1)
    MEOW(3, recompute=False, **kw).fit(data)
    assert calls == []
    MEOW(3, recompute=True, **kw).fit(data)
    assert len(calls) == 1 + 3


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_recompute_must_be_a_bool_or_auto(bad):
    with pytest.raises(GraphclInputError, match="recompute must be True, False or 'auto'"):
        MEOW(3, recompute=bad, **SMALL).fit(planted_hetero())


def test_recompute_auto_turns_on_above_the_activation_budget(monkeypatch):
    data = planted_hetero()
    kw = dict(SMALL, epochs=2, patience=None)
    assert MEOWLinear(3, **kw).get_params()["recompute"] == "auto" and MEOW(3).get_params()["recompute"] is False
    assert MEOWLinear(3, **kw).fit(data).network_.recompute is False  # 240 targets: far below 1 GiB
    # the rule: 60 [N, embedding_dim] floats against the budget
    n, h = 240, SMALL["embedding_dim"]
    monkeypatch.setattr(MEOW, "RECOMPUTE_AUTO_BYTES", 60 * n * h * 4 - 1)
    assert MEOWLinear(3, **kw).fit(data).network_.recompute is True
    assert MEOW(3, recompute="auto", **kw).fit(data).network_.recompute is True
    monkeypatch.setattr(MEOW, "RECOMPUTE_AUTO_BYTES", 60 * n * h * 4)
    assert MEOWLinear(3, **kw).fit(data).network_.recompute is False
    assert MEOWLinear(3, recompute=True, **kw).fit(data).network_.recompute is True


def test_stopping_on_embedding_convergence():
    """stopping="embedding" ends training at a check (every 10 epochs) once the eval-mode embedding
    of the sample has stopped moving, not when the loss stops improving; MEOWLinear's default;
    it does not touch the training's random stream (the first epochs equal the loss rule's)."""
    from graphcl.models import MEOWLinear

    data = _without_y(planted_hetero())
    y = planted_hetero()["item"].y.numpy()
    kw = {**SMALL, "epochs": 300, "patience": 3}
    conv = MEOW(3, random_state=0, stopping="embedding", stopping_tol=0.01, **kw).fit(data)
    loss = MEOW(3, random_state=0, **kw).fit(data)
    assert loss.n_epochs_ < 60 and conv.n_epochs_ % 10 == 0 and loss.n_epochs_ < conv.n_epochs_ < 300
    assert [h["loss"] for h in conv.loss_history_[:loss.n_epochs_]] == [h["loss"] for h in loss.loss_history_]
    assert cluster_acc(y, conv.labels_) > 0.8
    assert MEOWLinear().stopping == "embedding" and MEOW().stopping == "loss"
    with pytest.raises(GraphclInputError, match="stopping must be one of"):
        MEOW(3, stopping="drift").fit(data)
    with pytest.raises(GraphclInputError, match="stopping_tol"):
        MEOW(3, stopping="embedding", stopping_tol=0.0).fit(data)
