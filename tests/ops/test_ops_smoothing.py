"""geometric_smoothing against the dense sum (1 - alpha) sum_t alpha^t A^t X."""

import pytest
import torch

from graphcl.errors import GraphclInputError
from graphcl.ops import geometric_smoothing, normalize_adjacency


def dense_operator(edge_index, n, mode):
    ei, w = normalize_adjacency(edge_index, None, n, mode=mode)
    a = torch.zeros(n, n, dtype=torch.float64)
    a.index_put_((ei[0], ei[1]), w.double(), accumulate=True)
    return a


@pytest.mark.parametrize("mode", ["sym", "row"])
@pytest.mark.parametrize("alpha,hops", [(0.9, 10), (0.5, 3), (0.0, 4), (0.7, 0)])
def test_matches_the_dense_sum(mode, alpha, hops):
    g = torch.Generator().manual_seed(0)
    n = 9
    edge_index = torch.randint(0, n, (2, 20), generator=g)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    a = dense_operator(edge_index, n, mode)
    want = sum((alpha ** t) * torch.linalg.matrix_power(a, t) @ x for t in range(hops + 1)) * (1 - alpha)
    got = geometric_smoothing(x, edge_index, alpha=alpha, hops=hops, mode=mode)
    assert got.dtype == torch.float64 and torch.allclose(got, want, atol=1e-12)


def test_errors():
    x, ei = torch.ones(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(GraphclInputError, match="alpha"):
        geometric_smoothing(x, ei, alpha=1.0)
    with pytest.raises(GraphclInputError, match="hops"):
        geometric_smoothing(x, ei, hops=-1)
