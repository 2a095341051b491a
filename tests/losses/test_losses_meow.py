"""MEOW's losses against dense references written from meow.md §2.5-2.6 (nothing imported from
graphcl.losses for the references)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from meow_dense_references import dense_prototype, dense_weighted_infonce, random_views, values_and_grads

from graphcl import GraphclInputError
from graphcl.losses import ClusterWeightedInfoNCE, PrototypeLoss, cluster_concentration

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.mark.parametrize("chunk_size", [1, 5, 23, 100])
@pytest.mark.parametrize("n_clusterings", [1, 2])
@pytest.mark.parametrize("temperature", [0.05, 0.4, 2.0])
def test_weighted_infonce_matches_dense(chunk_size, n_clusterings, temperature):
    u, v, g = random_views(23, 6, seed=n_clusterings)
    clusterings = [torch.randint(0, k, (23,), generator=g) for k in (3, 5)[:n_clusterings]]
    loss = ClusterWeightedInfoNCE(temperature, chunk_size=chunk_size)
    got = values_and_grads(lambda a, b: loss(a, b, clusterings), u, v)
    ref = values_and_grads(lambda a, b: dense_weighted_infonce(a, b, clusterings, temperature), u, v)
    for x, y in zip(got, ref):
        assert torch.allclose(x, y, rtol=1e-9, atol=1e-12)


def dense_weighted_infonce_log_space(u, v, clusterings, temperature):
    """The same formula with log sum_j w_ij s_ij = logsumexp_j(u_i v_j / T + log w_ij) (no overflow)."""
    w = sum((c[:, None] != c[None, :]).to(u.dtype) for c in clusterings)
    logits = u @ v.t() / temperature
    return (torch.logsumexp(logits + torch.log(w), dim=1) - torch.diagonal(logits)).mean()


@pytest.mark.parametrize("scale", [1.0, 300.0])  # 300: logits ~1e5, the row-maximum shift
def test_weighted_infonce_unnormalised_inputs_and_tensor_of_clusterings(scale):
    u, v, g = random_views(17, 4, seed=3, normalise=False)
    u, v = u * scale, v * scale
    labels = torch.stack([torch.randint(0, 4, (17,), generator=g), torch.randint(0, 2, (17,), generator=g)])
    got = values_and_grads(lambda a, b: ClusterWeightedInfoNCE(0.3, chunk_size=4)(a, b, labels), u, v)
    ref = values_and_grads(lambda a, b: dense_weighted_infonce_log_space(a, b, list(labels), 0.3), u, v)
    for x, y in zip(got, ref):  # logits of 1e5 carry rounding of about 1e-11 each
        assert torch.allclose(x, y, rtol=1e-9, atol=1e-9 * float(y.abs().max()))


def test_weighted_infonce_gradcheck():
    u, v, g = random_views(8, 3, seed=4)
    clusterings = [torch.randint(0, 3, (8,), generator=g), torch.randint(0, 2, (8,), generator=g)]
    loss = ClusterWeightedInfoNCE(0.7, chunk_size=3)
    assert torch.autograd.gradcheck(lambda a, b: loss(a, b, clusterings), (u.requires_grad_(), v.requires_grad_()))


def test_weighted_infonce_single_weighted_negative_and_zero_weight_pairs():
    # Node 0 shares both clusters with every node but node 5: its only weighted negative is
    # node 5 (w = 2), and all its other weights are 0 -- still the exact formula, finite.
    n = 6
    u, v, _ = random_views(n, 3, seed=5)
    c1 = torch.tensor([0, 0, 0, 0, 0, 1])
    c2 = torch.tensor([2, 2, 2, 2, 2, 0])
    got = values_and_grads(lambda a, b: ClusterWeightedInfoNCE(0.1, chunk_size=2)(a, b, [c1, c2]), u, v)
    ref = values_and_grads(lambda a, b: dense_weighted_infonce(a, b, [c1, c2], 0.1), u, v)
    for x, y in zip(got, ref):
        assert torch.isfinite(x).all()
        assert torch.allclose(x, y, rtol=1e-9, atol=1e-12)


def test_weighted_infonce_no_negatives_raises():
    # A row with all weights 0 exists only when every clustering is a single cluster (then
    # every row is such a row): the loss is undefined and says so instead of returning inf.
    u, v, _ = random_views(5, 3, seed=6)
    one = torch.zeros(5, dtype=torch.long)
    with pytest.raises(GraphclInputError, match="one cluster"):
        ClusterWeightedInfoNCE(0.5)(u, v, [one, one + 3])


def test_weighted_infonce_stable_when_positives_dominate():
    # Cold temperature, the zero-weight pairs (positive + same-cluster) far above the others:
    # the R·total - same subtraction would cancel; the per-block weights do not.
    n = 40
    base = F.normalize(torch.randn(2, 8, generator=torch.Generator().manual_seed(7)), dim=1)
    labels = torch.arange(n) % 2
    u = base[labels].float()
    v = base[labels].float()
    u[0] = u[0] * 0.999 + 0.001 * base[1 - labels[0]].float()
    loss = ClusterWeightedInfoNCE(0.02)(u.requires_grad_(), v, [labels])
    ref = dense_weighted_infonce(u.detach().double(), v.double(), [labels], 0.02)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(u.grad).all()
    assert abs(loss.item() - ref.item()) < 1e-4 * abs(ref.item())


def test_weighted_infonce_float32_large_batch_matches_float64():
    u, v, g = random_views(300, 16, seed=8)
    clusterings = [torch.randint(0, 20, (300,), generator=g), torch.randint(0, 50, (300,), generator=g)]
    loss = ClusterWeightedInfoNCE(0.4, chunk_size=64)
    got = values_and_grads(lambda a, b: loss(a, b, clusterings), u.float(), v.float())
    ref = values_and_grads(lambda a, b: loss(a, b, clusterings), u, v)
    for x, y in zip(got, ref):
        assert torch.allclose(x.double(), y, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf"), "a"])
def test_weighted_infonce_bad_temperature(temperature):
    with pytest.raises(GraphclInputError, match="temperature"):
        ClusterWeightedInfoNCE(temperature)


def test_weighted_infonce_bad_shapes():
    u, v, _ = random_views(6, 3, seed=9)
    c = torch.tensor([0, 1, 0, 1, 0, 1])
    loss = ClusterWeightedInfoNCE(0.5)
    with pytest.raises(GraphclInputError, match="same shape"):
        loss(u, v[:5], [c])
    with pytest.raises(GraphclInputError, match="u must"):
        loss(u[0], v, [c])
    with pytest.raises(GraphclInputError, match=r"clusterings\[1\]"):
        loss(u, v, [c, c[:4]])
    with pytest.raises(GraphclInputError, match=r"clusterings\[0\]"):
        loss(u, v, [c.float()])
    with pytest.raises(GraphclInputError, match="negative"):
        loss(u, v, [c - 1])
    with pytest.raises(GraphclInputError, match="at least one"):
        loss(u, v, [])
    with pytest.raises(GraphclInputError, match="dtype"):
        loss(u, v.float(), [c])
    with pytest.raises(GraphclInputError, match="chunk_size"):
        ClusterWeightedInfoNCE(0.5, chunk_size=0)


def test_weighted_infonce_repr_and_protocol():
    loss = ClusterWeightedInfoNCE(0.4, chunk_size=8)
    loss.reset_parameters()
    assert repr(loss) == "ClusterWeightedInfoNCE(temperature=0.4, chunk_size=8)"
    assert list(loss.parameters()) == []


@pytest.mark.parametrize("chunk", [None, 1, 4, 15, 100])
@pytest.mark.parametrize("n_clusterings", [1, 2])
def test_prototype_loss_matches_dense(n_clusterings, chunk):
    """Dense logits (``chunk_size=None``) and the row-block form: value and gradients (u,
    centroids, concentration) equal the dense formula, whatever the block size (blocks that do
    not divide N included)."""
    u, _, g = random_views(15, 5, seed=10)
    ks = (3, 6)[:n_clusterings]
    mus = [F.normalize(torch.randn(k, 5, generator=g, dtype=torch.float64), dim=1).requires_grad_() for k in ks]
    labels = [torch.randint(0, k, (15,), generator=g) for k in ks]
    phis = [(torch.rand(k, generator=g, dtype=torch.float64) + 0.1).requires_grad_() for k in ks]
    u1, u2 = u.clone().requires_grad_(), u.clone().requires_grad_()
    got = PrototypeLoss(chunk_size=chunk)(u1, mus, labels, phis)
    got.backward()
    got_grads = [u1.grad] + [t.grad.clone() for t in mus + phis]
    for t in mus + phis:
        t.grad = None
    ref = dense_prototype(u2, mus, labels, phis)
    ref.backward()
    ref_grads = [u2.grad] + [t.grad for t in mus + phis]
    assert torch.allclose(got, ref, rtol=1e-12)
    for x, y in zip(got_grads, ref_grads):
        assert torch.allclose(x, y, rtol=1e-10, atol=1e-12)
    with torch.no_grad():  # no gradient work, the same value
        assert torch.allclose(PrototypeLoss(chunk_size=chunk)(u, mus, labels, phis), ref, rtol=1e-12)


def test_prototype_loss_auto_chunk(monkeypatch):
    """``chunk_size="auto"`` takes ``2^20 // sum_r K_r`` rows per block (at least one): with the
    bound shrunk to 20 elements and K = (3, 6) that is 2 rows, bit for bit ``chunk_size=2``; with
    it below the cluster count, one row."""
    import graphcl.losses.meow as meow_losses

    u, _, g = random_views(15, 5, seed=12)
    mus = [F.normalize(torch.randn(k, 5, generator=g, dtype=torch.float64), dim=1) for k in (3, 6)]
    labels = [torch.randint(0, k, (15,), generator=g) for k in (3, 6)]
    phis = [torch.rand(k, generator=g, dtype=torch.float64) + 0.1 for k in (3, 6)]
    for bound, rows in ((20, 2), (4, 1)):
        monkeypatch.setattr(meow_losses, "_CHUNK_ELEMENTS", bound)
        u1, u2 = u.clone().requires_grad_(), u.clone().requires_grad_()
        got = PrototypeLoss(chunk_size="auto")(u1, mus, labels, phis)
        want = PrototypeLoss(chunk_size=rows)(u2, mus, labels, phis)
        got.backward()
        want.backward()
        assert torch.equal(got, want) and torch.equal(u1.grad, u2.grad)
    assert repr(PrototypeLoss(chunk_size="auto")) == "PrototypeLoss(chunk_size='auto')"
    with pytest.raises(GraphclInputError, match="chunk_size"):
        PrototypeLoss(chunk_size="big")


def test_prototype_loss_blocked_large_logits_and_repr():
    """Each block's rows are shifted by their maximum: logits of several hundred stay finite."""
    u = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    mu = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    c = torch.tensor([0, 1, 0])
    phi = torch.full((2,), 1e-3, dtype=torch.float64)
    got = PrototypeLoss(chunk_size=2)(u, [mu], [c], [phi])
    assert torch.isfinite(got) and torch.allclose(got, F.cross_entropy((u @ mu.t()) / phi, c), rtol=1e-12)
    assert repr(PrototypeLoss(chunk_size=2)) == "PrototypeLoss(chunk_size=2)"
    with pytest.raises(GraphclInputError, match="chunk_size"):
        PrototypeLoss(chunk_size=0)


