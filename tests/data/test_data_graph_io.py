"""graphcl.data.graph_io: save_graph / load_graph round trips and errors."""

import pytest
import torch

from graphcl.data import planted_partition_graph


def test_save_and_load_round_trip(tmp_path):
    from graphcl.data import load_graph, save_graph

    data = planted_partition_graph(500, 5, avg_degree=8, p_intra=0.8, num_features=6, sigma=1.0, seed=3)
    path = save_graph(data, tmp_path / "g" / "graph.pt")
    for mmap in (True, False):
        back = load_graph(path, mmap=mmap)
        assert torch.equal(back.x, data.x) and torch.equal(back.edge_index, data.edge_index)
        assert torch.equal(back.y, data.y) and back.num_classes == 5


def test_load_graph_errors_name_the_file(tmp_path):
    from graphcl import GraphclInputError
    from graphcl.data import load_graph

    with pytest.raises(GraphclInputError, match="not found.*missing.pt"):
        load_graph(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(GraphclInputError, match="bad.pt"):
        load_graph(bad)
    other = tmp_path / "other.pt"
    torch.save({"x": torch.zeros(2, 2)}, other)
    with pytest.raises(GraphclInputError, match="not a graphcl graph"):
        load_graph(other)
