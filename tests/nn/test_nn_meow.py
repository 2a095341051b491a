"""MEOWNetwork: ``recompute`` (activation checkpointing) changes memory, never values."""

import pytest
import torch

from graphcl.data import planted_hetero_graph
from graphcl.models import MEOWLinear


def _fitted_network(recompute: bool):
    data = planted_hetero_graph(600, 4, 16, 2.0, seed=0, authors_per_target=2, targets_per_author=4.0,
                                targets_per_venue=10.0, p_intra=0.8, context_features=True)
    model = MEOWLinear(None, embedding_dim=16, num_prototypes=(6, 12), epochs=2, patience=None, top_k=20,
                       dropout=0.3, random_state=0, recompute=recompute).fit(data)
    return model.network_, model.inputs_.network_inputs()


def _forward_backward(net, inputs, seed: int):
    """One training-mode forward (dropout on) and backward from the same RNG state: outputs,
    parameter gradients, and the bytes autograd saved for the backward."""
    net.train()
    net.zero_grad(set_to_none=True)
    storages = {}

    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    torch.manual_seed(seed)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        z, zc = net(**inputs)
        u, v = net.project(zc), net.project(z)
        loss = (u * v).sum() + z.pow(2).sum() + u[:, 0].exp().sum()
    loss.backward()
    grads = {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
    return (z.detach(), zc.detach(), u.detach(), v.detach()), grads, sum(storages.values())


def test_recompute_gives_bit_identical_values_and_gradients_and_saves_less():
    net, inputs = _fitted_network(False)
    outs, grads, saved = _forward_backward(net, inputs, seed=3)
    net.recompute = True
    outs_r, grads_r, saved_r = _forward_backward(net, inputs, seed=3)
    for a, b in zip(outs, outs_r):
        assert torch.equal(a, b)
    assert grads.keys() == grads_r.keys() and len(grads) > 10
    for k in grads:
        assert torch.equal(grads[k], grads_r[k]), k
    # the fine views, the attention and the head keep only their inputs and outputs (and one norm
    # per row of each normalised view); the coarse view keeps its activations either way
    assert saved_r < 0.6 * saved
    # dropout really was on, so a different RNG state would have given other values
    other, _, _ = _forward_backward(net, inputs, seed=4)
    assert not torch.equal(other[0], outs[0])


@pytest.mark.parametrize("grad", [False, True])
def test_recompute_is_inert_in_eval_mode_and_without_grad(grad):
    net, inputs = _fitted_network(True)
    net.eval()
    with torch.set_grad_enabled(grad):
        z, zc = net(**inputs)
    net.recompute = False
    with torch.set_grad_enabled(grad):
        z2, zc2 = net(**inputs)
    assert torch.equal(z, z2) and torch.equal(zc, zc2)


def test_recompute_reruns_only_each_gcn_first_propagation(monkeypatch):
    """The normalisations keep their outputs, not their inputs, so a recomputing backward pass
    stops after each fine view's first propagation (it needs that layer's output for PReLU's
    gradient) and never re-runs the second: one extra sparse product per fine view (the
    coarse view keeps its activations)."""
    import graphcl.ops.sparse_matrix as sm

    net, inputs = _fitted_network(False)
    calls = []
    real = sm._csr_mm
    monkeypatch.setattr(sm, "_csr_mm", lambda mat, x: calls.append(1) or real(mat, x))

    def backward_products(recompute: bool) -> int:
        net.recompute = recompute
        net.train()
        torch.manual_seed(0)
        z, zc = net(**inputs)
        loss = (net.project(zc) * net.project(z)).sum()
        calls.clear()
        loss.backward()
        return len(calls)

    fine_views = 2 * len(inputs["graphs"])  # two per meta-path; the coarse view is not recomputed
    assert backward_products(True) - backward_products(False) == fine_views
