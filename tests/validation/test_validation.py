"""graphcl.validation: every check names the problem; the feature check works in row chunks."""

import pytest
import torch

from graphcl import GraphclInputError
from graphcl.validation import check_edge_index, check_features


def test_nan_beyond_the_first_row_chunk_is_found():
    x = torch.zeros(2100, 8192)  # row chunks of 2048 rows at this width
    x[2099, 5] = float("nan")
    x[2050, 0] = float("inf")
    with pytest.raises(GraphclInputError, match=r"2 row\(s\), first at row 2050"):
        check_features(x)
    x[2099, 5] = x[2050, 0] = 0.0
    assert check_features(x) is x


@pytest.mark.parametrize("x,match", [(torch.zeros(0, 3), "no nodes"), (torch.zeros(3), "2-D"),
                                     (torch.zeros(3, 0), "no feature columns"), ([[1.0]], "torch.Tensor")])
def test_bad_feature_matrices(x, match):
    with pytest.raises(GraphclInputError, match=match):
        check_features(x)


def test_integer_features_become_float():
    assert check_features(torch.ones(2, 2, dtype=torch.long)).dtype == torch.float32


@pytest.mark.parametrize("ei,match", [(torch.tensor([[0, -1], [1, 0]]), "negative"), (torch.tensor([[0, 5], [1, 0]]), "out of range"),
                                      (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "integers"), (torch.zeros(3, 2, dtype=torch.long), "shape")])
def test_bad_edge_index(ei, match):
    with pytest.raises(GraphclInputError, match=match):
        check_edge_index(ei, 5)
