"""``check_inputs`` of the losses that take an ``edge_index``: the per-call value checks (host
synchronisations) run by default and are skipped with ``check_inputs=False``, which gives the same
loss and gradients on valid input."""

import pytest
import torch

import graphcl.losses.neighbor_contrast as nc
from graphcl import GraphclInputError
from graphcl.losses import NeighborContrastLoss, PamCLoss


def _problem(n=12, d=4, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    ei = torch.randint(0, n, (2, 30), generator=g)
    loop = torch.arange(n)
    ei = torch.cat([ei, torch.stack([loop, loop])], 1)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.1
    q = torch.softmax(torch.randn(n, k, generator=g, dtype=torch.float64), 1)
    return z, ei, w, q


# (name, loss factory, call(loss, z, ei, w, q, anchors))
LOSSES = [
    ("neighbor_contrast", lambda check: NeighborContrastLoss(0.5, block_size=5, check_inputs=check),
     lambda loss, z, ei, w, q, anchors: loss(z, ei, w, anchors=anchors)),
    ("pamc_hard", lambda check: PamCLoss(0.5, "hard", check_inputs=check),
     lambda loss, z, ei, w, q, anchors: loss(z, ei, w, q if anchors is None else q[: anchors.numel()], anchors=anchors)),
    ("pamc_soft", lambda check: PamCLoss(0.5, "soft", check_inputs=check),
     lambda loss, z, ei, w, q, anchors: loss(z, ei, w, q if anchors is None else q[: anchors.numel()], anchors=anchors)),
]


def _count_calls(monkeypatch, name):
    """Wrap ``graphcl.losses.neighbor_contrast.<name>`` and return the list its calls go into."""
    calls = []
    original = getattr(nc, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(nc, name, counting)
    return calls


@pytest.mark.parametrize("name, make, call", LOSSES, ids=[c[0] for c in LOSSES])
@pytest.mark.parametrize("use_anchors", [False, True])
def test_same_loss_and_gradients_with_and_without_checks(name, make, call, use_anchors):
    z, ei, w, q = _problem()
    anchors = torch.tensor([0, 3, 4, 7, 11]) if use_anchors else None
    results = []
    for check in (True, False):
        zz = z.clone().requires_grad_(True)
        value = call(make(check), zz, ei, w, q, anchors)
        value.backward()
        results.append((value.detach(), zz.grad))
    assert torch.isfinite(results[0][0])
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])


@pytest.mark.parametrize("name, make, call", LOSSES, ids=[c[0] for c in LOSSES])
def test_check_edge_index_runs_only_when_asked(name, make, call, monkeypatch):
    z, ei, w, q = _problem()
    edge_calls = _count_calls(monkeypatch, "check_edge_index")
    weight_calls = _count_calls(monkeypatch, "check_edge_weight")
    call(make(True), z, ei, w, q, None)
    assert len(edge_calls) == 1 and len(weight_calls) == 1
    edge_calls.clear()
    weight_calls.clear()
    loss = make(False)
    for _ in range(3):
        call(loss, z, ei, w, q, None)
    assert edge_calls == [] and weight_calls == []


@pytest.mark.parametrize("name, make, call", LOSSES, ids=[c[0] for c in LOSSES])
def test_out_of_range_id_raises_only_with_checks(name, make, call, monkeypatch):
    z, ei, w, q = _problem()
    bad = ei.clone()
    bad[1, 0] = z.size(0)  # one past the last node
    with pytest.raises(GraphclInputError, match="edge_index holds node id 12"):
        call(make(True), z, bad, w, q, None)
    with pytest.raises(GraphclInputError, match="negative"):
        call(make(True), z, -bad.abs() - 1, w, q, None)
    with pytest.raises(GraphclInputError, match="edge_weight contains negative"):
        call(make(True), z, ei, -w, q, None)
    # Without checks the ids are not read on the host: check_edge_index is never reached.
    monkeypatch.setattr(nc, "check_edge_index", lambda *a, **k: pytest.fail("check_edge_index called"))
    monkeypatch.setattr(nc, "check_edge_weight", lambda *a, **k: pytest.fail("check_edge_weight called"))
    loss = make(False)
    call(loss, z, ei, w, q, None)


@pytest.mark.parametrize("name, make, call", LOSSES, ids=[c[0] for c in LOSSES])
def test_shape_and_dtype_checks_stay_without_value_checks(name, make, call):
    z, ei, w, q = _problem()
    loss = make(False)
    with pytest.raises(GraphclInputError, match="edge_index must have shape"):
        call(loss, z, ei[:1], w, q, None)
    with pytest.raises(GraphclInputError, match="edge_index must hold integers"):
        call(loss, z, ei.double(), w, q, None)
    with pytest.raises(GraphclInputError, match="edge_weight must have shape"):
        call(loss, z, ei, w[:-1], q, None)
    with pytest.raises(GraphclInputError, match="anchors must be a non-empty 1-D integer tensor"):
        call(loss, z, ei, w, q, torch.tensor([0.0, 1.0]))


def test_anchor_values_checked_only_with_checks():
    z, ei, w, _ = _problem()
    with pytest.raises(GraphclInputError, match="anchors holds ids outside"):
        NeighborContrastLoss(0.5)(z, ei, w, anchors=torch.tensor([0, 12]))
    with pytest.raises(GraphclInputError, match="distinct"):
        NeighborContrastLoss(0.5)(z, ei, w, anchors=torch.tensor([0, 0]))
    with pytest.raises(GraphclInputError, match="node_index holds ids outside"):
        NeighborContrastLoss(0.5)(z, ei, w, node_index=torch.tensor([0, 12]))
    # Valid node_index: same value both ways.
    idx = torch.tensor([1, 2, 5, 8, 9, 10])
    a = NeighborContrastLoss(0.5, check_inputs=True)(z, ei, w, node_index=idx)
    b = NeighborContrastLoss(0.5, check_inputs=False)(z, ei, w, node_index=idx)
    assert torch.equal(a, b)


@pytest.mark.parametrize("bad", [0, 1, "no", None])
def test_check_inputs_must_be_a_bool(bad):
    with pytest.raises(GraphclInputError, match="check_inputs must be True or False"):
        NeighborContrastLoss(0.5, check_inputs=bad)
    with pytest.raises(GraphclInputError, match="check_inputs must be True or False"):
        PamCLoss(0.5, check_inputs=bad)


def test_repr_shows_disabled_checks():
    assert "check_inputs=False" in repr(NeighborContrastLoss(0.5, check_inputs=False))
    assert "check_inputs" not in repr(NeighborContrastLoss(0.5))
    assert "check_inputs=False" in repr(PamCLoss(0.5, check_inputs=False))
