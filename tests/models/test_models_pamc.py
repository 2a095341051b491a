"""PamC estimator: API, meta-node modes, label-blindness."""

import numpy as np
import pytest
from torch_geometric.data import Data

from graphcl import GraphclInputError
from graphcl.data import planted_partition_graph
from graphcl.models import PamC

SMALL = dict(hidden_channels=(32,), embedding_dim=8, pretrain_epochs=5, cache=False, epochs=5)


def graph(n=120):
    return planted_partition_graph(n, 3, avg_degree=6, p_intra=0.9, num_features=8, sigma=1.0, seed=0)


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_fits_in_both_modes_and_ignores_labels(mode):
    data = graph()
    a = PamC(3, meta_nodes=mode, **SMALL).fit(data).labels_
    b = PamC(3, meta_nodes=mode, **SMALL).fit(Data(x=data.x, edge_index=data.edge_index)).labels_
    assert np.array_equal(a, b) and a.shape == (120,)
    model = PamC(3, meta_nodes=mode, **SMALL).fit(data)
    assert all(np.isfinite(h["loss"]) for h in model.loss_history_)
    assert model.get_params()["meta_nodes"] == mode


def test_rejects_unknown_meta_node_mode():
    with pytest.raises(GraphclInputError, match="meta_nodes"):
        PamC(3, meta_nodes="fuzzy", **SMALL).fit(graph())
