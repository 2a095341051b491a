"""graphcl.nn.normalization: hand-written backward passes against autograd's formulas."""

import pytest
import torch
import torch.nn.functional as F

from graphcl.nn.normalization import row_normalize, standardize


def _reference_row(x, center):
    return F.normalize(x - x.mean() if center else x, dim=1)


def _reference_standardize(x, eps=1e-5):
    var, mean = torch.var_mean(x, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


@pytest.mark.parametrize("center", [False, True])
def test_row_normalize_values_bit_for_bit(center):
    x = torch.randn(257, 33, generator=torch.Generator().manual_seed(0)) * 3 + 1
    assert torch.equal(row_normalize(x, center), _reference_row(x, center))


def test_standardize_values_bit_for_bit():
    x = torch.randn(300, 17, generator=torch.Generator().manual_seed(1)) * 2 - 5
    assert torch.equal(standardize(x), _reference_standardize(x))


@pytest.mark.parametrize("center", [False, True])
def test_row_normalize_gradient_matches_autograd(center):
    gen = torch.Generator().manual_seed(2)
    x = (torch.randn(200, 16, generator=gen) + 0.5).requires_grad_()
    g = torch.randn(200, 16, generator=gen)
    (ours,) = torch.autograd.grad(row_normalize(x, center), x, g)
    (ref,) = torch.autograd.grad(_reference_row(x, center), x, g)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    # the centred gradient sums to zero: the mean subtraction's projection
    if center:
        assert abs(float(ours.sum())) < 1e-4


def test_standardize_gradient_matches_autograd():
    gen = torch.Generator().manual_seed(3)
    x = (torch.randn(150, 12, generator=gen) * 4).requires_grad_()
    g = torch.randn(150, 12, generator=gen)
    (ours,) = torch.autograd.grad(standardize(x), x, g)
    (ref,) = torch.autograd.grad(_reference_standardize(x), x, g)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("center", [False, True])
def test_gradcheck_double(center):
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(9, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: row_normalize(t, center), (x,))
    assert torch.autograd.gradcheck(standardize, (x,))


def test_zero_row_gradient_as_f_normalize():
    """A row whose norm is clamped at eps gets F.normalize's gradient (g / eps), not NaN."""
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(5))
    x[2] = 0.0
    x.requires_grad_()
    g = torch.ones(4, 3)
    (ours,) = torch.autograd.grad(row_normalize(x), x, g)
    (ref,) = torch.autograd.grad(F.normalize(x, dim=1), x, g)
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, ref)


def test_keeps_output_not_input():
    """Autograd keeps the output and the per-row norms (or one scalar), not the input."""
    x = torch.randn(64, 8, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        y = row_normalize(x * 2.0, center=True)
        s = standardize(x * 3.0)
    shapes = sorted(tuple(t.shape) for t in saved)
    assert shapes == sorted([(64, 8), (64, 1), (64, 8), ()])
    assert any(t.data_ptr() == y.data_ptr() for t in saved) and any(t.data_ptr() == s.data_ptr() for t in saved)
