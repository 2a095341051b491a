"""Label-free quality of a node clustering on a graph: modularity and conductance.

Edges are taken exactly as listed in ``edge_index`` (``[2, E]``): an undirected graph must list
both directions of every edge (as PyG's ``to_undirected`` does). Everything is computed with
``index_add_`` scatters over edges and nodes; no Python loop over nodes or edges and no
``N x N`` tensor. Sums are accumulated in float64.

Notation, for edge weights ``w_e`` (1 when ``edge_weight`` is ``None``):

* ``2m = sum_e w_e``: the total weight of the listed edges;
* ``deg(u) = sum_{e = (u, v)} w_e``: weighted out-degree over the listed edges;
* ``vol(S) = sum_{u in S} deg(u)``;
* ``w_in(S) = sum_{e = (u, v): u, v in S} w_e``;
* ``cut(S) = sum_{e = (u, v): u in S, v not in S} w_e``.

Cluster labels are non-negative integer ids, ``labels[u]`` being the cluster of node ``u``.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.validation import check_choice, check_edge_index, check_edge_weight, check_int

__all__ = ["conductance", "modularity"]


def _prepare(
    edge_index: Tensor,
    labels: Any,
    edge_weight: Optional[Tensor],
    num_nodes: Optional[int],
) -> Tuple[Tensor, Tensor, Tensor, int]:
    """Validate inputs; return ``(edge_index, labels, weights float64, num_clusters)`` on one device."""
    if isinstance(labels, Tensor):
        lab = labels.detach()
    else:
        try:
            lab = torch.as_tensor(labels)
        except (TypeError, ValueError, RuntimeError):
            raise GraphclInputError(
                f"labels must be a 1-D integer tensor of cluster ids, got {type(labels).__name__}"
            ) from None
    if lab.dim() != 1:
        raise GraphclInputError(f"labels must be 1-D [num_nodes], got shape {tuple(lab.shape)}")
    if torch.is_floating_point(lab) or lab.dtype == torch.bool or lab.is_complex():
        raise GraphclInputError(f"labels must hold integer cluster ids (torch.long), got dtype {lab.dtype}")
    if num_nodes is None:
        num_nodes = lab.numel()
    else:
        num_nodes = check_int(num_nodes, "num_nodes")
    if lab.numel() == 0:
        raise GraphclInputError("labels is empty: the graph has no nodes")
    if lab.numel() != num_nodes:
        raise GraphclInputError(
            f"labels has {lab.numel()} entries but num_nodes is {num_nodes} (one cluster id per node)"
        )
    lab = lab.long()
    if int(lab.min()) < 0:
        raise GraphclInputError(f"labels holds a negative cluster id ({int(lab.min())})")

    edge_index = check_edge_index(edge_index, num_nodes)
    device = edge_index.device
    edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
    if edge_weight is None:
        w = torch.ones(edge_index.size(1), dtype=torch.float64, device=device)
    else:
        w = edge_weight.detach().to(device=device, dtype=torch.float64)
    lab = lab.to(device)
    return edge_index, lab, w, int(lab.max()) + 1


def _cluster_sums(edge_index: Tensor, lab: Tensor, w: Tensor, k: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Per-cluster ``w_in``, ``vol`` and ``cut``, each float64 of shape ``[k]``."""
    src_c = lab[edge_index[0]]
    dst_c = lab[edge_index[1]]
    same = src_c == dst_c
    vol = w.new_zeros(k).index_add_(0, src_c, w)
    w_in = w.new_zeros(k).index_add_(0, src_c, torch.where(same, w, torch.zeros_like(w)))
    cut = vol - w_in  # out-edges of S whose target is outside S
    return w_in, vol, cut


