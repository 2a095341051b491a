"""Mini-batch training: anchor batches cover every node and pair once; the batch losses equal
their dense formulas; the estimators train in mini-batches on CPU."""

import numpy as np
import pytest
import torch

from graphcl import GraphclInputError
from graphcl.cluster import kmeans
from graphcl.data import planted_partition_graph
from graphcl.losses import NeighborContrastLoss, PamCLoss
from graphcl.losses.pamc import meta_nodes
from graphcl.metrics import cluster_acc
from graphcl.models import SCGC, PamC, SCGCStar
from graphcl.models.minibatch import PositivePairBatches, anchor_batches
from graphcl.nn import encode_in_chunks


def random_pairs(n=40, nnz=150, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, nnz), generator=g)
    loop = torch.arange(n)
    ei = torch.cat([ei, torch.stack([loop, loop])], 1)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64)
    return ei, w


def as_set(rows, cols, w):
    return sorted(zip(rows.tolist(), cols.tolist(), [round(v, 12) for v in w.tolist()]))


def test_gather_returns_exactly_the_anchor_rows():
    n = 40
    ei, w = random_pairs(n)
    pairs = PositivePairBatches(ei, w, n)
    anchors = torch.tensor([3, 17, 0, 39, 22])
    nodes, pos, local, lw = pairs.gather(anchors)
    assert torch.equal(nodes[pos], anchors)
    assert torch.equal(nodes, torch.unique(nodes))  # sorted, distinct
    mask = torch.isin(ei[0], anchors)
    assert as_set(nodes[local[0]], nodes[local[1]], lw) == as_set(ei[0][mask], ei[1][mask], w[mask])


def test_an_epoch_uses_every_node_and_every_pair_once():
    n = 41
    ei, w = random_pairs(n, seed=1)
    pairs = PositivePairBatches(ei, w, n)
    seen_nodes, rows, cols, ws = [], [], [], []
    for anchors in anchor_batches(n, 8, torch.Generator().manual_seed(0), torch.device("cpu")):
        assert 2 <= anchors.numel() <= 8
        nodes, _, local, lw = pairs.gather(anchors)
        seen_nodes.append(anchors)
        rows.append(nodes[local[0]]), cols.append(nodes[local[1]]), ws.append(lw)
    assert torch.equal(torch.sort(torch.cat(seen_nodes)).values, torch.arange(n))
    assert as_set(torch.cat(rows), torch.cat(cols), torch.cat(ws)) == as_set(ei[0], ei[1], w)


def test_batches_never_hold_a_single_anchor():
    for n, b in [(3, 2), (5, 4), (2, 1000), (101, 50)]:
        sizes = [a.numel() for a in anchor_batches(n, b, torch.Generator().manual_seed(0), torch.device("cpu"))]
        assert sum(sizes) == n and min(sizes) >= 2 and max(sizes) <= max(b, 3)


def dense_anchor_nc(z, ei, w, anchors, t):
    n = z.size(0)
    zn = z / z.norm(dim=1, keepdim=True)
    s = (zn @ zn.t()) * (1 - torch.eye(n, dtype=z.dtype))
    wd = torch.zeros(n, n, dtype=z.dtype).index_put_((ei[0], ei[1]), w, accumulate=True)
    num = (wd * torch.exp(s / t)).sum(1)[anchors]
    sa = s[anchors][:, anchors]
    den = torch.exp(sa / t).sum(1)  # s_ii := 0 contributes exp(0), as in the reference
    return (torch.log(den) - torch.log(num)).mean()


def test_neighbor_contrast_anchor_mode_equals_dense_formula():
    n = 40
    ei, w = random_pairs(n, seed=2)
    z = torch.randn(n, 5, dtype=torch.float64, requires_grad=True)
    anchors = torch.tensor([1, 5, 9, 30, 31, 2])
    ours = NeighborContrastLoss(0.5, block_size=4)(z, ei, w, anchors=anchors)
    ref = dense_anchor_nc(z, ei, w, anchors, 0.5)
    assert torch.allclose(ours, ref, atol=1e-10)
    g1, = torch.autograd.grad(ours, z)
    g2, = torch.autograd.grad(ref, z)
    assert torch.allclose(g1, g2, atol=1e-10)
    # all nodes as anchors is the full-batch loss
    full = NeighborContrastLoss(0.5)(z, ei, w)
    assert torch.allclose(NeighborContrastLoss(0.5)(z, ei, w, anchors=torch.arange(n)), full, atol=1e-12)