def test_prototype_loss_errors_and_repr():
    u, _, _ = random_views(4, 3, seed=11)
    mu = torch.randn(2, 3, dtype=torch.float64)
    c = torch.tensor([0, 1, 1, 0])
    phi = torch.ones(2, dtype=torch.float64)
    loss = PrototypeLoss()
    with pytest.raises(GraphclInputError, match="same length"):
        loss(u, [mu], [c, c], [phi])
    with pytest.raises(GraphclInputError, match="same length"):
        loss(u, [], [], [])
    with pytest.raises(GraphclInputError, match=r"centroids\[0\]"):
        loss(u, [mu[:, :2]], [c], [phi])
    with pytest.raises(GraphclInputError, match=r"concentration\[0\]"):
        loss(u, [mu], [c], [phi[:1]])
    with pytest.raises(GraphclInputError, match="positive"):
        loss(u, [mu], [c], [phi * 0])
    with pytest.raises(GraphclInputError, match=r"labels\[0\]"):
        loss(u, [mu], [c + 1], [phi])
    with pytest.raises(GraphclInputError, match=r"labels\[0\]"):
        loss(u, [mu], [c[:3]], [phi])
    assert repr(loss) == "PrototypeLoss()"


def reference_concentration(v, mu, labels, temperature, alpha=10.0):
    """PCL's loop (numpy, per cluster) with the Euclidean distance."""
    v, mu, labels = v.numpy(), mu.numpy(), labels.numpy()
    k = mu.shape[0]
    density = np.zeros(k)
    for j in range(k):
        dist = np.linalg.norm(v[labels == j] - mu[j], axis=1)
        if len(dist) > 1:
            density[j] = dist.mean() / np.log(len(dist) + alpha)
    dmax = density.max()
    for j in range(k):
        if (labels == j).sum() <= 1:
            density[j] = dmax
    density = density.clip(np.percentile(density, 10), np.percentile(density, 90))
    return temperature * density / density.mean()