def modularity(
    edge_index: Tensor,
    labels: Tensor,
    edge_weight: Optional[Tensor] = None,
    num_nodes: Optional[int] = None,
) -> float:
    """Newman modularity of a partition of the nodes.

    .. math::
        Q = \\sum_c \\left[ \\frac{w_{in}(c)}{2m} - \\left(\\frac{vol(c)}{2m}\\right)^2 \\right]

    with ``2m`` the total weight of the listed edges, ``w_in(c)`` the weight of listed edges with
    both ends in ``c`` and ``vol(c)`` the summed weighted out-degree of ``c``'s nodes. For an
    undirected graph listed in both directions (without self-loops) this equals
    ``networkx.algorithms.community.modularity``. A self-loop is counted as listed (once if listed
    once); list it twice to match networkx's convention. A graph without edges (``2m = 0``) has
    ``Q = 0`` by definition here.

    Args:
        edge_index: Edge list, LongTensor of shape ``[2, E]``.
        labels: Cluster id of every node, integer tensor of shape ``[N]`` with values ``>= 0``.
        edge_weight: Optional non-negative weights of shape ``[E]``.
        num_nodes: Number of nodes ``N``; defaults to ``labels.numel()`` and must equal it.

    Returns:
        ``Q`` as a Python float, in ``[-1/2, 1)``.

    Raises:
        GraphclInputError: malformed ``edge_index``, ``edge_weight``, ``labels`` or ``num_nodes``.
    """
    edge_index, lab, w, k = _prepare(edge_index, labels, edge_weight, num_nodes)
    two_m = float(w.sum())
    if two_m <= 0.0:
        return 0.0
    w_in, vol, _ = _cluster_sums(edge_index, lab, w, k)
    q = w_in.sum() / two_m - ((vol / two_m) ** 2).sum()
    return float(q)


def conductance(
    edge_index: Tensor,
    labels: Tensor,
    edge_weight: Optional[Tensor] = None,
    num_nodes: Optional[int] = None,
    reduce: str = "mean",
) -> Union[float, Tensor]:
    """Conductance of every cluster, optionally averaged.

    .. math::
        \\phi(S) = \\frac{cut(S)}{\\min(vol(S),\\; vol(V \\setminus S))}, \\qquad
        vol(V \\setminus S) = 2m - vol(S),

    where ``cut(S)`` is the weight of listed edges leaving ``S`` (for an undirected graph listed
    in both directions: the weight of the edges between ``S`` and the rest, each counted once).
    ``phi(S) = 0`` when the denominator is 0 (an empty cluster, a cluster of isolated nodes, or
    a cluster holding every edge). Lower is better; values lie in ``[0, 1]`` for undirected
    graphs. Matches ``networkx.conductance(G, S)`` where that is defined.

    Args:
        edge_index: Edge list, LongTensor of shape ``[2, E]``.
        labels: Cluster id of every node, integer tensor of shape ``[N]`` with values ``>= 0``.
        edge_weight: Optional non-negative weights of shape ``[E]``.
        num_nodes: Number of nodes ``N``; defaults to ``labels.numel()`` and must equal it.
        reduce: ``"mean"`` averages over the non-empty clusters and returns a Python float;
            ``"none"`` returns a float64 tensor of shape ``[labels.max() + 1]`` indexed by
            cluster id (empty ids hold 0), on ``edge_index``'s device.

    Returns:
        The mean conductance (float) or the per-cluster tensor.

    Raises:
        GraphclInputError: malformed inputs or an unknown ``reduce``.
    """
    check_choice(reduce, "reduce", ("mean", "none"))
    edge_index, lab, w, k = _prepare(edge_index, labels, edge_weight, num_nodes)
    two_m = w.sum()
    _, vol, cut = _cluster_sums(edge_index, lab, w, k)
    denom = torch.minimum(vol, two_m - vol)
    safe = denom > 0
    phi = torch.where(safe, cut / torch.where(safe, denom, torch.ones_like(denom)), torch.zeros_like(cut))
    if reduce == "none":
        return phi
    sizes = torch.bincount(lab, minlength=k)
    return float(phi[sizes > 0].mean())
