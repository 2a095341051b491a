"""AdaMEOW's adaptive-weight InfoNCE against the naive dense formula of meow.md §3.2 (all N^2
pair inputs built explicitly, autograd through everything)."""

import pytest
import torch
import torch.nn.functional as F
from meow_dense_references import dense_adaptive_infonce

from graphcl import GraphclInputError
from graphcl.losses import AdaptiveWeightInfoNCE

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def problem(n, p, seed, hidden=4, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    u = F.normalize(torch.randn(n, p, generator=g, dtype=torch.float64), dim=1)
    v = F.normalize(u + 0.5 * torch.randn(n, p, generator=g, dtype=torch.float64), dim=1)
    torch.manual_seed(seed)
    loss = AdaptiveWeightInfoNCE(p, hidden=hidden, temperature=0.5).double()
    with torch.no_grad():
        for prm in loss.parameters():
            prm.mul_(scale)
    return u, v, loss


def run(fn, u, v, params):
    u, v = u.clone().requires_grad_(), v.clone().requires_grad_()
    for prm in params:
        prm.grad = None
    out = fn(u, v)
    out.backward()
    return [out.detach(), u.grad, v.grad] + [prm.grad.clone() for prm in params]


@pytest.mark.parametrize("chunk_size", [1, 4, 11, 50])
@pytest.mark.parametrize("temperature", [0.1, 1.0])
@pytest.mark.parametrize("scale", [1.0, 8.0])
def test_matches_dense_values_and_gradients(chunk_size, temperature, scale):
    u, v, loss = problem(11, 5, seed=int(scale), scale=scale)
    loss.temperature, loss.chunk_size = temperature, chunk_size
    params = [loss.lin_a.weight, loss.lin_a.bias, loss.lin_b.weight, loss.lin_b.bias]
    got = run(loss, u, v, params)
    ref = run(lambda a, b: dense_adaptive_infonce(a, b, *params, temperature), u, v, params)
    for x, y in zip(got, ref):
        assert torch.allclose(x, y, rtol=1e-9, atol=1e-12)


def test_unnormalised_inputs_and_pair_weights():
    g = torch.Generator().manual_seed(3)
    u = 3 * torch.randn(9, 4, generator=g, dtype=torch.float64)
    v = 3 * torch.randn(9, 4, generator=g, dtype=torch.float64)
    torch.manual_seed(0)
    loss = AdaptiveWeightInfoNCE(4, hidden=3, temperature=0.2, chunk_size=2).double()
    params = list(loss.parameters())
    got = run(loss, u, v, params)
    ref = run(lambda a, b: dense_adaptive_infonce(a, b, *params, 0.2), u, v, params)
    for x, y in zip(got, ref):
        assert torch.allclose(x, y, rtol=1e-9, atol=1e-12)
    w = loss.pair_weights(u, v)
    ref_w = torch.sigmoid(loss.lin_b(torch.tanh(loss.lin_a(u[:, None, :] + v[None, :, :])))).squeeze(-1)
    assert w.shape == (9, 9) and torch.allclose(w, ref_w)


def test_gradcheck():
    u, v, loss = problem(6, 3, seed=4, hidden=2)
    loss.chunk_size = 4
    params = tuple(loss.parameters())

    def functional(a, b, wa, ba, wb, bb):
        return torch.func.functional_call(loss, {"lin_a.weight": wa, "lin_a.bias": ba, "lin_b.weight": wb, "lin_b.bias": bb}, (a, b))

    inputs = (u.requires_grad_(), v.requires_grad_()) + tuple(p.detach().clone().requires_grad_() for p in params)
    assert torch.autograd.gradcheck(functional, inputs, fast_mode=True)


def test_training_step_moves_mlp_parameters():
    u, v, loss = problem(10, 4, seed=5)
    before = [p.detach().clone() for p in loss.parameters()]
    opt = torch.optim.SGD(loss.parameters(), lr=0.1)
    loss(u, v).backward()
    opt.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, loss.parameters()))
    loss.reset_parameters()
    assert all(torch.isfinite(p).all() for p in loss.parameters())


@pytest.mark.parametrize("temperature", [0.0, -0.5, float("nan")])
def test_bad_temperature(temperature):
    with pytest.raises(GraphclInputError, match="temperature"):
        AdaptiveWeightInfoNCE(4, temperature=temperature)


def test_bad_arguments_and_shapes():
    with pytest.raises(GraphclInputError, match="in_channels"):
        AdaptiveWeightInfoNCE(0)
    with pytest.raises(GraphclInputError, match="hidden"):
        AdaptiveWeightInfoNCE(4, hidden=1.5)
    with pytest.raises(GraphclInputError, match="chunk_size"):
        AdaptiveWeightInfoNCE(4, chunk_size=-1)
    loss = AdaptiveWeightInfoNCE(4)
    u = torch.randn(5, 4)
    with pytest.raises(GraphclInputError, match="same shape"):
        loss(u, u[:3])
    with pytest.raises(GraphclInputError, match="in_channels"):
        loss(u[:, :3], u[:, :3])
    with pytest.raises(GraphclInputError, match="u must"):
        loss(u[0], u)


def test_repr():
    assert repr(AdaptiveWeightInfoNCE(64, hidden=16, temperature=0.9)) == (
        "AdaptiveWeightInfoNCE(64, hidden=16, temperature=0.9, chunk_size=None)"
    )


def test_no_grad_value_and_scaled_gradient():
    u, v, loss = problem(7, 3, seed=6)
    params = list(loss.parameters())
    with torch.no_grad():
        value = loss(u, v)
    assert torch.allclose(value, dense_adaptive_infonce(u, v, *params, loss.temperature), rtol=1e-12)
    got = run(lambda a, b: 2.5 * loss(a, b), u, v, params)
    ref = run(lambda a, b: 2.5 * dense_adaptive_infonce(a, b, *params, loss.temperature), u, v, params)
    for x, y in zip(got, ref):
        assert torch.allclose(x, y, rtol=1e-9, atol=1e-12)


def test_autograd_keeps_no_pairwise_tensor():
    u, v, loss = problem(120, 4, seed=7, hidden=3)
    loss.chunk_size = 16
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        value = loss(u.requires_grad_(), v.requires_grad_())
    value.backward()
    assert saved and max(saved) <= 120 * 4