def test_cluster_concentration_matches_pcl_loop():
    g = torch.Generator().manual_seed(12)
    v = F.normalize(torch.randn(60, 4, generator=g, dtype=torch.float64), dim=1)
    labels = torch.randint(0, 9, (60,), generator=g)
    labels[labels == 8] = 7  # cluster 8 empty
    labels[0] = 8
    labels[labels == 6] = 5  # cluster 6 empty, cluster 8 a singleton
    mu = F.normalize(torch.randn(9, 4, generator=g, dtype=torch.float64), dim=1)
    phi = cluster_concentration(v, mu, labels, 0.4)
    ref = reference_concentration(v, mu, labels, 0.4)
    assert torch.allclose(phi, torch.from_numpy(ref), rtol=1e-10)
    assert abs(phi.mean().item() - 0.4) < 1e-12
    assert not phi.requires_grad


def reference_meow_density(v, mu, labels, temperature):
    """MEOW's code_meow/module/cluster.py density loop (D = the IP index's inner product)."""
    v, mu, labels = v.numpy(), mu.numpy(), labels.numpy()
    k = mu.shape[0]
    d_of = (v * mu[labels]).sum(1)
    density = np.zeros(k)
    for i in range(k):
        dist = d_of[labels == i]
        if len(dist) > 1:
            density[i] = (np.asarray(dist) ** 0.5).mean() / np.log(len(dist) + 5)
    dmax = density.max()
    for i in range(k):
        if (labels == i).sum() <= 1:
            density[i] = dmax
    density = density.clip(np.percentile(density, 10), np.percentile(density, 90))
    return temperature * density / density.mean()