def test_anchor_argument_errors():
    ei, w = random_pairs(10, 20)
    z = torch.randn(10, 3)
    loss = NeighborContrastLoss(1.0)
    with pytest.raises(GraphclInputError, match="anchors"):
        loss(z, ei, w, anchors=torch.tensor([1, 1]))
    with pytest.raises(GraphclInputError, match="outside"):
        loss(z, ei, w, anchors=torch.tensor([1, 10]))
    with pytest.raises(GraphclInputError, match="not both"):
        loss(z, ei, w, node_index=torch.tensor([1, 2]), anchors=torch.tensor([1, 2]))


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_pamc_anchor_mode_with_base_equals_dense_formula(mode):
    n, k, t = 40, 4, 0.7
    ei, w = random_pairs(n, seed=3)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(n, 5, dtype=torch.float64, generator=g).requires_grad_()
    anchors = torch.tensor([0, 7, 8, 21, 33, 39])
    q = torch.softmax(torch.randn(len(anchors), k, dtype=torch.float64, generator=g), 1).requires_grad_()
    base = (torch.randn(k, 5, dtype=torch.float64, generator=g), torch.full((k,), 3.0, dtype=torch.float64))
    ours = PamCLoss(t, meta_nodes=mode)(z, ei, w, q, anchors=anchors, base=base)
    # dense: positives of the anchors' rows; meta-nodes = anchors' sums + base
    zn = z / z.norm(dim=1, keepdim=True)
    s = (zn @ zn.t()) * (1 - torch.eye(n, dtype=z.dtype))
    wd = torch.zeros(n, n, dtype=z.dtype).index_put_((ei[0], ei[1]), w, accumulate=True)
    pos = -torch.log((wd * torch.exp(s / t)).sum(1)[anchors]).mean()
    c, _ = meta_nodes(z[anchors], q, mode)
    cn = (c + base[0]) / (c + base[0]).norm(dim=1, keepdim=True)
    sc = (cn @ cn.t()) * (1 - torch.eye(k, dtype=z.dtype))
    ref = pos + torch.log(torch.exp(sc / t).sum(1)).mean()
    assert torch.allclose(ours, ref, atol=1e-10)
    for a, b in zip(torch.autograd.grad(ours, (z, q), allow_unused=True), torch.autograd.grad(ref, (z, q), allow_unused=True)):
        assert (a is None and b is None) or torch.allclose(a, b, atol=1e-10)


def test_pamc_base_shape_is_checked():
    ei, w = random_pairs(10, 20)
    z, q = torch.randn(10, 3), torch.softmax(torch.randn(2, 4), 1)
    with pytest.raises(GraphclInputError, match="base"):
        PamCLoss(1.0)(z, ei, w, q, anchors=torch.tensor([0, 1]), base=(torch.zeros(4, 2), torch.zeros(4)))


def test_encode_in_chunks_matches_one_pass():
    enc = torch.nn.Sequential(torch.nn.Linear(6, 9), torch.nn.ReLU(), torch.nn.Linear(9, 3))
    x = torch.randn(50, 6)
    assert torch.allclose(encode_in_chunks(enc, x, 7), enc(x).detach(), atol=1e-6)


TINY = dict(hidden_channels=(32,), embedding_dim=8, pretrain_epochs=0, cache=False)


def planted(n=600, seed=0):
    # Strong graph signal, weak features: k-means on x is poor, the graph carries the clusters.
    return planted_partition_graph(n, 4, avg_degree=10, p_intra=0.9, num_features=16, sigma=2.0, seed=seed)


@pytest.mark.parametrize("cls,extra", [(SCGCStar, {}), (SCGC, {}), (PamC, {"meta_node_scope": "global"}),
                                       (PamC, {"meta_node_scope": "batch"}), (PamC, {"meta_nodes": "soft"})])
def test_estimators_train_in_minibatches(cls, extra):
    data = planted(200)
    kw = dict(epochs=3, batch_size=64, random_state=0, **TINY, **extra)
    model = cls(4, **kw).fit(data)
    assert model.labels_.shape == (200,) and model.embeddings_.shape == (200, 8)
    assert len(model.loss_history_) == 3 and all(np.isfinite(h["loss"]) for h in model.loss_history_)
    assert np.array_equal(cls(4, **kw).fit(data).labels_, model.labels_)  # deterministic


@pytest.mark.parametrize("cls,extra", [(SCGCStar, {}), (PamC, {"meta_node_scope": "global"}),
                                       (PamC, {"meta_node_scope": "batch"}), (PamC, {"meta_nodes": "soft"})])
def test_one_batch_holding_every_node_is_a_full_batch_epoch(cls, extra):
    # The first epoch's KL target uses the initial state's cluster frequencies in both modes,
    # so with one batch of all N anchors the loss and the updated model must agree.
    data = planted(150)
    kw = dict(epochs=1, random_state=0, lr=1e-2, **TINY, **extra)
    full = cls(4, **kw).fit(data)
    mini = cls(4, batch_size=1000, **kw).fit(data)
    for key, v in full.loss_history_[0].items():
        assert mini.loss_history_[0][key] == pytest.approx(v, rel=1e-5, abs=1e-7), key
    assert np.allclose(mini.embeddings_, full.embeddings_, atol=1e-5)


