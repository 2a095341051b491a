import pytest
import torch

from graphcl.distributed import init_from_env, shard_graph, shard_sizes
from graphcl.errors import GraphclDistributedError, GraphclInputError


def _pairs(n=30, nnz=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.unique(torch.randint(0, n, (2, nnz), generator=g), dim=1)
    return ei, torch.rand(ei.size(1), generator=g)


def test_shard_sizes_are_contiguous_and_near_equal():
    assert shard_sizes(10, 3) == [4, 3, 3]
    assert sum(shard_sizes(1001, 7)) == 1001
    with pytest.raises(GraphclInputError, match="3 nodes over 4 ranks"):
        shard_sizes(3, 4)


@pytest.mark.parametrize("world", [1, 2, 3])
def test_shards_keep_exactly_their_rows_and_the_features_they_reach(world):
    n = 30
    x = torch.randn(n, 5)
    ei, w = _pairs(n)
    seen = 0
    for rank in range(world):
        s = shard_graph(x, ei, w, rank, world)
        start, stop = s.start, s.start + s.num_owned
        global_ids = torch.cat([s.owned, s.halo])  # local id -> global id
        torch.testing.assert_close(s.x, x[global_ids])
        rows, cols = global_ids[s.w_index[0]], global_ids[s.w_index[1]]
        expect = (ei[0] >= start) & (ei[0] < stop)
        got = sorted(zip(rows.tolist(), cols.tolist(), s.w_value.tolist()))
        assert got == sorted(zip(ei[0, expect].tolist(), ei[1, expect].tolist(), w[expect].tolist()))
        assert bool((s.w_index[0] < s.num_owned).all())
        # the halo is exactly the partners outside the shard, nothing more
        outside = ei[1, expect][(ei[1, expect] < start) | (ei[1, expect] >= stop)]
        assert s.halo.tolist() == torch.unique(outside).tolist()
        assert s.cross_pairs == outside.numel()
        seen += s.num_owned
    assert seen == n


def test_init_from_env_without_torchrun_variables_is_a_clear_error(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(GraphclDistributedError, match="torchrun"):
        init_from_env()
