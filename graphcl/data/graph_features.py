r"""Label-free features for the node types of a heterogeneous graph that have none.

A featureless node type gets, by default, a learnable embedding table in MEOW (the reference's
choice). :func:`neighbour_sketch_features` builds fixed features from the graph instead: a random
projection of each node's set of neighbours of every other type.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.ops.scatter import scatter
from graphcl.validation import check_int

__all__ = ["neighbour_sketch_features"]


def neighbour_sketch_features(data: Any, node_type: str, dim: int = 64, seed: int = 0) -> Tensor:
    r"""Random-projection sketches of a node's neighbour sets, one block per relation.

    For every edge type ``(t, rel, s)`` leaving ``t = node_type`` (sorted, so the layout is
    fixed), draw :math:`g_j \sim \mathcal N(0, I_{dim})` for every node ``j`` of type ``s`` and set

    .. math::
        x_v^{(t, rel, s)} = \frac{1}{\sqrt{|N_s(v)|}} \sum_{j \in N_s(v)} g_j

    (zero for a node without such neighbours); the features are the concatenation of the blocks,
    ``[N_t, dim · (number of relations)]``. Then :math:`\mathbb E\,[x_u^\top x_v] = dim ·
    |N_s(u) \cap N_s(v)| / \sqrt{|N_s(u)|\,|N_s(v)|}` per block: the inner products sketch the
    cosine (Salton) similarity of the neighbour sets, which is what the meta-path ``t-s-t``
    counts (Johnson–Lindenstrauss: the relative error is about :math:`1/\sqrt{dim}`). Labels are
    never read; duplicate edges count once per occurrence.

    Cost ``O(nnz · dim)`` time and ``O((N_s + N_t) · dim)`` memory per relation, seeded by a
    local generator (the same graph and seed give the same features).

    Args:
        data: A ``HeteroData``.
        node_type: The type to describe (``t``).
        dim: Sketch size per relation.
        seed: Seed of the Gaussian vectors.

    Returns:
        float32 ``[N_t, dim · R]``.

    Raises:
        GraphclInputError: ``node_type`` is not in the graph, or has no outgoing relation.
    """
    dim = check_int(dim, "dim")
    seed = check_int(seed, "seed", minimum=None)
    if node_type not in data.node_types:
        raise GraphclInputError(f"node type {node_type!r} is not in the graph (types: {data.node_types})")
    relations = sorted(et for et in data.edge_types if et[0] == node_type)
    if not relations:
        raise GraphclInputError(f"node type {node_type!r} has no outgoing relation to sketch")
    n = int(data[node_type].num_nodes)
    gen = torch.Generator().manual_seed(seed)
    blocks = []
    for src_type, _, dst_type in relations:
        edge_index = data[src_type, _, dst_type].edge_index
        g = torch.randn(int(data[dst_type].num_nodes), dim, generator=gen)
        src, dst = edge_index[0].long(), edge_index[1].long()
        total = scatter(g[dst], src, dim=0, dim_size=n, reduce="sum")
        degree = torch.bincount(src, minlength=n).to(torch.float32)
        blocks.append(total / degree.clamp_min(1).sqrt().unsqueeze(1))
    return torch.cat(blocks, dim=1)