def test_minibatch_scgc_star_beats_kmeans_on_raw_features():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_models_scgc import SMALL, hidden_signal_graph

    for seed in (0, 1):
        data = hidden_signal_graph(seed)
        _, km = kmeans(data.x, 4, random_state=seed)
        km_acc = cluster_acc(data.y, km)
        assert km_acc <= 0.6
        model = SCGCStar(4, order=2, temperature=0.5, lr=1e-2, epochs=30, batch_size=128, random_state=seed, **SMALL)
        acc = cluster_acc(data.y, model.fit(data).labels_)
        assert acc >= km_acc + 0.1, (seed, acc, km_acc)


@pytest.mark.parametrize("bad", [0, 1, 2.5, True, "64"])
def test_bad_batch_size(bad):
    with pytest.raises(GraphclInputError, match="batch_size"):
        SCGCStar(4, batch_size=bad, epochs=1, **TINY).fit(planted(50))


def test_bad_meta_node_scope():
    with pytest.raises(GraphclInputError, match="meta_node_scope"):
        PamC(4, meta_node_scope="world", epochs=1, **TINY).fit(planted(50))


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_batch_weight_scales_the_meta_node_gradient_not_the_value(mode):
    n, k = 40, 4
    ei, w = random_pairs(n, seed=5)
    g = torch.Generator().manual_seed(1)
    z = torch.randn(n, 5, dtype=torch.float64, generator=g).requires_grad_()
    anchors = torch.tensor([2, 3, 11, 19, 27])
    q = torch.softmax(torch.randn(len(anchors), k, dtype=torch.float64, generator=g), 1)
    base = (torch.randn(k, 5, dtype=torch.float64, generator=g), torch.full((k,), 5.0, dtype=torch.float64))
    loss = PamCLoss(0.5, meta_nodes=mode)
    v1 = loss.negative_term(z[anchors], q, base, batch_weight=1.0)
    v8 = loss.negative_term(z[anchors], q, base, batch_weight=8.0)
    assert torch.allclose(v1, v8, atol=1e-12)
    g1, = torch.autograd.grad(v1, z)
    g8, = torch.autograd.grad(v8, z)
    assert torch.allclose(8.0 * g1, g8, atol=1e-10) and g1.abs().sum() > 0


def _training_rows(model, data):
    """Rows the encoder sees with gradient enabled during ``fit`` (training passes only)."""
    from graphcl.nn import MLPEncoder

    rows = []

    def hook(module, args, output):
        if isinstance(module, MLPEncoder) and torch.is_grad_enabled():
            rows.append(args[0].size(0))

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        model.fit(data)
    finally:
        handle.remove()
    return sum(rows)


@pytest.mark.parametrize("cls", [SCGCStar, PamC])
def test_history_partners_encode_each_node_once_per_epoch(cls):
    data = planted(200)
    kw = dict(order=2, epochs=2, batch_size=32, random_state=0, **TINY)
    assert _training_rows(cls(4, **kw), data) == 2 * 200  # the anchors only
    assert _training_rows(cls(4, partners="encode", **kw), data) > 3 * 2 * 200  # anchors and their partners


def test_history_partners_match_encode_with_one_batch_and_differ_with_several():
    data = planted(150)
    kw = dict(epochs=2, random_state=0, lr=1e-2, **TINY)
    one = [PamC(4, batch_size=1000, partners=p, **kw).fit(data) for p in ("history", "encode")]
    np.testing.assert_allclose(one[0].embeddings_, one[1].embeddings_, atol=1e-6)  # every partner is an anchor
    many = [PamC(4, batch_size=16, partners=p, **kw).fit(data) for p in ("history", "encode")]
    assert not np.allclose(many[0].embeddings_, many[1].embeddings_, atol=1e-4)


@pytest.mark.parametrize("cls", [SCGCStar, PamC])
def test_history_minibatch_keeps_its_clusters_and_beats_kmeans_on_raw_features(cls):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_models_scgc import SMALL, hidden_signal_graph

    for seed in (0, 1):
        data = hidden_signal_graph(seed)
        _, km = kmeans(data.x, 4, random_state=seed)
        km_acc = cluster_acc(data.y, km)
        model = cls(4, order=2, temperature=0.5, lr=1e-2, epochs=30, batch_size=128, random_state=seed, **SMALL)
        labels = model.fit(data).labels_
        assert len(np.unique(labels)) == 4
        assert cluster_acc(data.y, labels) >= km_acc + 0.1, (seed, cluster_acc(data.y, labels), km_acc)


def test_bad_partners():
    with pytest.raises(GraphclInputError, match="partners"):
        PamC(4, partners="neighbours", batch_size=16, epochs=1, **TINY).fit(planted(50))
