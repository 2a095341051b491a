r"""Meta-path graphs, PathSim top-k neighbours, meta-path contexts (``meow.md`` §1.3, 1.4, 2.1).

A meta-path is a list of edge types ``[(t_0, "to", t_1), (t_1, "to", t_2), ...]`` of a
:class:`~torch_geometric.data.HeteroData` (e.g. ``data.metapaths["PAP"]`` of
:func:`graphcl.data.load_hetero_dataset`; lists in place of the tuples, as ``data.to(device)``
leaves them, are accepted). With :math:`R_\ell \in \{0,1\}^{n_{\ell-1} \times n_\ell}` the
incidence matrix of its :math:`\ell`-th edge type (duplicate edges count once):

- :func:`metapath_adjacency`: the path-count matrix :math:`M = R_1 R_2 \cdots R_L`
  (:math:`M_{ij}` = number of meta-path instances from :math:`i` to :math:`j`, diagonal
  included), or HeCo's boolean pattern;
- :func:`pathsim_topk`: per row, the :math:`k` entries of :math:`M` with the largest PathSim
  :math:`2 M_{ij} / (M_{ii} + M_{jj})`, keeping the raw counts (MEOW's coarse-view graph);
- :func:`metapath_contexts`: for each intermediate position :math:`t`, the boolean incidence
  "target :math:`i` reaches the type-:math:`t` node :math:`u` along the prefix"
  :math:`C_t = \mathrm{bool}(R_1 \cdots R_t)` (MEOW's fine-grained view).

Everything is sparse: no dense :math:`N \times N` matrix and no Python loop over nodes or
non-zeros. The sparse products run in scipy (CSR SpGEMM, int64): it is exact for counts,
single-pass, and faster on CPU than ``torch.sparse.mm`` (float only); results are returned as
torch tensors on the device of the input ``edge_index``.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graphcl.errors import GraphclInputError
from graphcl.validation import check_int

__all__ = ["metapath_adjacency", "pathsim_topk", "metapath_contexts"]

EdgeType = tuple[str, str, str]
MetaPath = Union[str, Sequence[Sequence[str]]]


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _as_metapath(data: HeteroData, metapath: MetaPath) -> list[EdgeType]:
    """Validate a meta-path (a name of ``data.metapaths`` or a list of edge types)."""
    if isinstance(metapath, str):
        known = getattr(data, "metapaths", None) or {}
        if metapath not in known:
            raise GraphclInputError(
                f"unknown meta-path {metapath!r}; "
                f"data.metapaths holds: {', '.join(known) or 'none'}"
            )
        metapath = known[metapath]
    try:
        steps = [tuple(step) for step in metapath]
    except TypeError:
        raise GraphclInputError(
            f"metapath must be a list of edge types, got {metapath!r}"
        ) from None
    if not steps:
        raise GraphclInputError("metapath must hold at least one edge type")
    for step in steps:
        if len(step) != 3 or not all(isinstance(s, str) for s in step):
            raise GraphclInputError(f"metapath step {step!r} is not an edge type (src, rel, dst)")
        if step not in data.edge_types:
            raise GraphclInputError(f"metapath step {step!r} is not an edge type of the graph")
    for a, b in zip(steps[:-1], steps[1:]):
        if a[2] != b[0]:
            raise GraphclInputError(
                f"metapath is not a chain: {a!r} ends at {a[2]!r}, {b!r} starts at {b[0]!r}"
            )
    return steps  # type: ignore[return-value]


def _relation_csr(data: HeteroData, edge_type: EdgeType):
    """0/1 incidence :math:`R` ``[n_src, n_dst]`` of one edge type, as int64 scipy CSR."""
    import scipy.sparse as sp

    src, _, dst = edge_type
    n_src, n_dst = data[src].num_nodes, data[dst].num_nodes
    edge_index = data[edge_type].edge_index
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphclInputError(
            f"edge_index of {edge_type!r} must have shape [2, E], got {tuple(edge_index.shape)}"
        )
    ei = edge_index.detach().cpu().numpy().astype(np.int64, copy=False)
    if ei.size and (ei.min() < 0 or ei[0].max() >= n_src or ei[1].max() >= n_dst):
        raise GraphclInputError(
            f"edge_index of {edge_type!r} has ids outside [0, {n_src}) x [0, {n_dst})"
        )
    r = sp.csr_matrix((np.ones(ei.shape[1], dtype=np.int64), (ei[0], ei[1])), shape=(n_src, n_dst))
    r.sum_duplicates()
    r.data[:] = 1  # incidence: a duplicated edge is one edge
    return r


def _matmul(a, b, binary: bool):
    out = a @ b
    if binary:
        out.data[:] = 1  # HeCo's mp_gen.py: bool(...) after every product
    return out


def _chain_product(mats: list, sizes: list[int], binary: bool):
    r""":math:`R_1 \cdots R_L`, split at the smallest intermediate type.

    The two halves are multiplied towards the split (left to right, right to left) and then
    together, so the largest intermediate is the result itself: for DBLP APCPA the halves are
    ``A x C`` (20 conferences), not the 10M-entry ``A x P`` of a left-to-right product.
    """
    if len(mats) == 1:
        out = mats[0].copy()
    else:
        middle = (len(mats)) / 2
        split = min(range(1, len(mats)), key=lambda s: (sizes[s], abs(s - middle)))
        left = mats[0]
        for m in mats[1:split]:
            left = _matmul(left, m, binary)
        right = mats[-1]
        for m in reversed(mats[split:-1]):
            right = _matmul(m, right, binary)
        out = _matmul(left, right, binary)
    if binary:
        out.data[:] = 1
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _csr_to_tensors(m, device: torch.device) -> tuple[Tensor, Tensor]:
    """CSR ``[n, m]`` -> (``edge_index`` ``[2, nnz]`` sorted by (row, col), values ``[nnz]``)."""
    row = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    col = m.indices.astype(np.int64)
    edge_index = torch.from_numpy(np.stack([row, col]))
    return edge_index.to(device), torch.from_numpy(np.ascontiguousarray(m.data)).to(device)


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def metapath_adjacency(
    data: HeteroData, metapath: MetaPath, binary: bool = False
) -> tuple[Tensor, Tensor]:
    r"""Meta-path adjacency :math:`M = R_1 R_2 \cdots R_L` as a sparse edge list.

    With ``binary=False``, :math:`M_{ij}` counts the meta-path instances from :math:`i` to
    :math:`j`; the diagonal holds e.g. the number of authors of paper :math:`i` for PAP. This
    reproduces MEOW's float files (``acm/pap.npz`` = :math:`R_{PA} R_{PA}^\top`, ``psp``,
    ``dblp/apa``, ``imdb/mam|mdm|mkm``) exactly. With ``binary=True`` every product is
    binarised, as HeCo's ``mp_gen.py`` does (``apc = bool(R_PA^T R_PC)``,
    ``apcpa = bool(apc apc^T)``); the result is HeCo's boolean pattern (``pap``, ``psp``,
    ``apa``, ``apcpa`` ...). For non-negative factors it equals the support of the count matrix.
    Rows of nodes without any meta-path instance (IMDB movies without director) stay empty:
    no diagonal entry is added.

    Args:
        data: Heterogeneous graph with ``num_nodes`` for each node type on the path.
        metapath: List of edge types forming a chain, or a name of ``data.metapaths``.
        binary: Return HeCo's boolean pattern (all values 1) instead of path counts.

    Returns:
        ``(edge_index, counts)``: ``edge_index`` int64 ``[2, nnz]`` (row = start node of
        type :math:`t_0`, col = end node of type :math:`t_L`; sorted by (row, col)) and
        ``counts`` int64 ``[nnz]`` (exact path counts, or ones with ``binary=True``), on the
        device of the first edge type's ``edge_index``.

    Raises:
        GraphclInputError: Unknown meta-path name, an edge type not in the graph, steps that
            do not chain, or ids out of range.
    """
    steps = _as_metapath(data, metapath)
    mats = [_relation_csr(data, et) for et in steps]
    sizes = [data[steps[0][0]].num_nodes] + [data[et[2]].num_nodes for et in steps]
    out = _chain_product(mats, sizes, binary)
    return _csr_to_tensors(out, data[steps[0]].edge_index.device)


def pathsim_topk(
    edge_index: Tensor, counts: Tensor, num_nodes: int, k: int, seed: int = 0, ties: str = "seeded"
) -> tuple[Tensor, Tensor]:
    r"""Keep, per row, the ``k`` entries of a meta-path count matrix with the largest PathSim.

    PathSim of a non-zero :math:`M_{ij}` is :math:`ps_{ij} = 2 M_{ij} / (M_{ii} + M_{jj})`
    (self = 1, the maximum); a missing diagonal entry counts as 0, and an entry whose two
    diagonal entries are both missing gets :math:`ps = 0`. Each row keeps its ``min(k, deg)``
    entries of largest :math:`ps` with their **raw counts** :math:`M_{ij}` as values (MEOW's
    coarse graph ``T_m``, ``meow.md`` §2.1.1); the result is directed (not symmetric).

    **Ties** (equal :math:`ps` at the cut, e.g. ACM PSP or AMiner's boolean matrices) are broken
    by an explicit random key: with the entries in (row, col) order, entry :math:`e` gets key
    :math:`u_e` = ``torch.randperm(nnz, generator=torch.Generator().manual_seed(seed))[e]``,
    and among equal :math:`ps` the smaller key wins. The result thus depends only on the
    matrix, ``k`` and ``seed`` (not on the input order or the device). ``ties="numpy"``
    reproduces the reference's choice exactly instead: it sorts each dense row of PathSim
    values (zeros for the missing entries) with numpy's default, unstable ``argsort`` and keeps
    the last ``k`` (meow.md §2.1.1), in blocks of rows — ``O(N^2 log N)`` time and
    ``O(block · N)`` memory, for reproducing the reference on its datasets only.

    Vectorised: order by (row, :math:`-ps`, key) with two sorts, rank within a row as the
    position minus the row's start (cumulative sum of degrees), keep rank < ``k``.

    Args:
        edge_index: ``[2, nnz]`` int64 entries of a square matrix, without duplicates.
        counts: ``[nnz]`` non-negative values :math:`M_{ij}` (path counts).
        num_nodes: Matrix size ``N``.
        k: Entries kept per row (``>= 1``).
        seed: Seed of the tie-breaking key.
        ties: ``"seeded"`` (the random key above) or ``"numpy"`` (the reference's order).

    Returns:
        ``(edge_index, counts)`` of the kept entries, ``[2, nnz']`` and ``[nnz']``, sorted by
        (row, col), on the input device; ``counts`` keeps its dtype.

    Raises:
        GraphclInputError: Bad shapes, ids out of range, duplicate entries, negative counts,
            or ``k < 1``.
    """
    k = check_int(k, "k", minimum=1)
    num_nodes = check_int(num_nodes, "num_nodes", minimum=0)
    seed = check_int(seed, "seed", minimum=None)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphclInputError(
            f"edge_index must have shape [2, nnz], got {tuple(edge_index.shape)}"
        )
    if counts.dim() != 1 or counts.numel() != edge_index.size(1):
        raise GraphclInputError(
            f"counts must have shape [{edge_index.size(1)}] (one per entry), "
            f"got {tuple(counts.shape)}"
        )
    n, nnz, device = int(num_nodes), edge_index.size(1), edge_index.device
    if nnz == 0:
        return edge_index.clone(), counts.clone()
    row, col = edge_index[0].long(), edge_index[1].long()
    if int(row.min()) < 0 or int(col.min()) < 0 or int(row.max()) >= n or int(col.max()) >= n:
        raise GraphclInputError(f"edge_index holds ids outside [0, {n})")
    if bool((counts < 0).any()):
        raise GraphclInputError("counts must be non-negative")
    if ties not in ("seeded", "numpy"):
        raise GraphclInputError(f"ties must be 'seeded' or 'numpy', got {ties!r}")

    # Canonical (row, col) order, so that the tie keys do not depend on the input order
    # (metapath_adjacency's output is already in it: skip the sort then).
    lin = row * n + col
    val = counts
    if not bool((lin[1:] > lin[:-1]).all()):
        order = torch.argsort(lin)
        row, col, val, lin = row[order], col[order], counts[order], lin[order]
        if bool((lin[1:] == lin[:-1]).any()):
            raise GraphclInputError("edge_index holds duplicate entries; coalesce it first")

    ps = pathsim_scores(row, col, val, n)

    if ties == "numpy":
        return _pathsim_topk_numpy(row, col, val, ps, n, k)
    key = torch.randperm(nnz, generator=torch.Generator().manual_seed(seed)).to(device)
    arange = torch.arange(nnz, device=device)
    # Order by (ps desc, key asc): the key is a permutation, so its argsort is its inverse (a
    # scatter, not a sort); then one stable sort by -ps.
    perm = torch.empty_like(key)
    perm[key] = arange
    perm = perm[torch.argsort(-ps[perm], stable=True)]
    # Then by row: pos = place in that order, and row * nnz + pos is a unique int64 key, so a
    # single unstable sort gives (row asc, ps desc, key asc).
    pos = torch.empty_like(perm)
    pos[perm] = arange
    perm = torch.argsort(row * nnz + pos)
    deg = torch.bincount(row, minlength=n)
    start = torch.cumsum(deg, 0) - deg
    rank = arange - start[row[perm]]  # rank within the row
    keep = torch.zeros(nnz, dtype=torch.bool, device=device)
    keep[perm[rank < k]] = True
    kept = keep.nonzero().view(-1)  # back in (row, col) order
    return torch.stack([row[kept], col[kept]]), val[kept]


def pathsim_scores(row: Tensor, col: Tensor, counts: Tensor, num_nodes: int) -> Tensor:
    r"""PathSim :math:`ps_{ij} = 2 M_{ij} / (M_{ii} + M_{jj})` of each entry ``(row[e], col[e])``
    of a meta-path count matrix (float64 ``[nnz]``; a missing diagonal entry counts as 0, and an
    entry whose two diagonal entries are both missing gets 0), as :func:`pathsim_topk` ranks them."""
    w = counts.to(torch.float64)
    diag = torch.zeros(int(num_nodes), dtype=torch.float64, device=w.device)
    self_loop = row == col
    diag[row[self_loop]] = w[self_loop]
    denom = diag[row] + diag[col]
    return torch.where(denom > 0, 2.0 * w / denom.clamp_min(1e-300), torch.zeros_like(w))


def _pathsim_topk_numpy(row: Tensor, col: Tensor, val: Tensor, ps: Tensor, n: int, k: int,
                        block: int = 256) -> tuple[Tensor, Tensor]:
    """The reference's top-k: per dense row of PathSim values, ``np.sort(np.argsort(row)[::-1][:k])``,
    keeping the chosen entries that are non-zero; rows in blocks (entries in (row, col) order)."""
    import numpy as np

    r, c, p = row.cpu().numpy(), col.cpu().numpy(), ps.cpu().numpy()
    starts = np.searchsorted(r, np.arange(0, n + block, block))
    keep_rows, keep_cols = [], []
    for b, s in enumerate(range(0, n, block)):
        lo, hi = starts[b], starts[b + 1]
        dense = np.zeros((min(block, n - s), n))
        dense[r[lo:hi] - s, c[lo:hi]] = p[lo:hi]
        top = np.sort(np.argsort(dense, axis=1)[:, ::-1][:, :k], axis=1)
        rows = np.repeat(np.arange(dense.shape[0]), top.shape[1])
        cols = top.reshape(-1)
        nonzero = dense[rows, cols] != 0
        keep_rows.append(rows[nonzero] + s)
        keep_cols.append(cols[nonzero])
    kr = torch.from_numpy(np.concatenate(keep_rows)).to(row.device)
    kc = torch.from_numpy(np.concatenate(keep_cols)).to(row.device)
    # the kept entries' counts: look them up in the (row, col)-sorted input
    lin = row * n + col
    idx = torch.searchsorted(lin, kr * n + kc)
    return torch.stack([kr, kc]), val[idx]


def metapath_contexts(data: HeteroData, metapath: MetaPath) -> list[tuple[Tensor, str]]:
    r"""Meta-path contexts: which type-:math:`t` nodes a target reaches along the prefix.

    For each intermediate position :math:`t = 1, \dots, L-1` of the meta-path (the final
    target position excluded) returns the boolean incidence
    :math:`C_t = \mathrm{bool}(R_1 R_2 \cdots R_t)` (binarised after every product): ACM PAP
    :math:`\to` {A} (= ``nei_a.npz``); DBLP APCPA :math:`\to` {AP, APC, APCP} (``nei_ap``,
    ``nei_apc``, and the 10,165,000-pair APCP); APTPA :math:`\to` {AP, APT, APTP} (APTP:
    13,414,703 pairs). These are per-node sets, not per-(i, j) path instances
    (``meow.md`` §1.4).

    Memory: the pairs are materialised as int64, 16 bytes per pair: DBLP APCP about 163 MB and
    APTP about 215 MB (the scipy intermediates add about half of that while they live); every
    other context of the shipped datasets is under 100k pairs. (APCP need not be materialised at
    all: each paper has one conference, so its mean is a ratio of per-conference sums,
    ``meow.md`` §8; that is the encoder's business, not this function's.)

    Args:
        data: Heterogeneous graph with ``num_nodes`` for each node type on the path.
        metapath: List of edge types forming a chain, or a name of ``data.metapaths``.

    Returns:
        One ``(edge_index, node_type)`` per position :math:`t`: ``edge_index`` int64
        ``[2, nnz_t]`` (row = target node, col = context node of ``node_type``; sorted by
        (row, col)). Empty for a one-step meta-path.

    Raises:
        GraphclInputError: As :func:`metapath_adjacency`.
    """
    steps = _as_metapath(data, metapath)
    device = data[steps[0]].edge_index.device
    contexts: list[tuple[Tensor, str]] = []
    prefix = None
    for et in steps[:-1]:
        r = _relation_csr(data, et)
        prefix = r if prefix is None else _matmul(prefix, r, binary=True)
        prefix.eliminate_zeros()
        prefix.sort_indices()
        edge_index, _ = _csr_to_tensors(prefix, device)
        contexts.append((edge_index, et[2]))
    return contexts
