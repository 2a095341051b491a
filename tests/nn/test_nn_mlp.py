"""MLP encoder / autoencoder shapes, parameter counts and cached pretraining."""

import numpy as np
import pytest
import torch

from graphcl import GraphclInputError
from graphcl.nn import AutoEncoder, MLPEncoder, pretrain_autoencoder


def test_reference_parameter_counts():
    # scgc_pamc.md §3: USPS encoder 1,401,010 and decoder 1,401,256 parameters.
    ae = AutoEncoder(256)
    assert sum(p.numel() for p in ae.encoder.parameters()) == 1_401_010
    assert sum(p.numel() for p in ae.decoder.parameters()) == 1_401_256
    assert repr(ae.encoder) == "MLPEncoder(256-500-500-2000-10)"


def test_encoder_is_linear_at_the_output_and_resettable():
    enc = MLPEncoder(5, (7,), 3)
    x = torch.randn(4, 5)
    z = enc(x)
    assert z.shape == (4, 3)
    assert (z < 0).any()  # no ReLU after the last layer
    before = enc.net[0].weight.clone()
    enc.reset_parameters()
    assert not torch.equal(before, enc.net[0].weight)


def test_bad_widths():
    with pytest.raises(GraphclInputError, match=r"hidden_channels\[0\] must be a positive integer"):
        MLPEncoder(5, (0,), 3)
    with pytest.raises(GraphclInputError, match="hidden_channels must be a sequence"):
        MLPEncoder(5, 32, 3)  # an int, as MEOW's hidden size is given
    with pytest.raises(GraphclInputError, match="out_channels"):
        MLPEncoder(5, (4,), True)
    assert MLPEncoder(np.int64(5), (np.int32(4),), np.int64(3)).channels == (5, 4, 3)


def test_pretraining_reduces_error_and_is_cached(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 3, generator=g) @ torch.randn(3, 12, generator=g)  # rank 3: compressible to 4 dims
    kwargs = dict(hidden_channels=(16,), out_channels=4, epochs=30, batch_size=32, random_state=1, cache=tmp_path)
    untrained = pretrain_autoencoder(x, **{**kwargs, "epochs": 0})
    ae = pretrain_autoencoder(x, **kwargs)
    with torch.no_grad():
        err0 = ((untrained(x)[1] - x) ** 2).mean()
        err1 = ((ae(x)[1] - x) ** 2).mean()
    assert err1 < 0.5 * err0
    files = list((tmp_path / "pretrain").glob("*.pt"))
    assert len(files) == 1
    again = pretrain_autoencoder(x, **kwargs)  # loaded from the cache
    for a, b in zip(ae.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    other_seed = pretrain_autoencoder(x, **{**kwargs, "random_state": 2})
    assert not torch.equal(other_seed.encoder.net[0].weight, ae.encoder.net[0].weight)
    assert len(list((tmp_path / "pretrain").glob("*.pt"))) == 2


def test_pretraining_is_deterministic_without_cache():
    x = torch.randn(64, 6)
    a = pretrain_autoencoder(x, (8,), 3, epochs=3, batch_size=16, random_state=5, cache=False)
    b = pretrain_autoencoder(x, (8,), 3, epochs=3, batch_size=16, random_state=5, cache=False)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_corrupt_cache_file_is_retrained(tmp_path):
    x = torch.randn(32, 4)
    pretrain_autoencoder(x, (8,), 2, epochs=2, batch_size=8, cache=tmp_path)
    (f,) = (tmp_path / "pretrain").glob("*.pt")
    f.write_bytes(b"garbage")
    ae = pretrain_autoencoder(x, (8,), 2, epochs=2, batch_size=8, cache=tmp_path)
    assert isinstance(ae, AutoEncoder)
    assert f.stat().st_size > 100


@pytest.mark.parametrize("n, chunk", [(50, 7), (50, 50), (9, 1)])
def test_row_chunked_training_pass_equals_plain_autograd(monkeypatch, n, chunk):
    import graphcl.nn.mlp as mlp

    torch.manual_seed(0)
    enc = MLPEncoder(6, (9, 8), 4).double()
    x = torch.randn(n, 6, dtype=torch.double, requires_grad=True)
    g = torch.randn(n, 4, dtype=torch.double)
    ref = enc.net(x)
    ref_grads = torch.autograd.grad((ref * g).sum(), [x, *enc.parameters()])
    monkeypatch.setattr(mlp, "ROW_CHUNK", chunk)
    out = enc(x)  # n > ROW_CHUNK (except when equal): the row-chunked function
    assert out.grad_fn is not None
    grads = torch.autograd.grad((out * g).sum(), [x, *enc.parameters()])
    assert torch.allclose(out, ref)
    assert all(torch.allclose(a, b) for a, b in zip(grads, ref_grads))
    if n > chunk:
        assert "RowChunked" in type(out.grad_fn).__name__
