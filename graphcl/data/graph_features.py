r"""Label-free features for the node types of a heterogeneous graph that have none.

A featureless node type gets, by default, a learnable embedding table in MEOW (the reference's
choice). Two functions build fixed features from the graph instead:
:func:`neighbour_sketch_features`, a random projection of each node's set of neighbours of every
other type, and :func:`metapath_svd_features`, a rank-``d`` approximation of the target's
meta-path-smoothed one-hot features (what the ``kmeans_smoothed`` baseline clusters).
"""

from __future__ import annotations

from typing import Any, List, Sequence

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.ops.normalize import normalize_adjacency
from graphcl.ops.scatter import scatter
from graphcl.ops.sparse_matrix import SparseOperator, sparse_operator
from graphcl.validation import check_int

__all__ = ["binary_metapath_graphs", "metapath_svd_features", "neighbour_sketch_features", "smoothed_onehot_svd"]


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


def _smoothing_product(ops: Sequence[SparseOperator], x: Tensor, hops: int) -> Tensor:
    """``(1/M) Σ_m P_m^hops x`` for the operators ``ops`` (pass the transposes for ``S^T x``)."""
    out = torch.zeros_like(x)
    for op in ops:
        h = x
        for _ in range(hops):
            h = op @ h
        out += h
    return out / len(ops)


def metapath_svd_features(
    data: Any, node_type: str, metapaths: Sequence[Sequence[Any]], dim: int = 64, hops: int = 2,
    power_iters: int = 6, oversample: int = 16, seed: int = 0,
) -> Tensor:
    r"""A rank-``dim`` approximation of a type's meta-path-smoothed one-hot features, rows unit.

    With :math:`A_m` the binary adjacency of meta-path ``m`` between nodes of ``node_type``
    (its diagonal dropped, symmetrised) and :math:`P_m = D_m^{-1}(A_m + I)` its random-walk
    operator, the smoothed one-hot features are the rows of

    .. math::
        S = \frac1M \sum_{m=1}^{M} P_m^{h} \qquad (N \times N),

    the features the ``kmeans_smoothed`` baseline clusters for a featureless target (it
    densifies them). This function returns their best rank-``dim`` approximation in the
    row space, rows L2-normalised:

    .. math::
        X = \mathrm{rownorm}(U_{:d}\, \Sigma_{:d}) = \mathrm{rownorm}(S V_{:d}),
        \qquad S = U \Sigma V^\top,

    i.e. each node's smoothed one-hot row projected on the ``dim`` leading right singular
    vectors (a PCA without centring, as latent semantic analysis does for bag-of-words rows),
    then put on the unit sphere, so that a node's degree does not set its norm. The singular
    vectors come from randomised subspace iteration (Halko, Martinsson & Tropp, SIAM Review
    2011): a seeded Gaussian block of ``dim + oversample`` columns, ``power_iters`` passes of
    :math:`Q \leftarrow \mathrm{qr}(S\, \mathrm{qr}(S^\top Q))`, then the SVD of the small
    :math:`Q^\top S`. :math:`S` is never formed: each product is ``hops`` sparse products per
    meta-path. Labels are never read.

    Cost ``O(power_iters · hops · Σ_m nnz(A_m) · (dim + oversample))`` time and
    ``O(N · (dim + oversample))`` memory besides the operators. The result is a basis-free
    function of the leading singular subspace (rotating the subspace leaves it unchanged), so
    it is the same up to the subspace iteration's approximation error and float rounding.

    Args:
        data: A ``HeteroData``.
        node_type: The type to describe.
        metapaths: Meta-paths from ``node_type`` back to it (lists of edge types, or names of
            ``data.metapaths``).
        dim: Number of singular directions kept (the feature size), ``<= N``.
        hops: The power ``h`` of each meta-path operator (the baseline's 2).
        power_iters: Subspace iterations.
        oversample: Extra columns of the iterated block (accuracy of the leading ``dim``).
        seed: Seed of the Gaussian start.

    Returns:
        float32 ``[N, dim]`` with unit rows.

    Raises:
        GraphclInputError: ``node_type`` is not in the graph, no meta-path is given, or
            ``dim`` exceeds the number of nodes.
    """
    if node_type not in data.node_types:
        raise GraphclInputError(f"node type {node_type!r} is not in the graph (types: {data.node_types})")
    return smoothed_onehot_svd(binary_metapath_graphs(data, metapaths), int(data[node_type].num_nodes), dim, hops,
                               power_iters, oversample, seed, node_type)


def binary_metapath_graphs(data: Any, metapaths: Sequence[Any]) -> List[Tensor]:
    """Each meta-path's binary adjacency ``[2, E_m]`` (:func:`graphcl.data.metapath_adjacency`
    with ``binary=True``), self-pairs dropped: the graphs :func:`smoothed_onehot_svd` and the
    meta-path smoothing read."""
    from graphcl.data.metapath import metapath_adjacency

    graphs = []
    for mp in metapaths:
        ei, _ = metapath_adjacency(data, mp, binary=True)
        graphs.append(ei[:, ei[0] != ei[1]])
    return graphs


def smoothed_onehot_svd(
    graphs: Sequence[Tensor], num_nodes: int, dim: int = 64, hops: int = 2, power_iters: int = 6,
    oversample: int = 16, seed: int = 0, node_type: str = "node",
) -> Tensor:
    r""":func:`metapath_svd_features` from meta-path graphs already built: ``graphs`` holds each
    meta-path's binary adjacency ``[2, E_m]`` between the ``num_nodes`` nodes, diagonal dropped
    (as :func:`graphcl.data.metapath_adjacency` with ``binary=True`` gives it, self-pairs
    removed), so a caller that needs those edge lists anyway builds them once. ``node_type``
    names the nodes in error messages; the other arguments are :func:`metapath_svd_features`'s."""
    dim = check_int(dim, "dim")
    hops = check_int(hops, "hops")
    power_iters = check_int(power_iters, "power_iters", minimum=0)
    oversample = check_int(oversample, "oversample", minimum=0)
    seed = check_int(seed, "seed", minimum=None)
    if not graphs:
        raise GraphclInputError("metapath_svd_features needs at least one meta-path")
    n = int(num_nodes)
    if dim > n:
        raise GraphclInputError(f"dim={dim} exceeds the {n} nodes of type {node_type!r}")
    ops: List[SparseOperator] = []
    for ei in graphs:
        nei, w = normalize_adjacency(ei, None, n, mode="row")
        ops.append(sparse_operator(nei, w, n))
    ops_t = [SparseOperator(op.mat_t, op.mat) for op in ops]
    k = min(n, dim + oversample)
    gen = torch.Generator().manual_seed(seed)
    omega = torch.randn(n, k, generator=gen)
    q = torch.linalg.qr(_smoothing_product(ops, omega, hops)).Q
    for _ in range(power_iters):
        q = torch.linalg.qr(_smoothing_product(ops_t, q, hops)).Q
        q = torch.linalg.qr(_smoothing_product(ops, q, hops)).Q
    b_t = _smoothing_product(ops_t, q, hops)  # (Q^T S)^T: [N, k]
    u_b, sigma, _ = torch.linalg.svd(b_t.t(), full_matrices=False)  # Q^T S = U_b Σ V^T
    x = (q @ u_b[:, :dim]) * sigma[:dim]
    return torch.nn.functional.normalize(x, dim=1)