def test_cluster_concentration_similarity_kind_matches_the_reference_loop():
    g = torch.Generator().manual_seed(3)
    centres = F.normalize(torch.randn(6, 5, generator=g, dtype=torch.float64), dim=1)
    labels = torch.randint(0, 6, (80,), generator=g)
    labels[labels == 5] = 4  # cluster 5 empty
    v = F.normalize(centres[labels] + 0.3 * torch.randn(80, 5, generator=g, dtype=torch.float64), dim=1)
    mu = torch.zeros(6, 5, dtype=torch.float64).index_add_(0, labels, v)  # plain means (faiss, not spherical)
    mu = mu / torch.bincount(labels, minlength=6).clamp_min(1).unsqueeze(1)
    assert bool(((v * mu[labels]).sum(1) > 0).all())  # the reference's square roots are defined here
    phi = cluster_concentration(v, mu, labels, 0.9, smoothing=5.0, kind="similarity")
    assert torch.allclose(phi, torch.from_numpy(reference_meow_density(v, mu, labels, 0.9)), rtol=1e-10)
    distance = cluster_concentration(v, mu, labels, 0.9, smoothing=5.0)
    assert not torch.allclose(phi, distance)
    with pytest.raises(GraphclInputError, match="kind"):
        cluster_concentration(v, mu, labels, 0.9, kind="cosine")


def test_cluster_concentration_degenerate_cases_are_finite_and_positive():
    v = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.6, 0.8]])
    mu = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    labels = torch.tensor([0, 0, 1, 1, 2])
    phi = cluster_concentration(v, mu, labels, 0.5)  # every distance 0
    assert torch.equal(phi, torch.full((3,), 0.5))
    v2 = v.clone()
    v2[1] = torch.tensor([0.8, 0.6])
    phi2 = cluster_concentration(v2, mu, labels, 0.5)  # cluster 1 has distance 0: raised, not 0
    assert (phi2 > 0).all() and torch.isfinite(phi2).all()
    with pytest.raises(GraphclInputError, match="temperature"):
        cluster_concentration(v, mu, labels, 0.0)
    with pytest.raises(GraphclInputError, match="labels"):
        cluster_concentration(v, mu, labels + 1, 0.5)
    with pytest.raises(GraphclInputError, match="centroids"):
        cluster_concentration(v, mu[:, :1], labels, 0.5)


def test_weighted_infonce_no_grad_scaled_and_partial_gradients():
    u, v, g = random_views(12, 4, seed=13)
    clusterings = [torch.randint(0, 3, (12,), generator=g)]
    loss = ClusterWeightedInfoNCE(0.5, chunk_size=5)
    with torch.no_grad():
        value = loss(u, v, clusterings)
    # an upstream gradient other than 1, and only v requiring a gradient
    v1, v2 = v.clone().requires_grad_(), v.clone().requires_grad_()
    (3.0 * loss(u, v1, clusterings)).backward()
    (3.0 * dense_weighted_infonce(u, v2, clusterings, 0.5)).backward()
    assert torch.allclose(value, dense_weighted_infonce(u, v, clusterings, 0.5), rtol=1e-12)
    assert torch.allclose(v1.grad, v2.grad, rtol=1e-9, atol=1e-12)


def test_weighted_infonce_autograd_keeps_no_pairwise_tensor():
    n, d = 120, 4
    u, v, g = random_views(n, d, seed=14)
    clusterings = [torch.randint(0, 5, (n,), generator=g), torch.randint(0, 9, (n,), generator=g)]
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        loss = ClusterWeightedInfoNCE(0.5, chunk_size=16)(u.requires_grad_(), v.requires_grad_(), clusterings)
    loss.backward()
    assert saved and max(saved) <= n * d
