"""The linear-time MEOW loss (meta-node negatives) against its dense formula and MEOW's exact loss."""

import pytest
import torch
import torch.nn.functional as F
from meow_dense_references import dense_meta_weighted_infonce, random_views, values_and_grads

from graphcl import GraphclInputError
from graphcl.losses import ClusterWeightedInfoNCE, MetaNodeWeightedInfoNCE, cluster_meta_nodes

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 100])
@pytest.mark.parametrize("n_clusterings", [1, 2, 3])
@pytest.mark.parametrize("temperature", [0.05, 0.4, 2.0])
def test_meta_infonce_matches_dense_formula(chunk_size, n_clusterings, temperature):
    u, v, g = random_views(29, 5, seed=n_clusterings)
    clusterings = [torch.randint(0, k, (29,), generator=g) for k in (3, 6, 10)[:n_clusterings]]
    loss = MetaNodeWeightedInfoNCE(temperature, chunk_size=chunk_size)
    got = values_and_grads(lambda a, b: loss(a, b, clusterings), u, v)
    ref = values_and_grads(lambda a, b: dense_meta_weighted_infonce(a, b, clusterings, temperature), u, v)
    for x, y in zip(got, ref):
        assert torch.allclose(x, y, rtol=1e-9, atol=1e-12)


def test_meta_infonce_gradcheck():
    u, v, g = random_views(9, 3, seed=4)
    clusterings = torch.stack([torch.randint(0, 3, (9,), generator=g), torch.randint(0, 4, (9,), generator=g)])
    loss = MetaNodeWeightedInfoNCE(0.5, chunk_size=4)
    assert torch.autograd.gradcheck(lambda a, b: loss(a, b, clusterings), (u.requires_grad_(), v.requires_grad_()))


def test_meta_infonce_is_a_lower_bound_exact_when_clusters_coincide():
    """Jensen: each cluster's meta-node term is at most the sum over its members, so the loss is
    at most MEOW's exact loss; equal when every cluster's samples coincide, or are singletons."""
    for seed in range(5):
        u, v, g = random_views(40, 4, seed=seed)
        cl = [torch.randint(0, 5, (40,), generator=g), torch.randint(0, 8, (40,), generator=g)]
        meta = MetaNodeWeightedInfoNCE(0.3)(u, v, cl)
        exact = ClusterWeightedInfoNCE(0.3)(u, v, cl)
        assert float(meta) < float(exact) - 1e-6
    u, v, g = random_views(30, 4, seed=9)
    c = torch.randint(0, 6, (30,), generator=g)
    c[:6] = torch.arange(6)  # every cluster non-empty
    centres = F.normalize(torch.randn(6, 4, generator=g, dtype=torch.float64), dim=1)
    v_tied = centres[c]  # every cluster's samples coincide
    assert torch.allclose(MetaNodeWeightedInfoNCE(0.3)(u, v_tied, [c]), ClusterWeightedInfoNCE(0.3)(u, v_tied, [c]),
                          rtol=1e-12)
    singletons = torch.arange(30)
    assert torch.allclose(MetaNodeWeightedInfoNCE(0.3)(u, v, [singletons]),
                          ClusterWeightedInfoNCE(0.3)(u, v, [singletons]), rtol=1e-12)


def test_meta_infonce_ignores_empty_clusters_and_label_names():
    u, v, g = random_views(20, 4, seed=2)
    c = torch.randint(0, 4, (20,), generator=g)
    gapped = torch.tensor([0, 3, 7, 9])[c]  # ids 1, 2, 4, 5, 6, 8 empty
    loss = MetaNodeWeightedInfoNCE(0.4)
    assert torch.allclose(loss(u, v, [c]), loss(u, v, [gapped]), rtol=1e-12)
    meta, log_mass, own = cluster_meta_nodes(v, gapped[None])
    assert meta.shape == (10, 4) and own.shape == (20, 1)
    assert torch.isinf(log_mass[[1, 2, 4, 5, 6, 8]]).all() and torch.isfinite(log_mass[[0, 3, 7, 9]]).all()
    assert torch.equal(own[:, 0], gapped)


def test_meta_infonce_float32_large_and_unnormalised_inputs_are_finite():
    u, v, g = random_views(3000, 16, seed=5, normalise=False)
    cl = [torch.randint(0, 100, (3000,), generator=g), torch.randint(0, 300, (3000,), generator=g)]
    ref = MetaNodeWeightedInfoNCE(0.05)(u * 20, v * 20, cl)  # logits up to ~1e4: shifted per row
    got = MetaNodeWeightedInfoNCE(0.05, chunk_size=256)((u * 20).float(), (v * 20).float(), [c for c in cl])
    assert torch.isfinite(got) and abs(float(got) - float(ref)) <= 1e-5 * abs(float(ref))


def test_meta_infonce_no_grad_and_partial_gradients():
    u, v, g = random_views(25, 3, seed=6)
    cl = [torch.randint(0, 4, (25,), generator=g)]
    loss = MetaNodeWeightedInfoNCE(0.5)
    with torch.no_grad():
        plain = loss(u, v, cl)
    vv = v.clone().requires_grad_()
    out = loss(u, vv, cl)  # gradient into v only (through the meta-nodes and the positive)
    out.backward()
    ref_v = v.clone().requires_grad_()
    dense_meta_weighted_infonce(u, ref_v, cl, 0.5).backward()
    assert torch.allclose(plain, out.detach(), rtol=1e-12)
    assert torch.allclose(vv.grad, ref_v.grad, rtol=1e-9, atol=1e-12)


def test_meta_infonce_errors_and_repr():
    u, v, _ = random_views(6, 3, seed=0)
    loss = MetaNodeWeightedInfoNCE(0.5)
    with pytest.raises(GraphclInputError, match="no anchor has a negative"):
        loss(u, v, [torch.zeros(6, dtype=torch.long), torch.full((6,), 2)])
    with pytest.raises(GraphclInputError, match="same shape"):
        loss(u, v[:5], [torch.zeros(6, dtype=torch.long)])
    with pytest.raises(GraphclInputError, match="length 6"):
        loss(u, v, [torch.zeros(5, dtype=torch.long)])
    with pytest.raises(GraphclInputError, match="temperature"):
        MetaNodeWeightedInfoNCE(0.0)
    assert "MetaNodeWeightedInfoNCE(temperature=0.5" in repr(loss)
