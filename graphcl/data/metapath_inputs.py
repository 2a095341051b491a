r"""MEOW's inputs, derived from a ``HeteroData`` once before training.

:func:`build_inputs` turns a heterogeneous graph and its meta-paths into the tensors a
:class:`graphcl.nn.MEOWNetwork` reads: per meta-path the normalised PathSim top-k operator and
its edge-masked twin, their mean (the coarse view), one row-mean operator per distinct
meta-path prefix (the contexts), the node features per type and the feature-masked target.
Everything is sparse; nothing is ``N × N`` dense.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from graphcl.data.graph_features import neighbour_sketch_features, smoothed_onehot_svd
from graphcl.data.metapath import metapath_adjacency, metapath_contexts, pathsim_topk
from graphcl.data.metapath_views import mask_edges, mask_features, mean_operator, metapath_operator
from graphcl.errors import GraphclInputError
from graphcl.ops.sparse_matrix import row_mean_operator
from graphcl.validation import check_choice, check_features

EdgeType = Tuple[str, str, str]

__all__ = ["FEATURELESS", "MetaPathInputs", "build_inputs", "per_metapath", "resolve_metapaths", "resolve_target"]

#: What a featureless node type gets (see :func:`build_inputs`).
FEATURELESS = ("table", "sketch", "svd")
#: Sketch size per relation of ``featureless="sketch"``; feature size of ``featureless="svd"``.
SKETCH_DIM = 64


@dataclass
class MetaPathInputs:
    """The tensors one MEOW network reads (built once by :func:`build_inputs`).

    Attributes:
        target: Target node type.
        num_target: Number of target nodes ``N``.
        features: Node type -> features ``[N_t, d_t]`` or ``None`` (featureless), for the
            target and every context type.
        num_nodes: Node type -> node count.
        masked_target: ``(masked features or None, zero_rows or None)`` of the target.
        graphs: Per meta-path, the normalised top-k operator (``SparseOperator [N, N]``).
        masked_graphs: Per meta-path, the edge-masked operator.
        coarse_graph: Mean of ``graphs``.
        context_ops: Context key -> ``(node type, row-mean operator [N, N_t])``.
        metapath_contexts: Per meta-path, its context keys in path order.
        metapath_names: The meta-paths' names, in the order of ``graphs``.
    """

    target: str
    num_target: int
    features: Dict[str, Optional[Tensor]]
    num_nodes: Dict[str, int]
    masked_target: Tuple[Optional[Tensor], Optional[Tensor]]
    graphs: List[Tensor]
    masked_graphs: List[Tensor]
    coarse_graph: Tensor
    context_ops: Dict[str, Tuple[str, Tensor]]
    metapath_contexts: List[List[str]]
    metapath_names: List[str] = field(default_factory=list)

    def network_inputs(self) -> Dict[str, Any]:
        """The keyword arguments of :meth:`graphcl.nn.MEOWNetwork.forward`."""
        return {"x_dict": self.features, "graphs": self.graphs, "masked_graphs": self.masked_graphs,
                "coarse_graph": self.coarse_graph, "context_ops": self.context_ops,
                "masked_x": self.masked_target[0], "zero_rows": self.masked_target[1]}

    def to(self, device: torch.device) -> "MetaPathInputs":
        mv = lambda t: None if t is None else t.to(device)  # noqa: E731
        return MetaPathInputs(
            self.target, self.num_target, {k: mv(v) for k, v in self.features.items()}, dict(self.num_nodes),
            (mv(self.masked_target[0]), mv(self.masked_target[1])), [g.to(device) for g in self.graphs],
            [g.to(device) for g in self.masked_graphs], self.coarse_graph.to(device),
            {k: (t, op.to(device)) for k, (t, op) in self.context_ops.items()},
            [list(c) for c in self.metapath_contexts], list(self.metapath_names),
        )


def per_metapath(value: Union[float, int, None, Sequence], m: int, name: str) -> list:
    """``value`` repeated for ``m`` meta-paths, or a list of ``m`` values checked for its length."""
    if value is None or isinstance(value, (int, float)):
        return [value] * m
    value = list(value)
    if len(value) != m:
        raise GraphclInputError(f"{name} has {len(value)} entries, one per meta-path ({m}) expected")
    return value


def _context_key(metapath: Sequence[EdgeType], position: int) -> str:
    """The name of a meta-path prefix (the context met after ``position`` steps)."""
    return "/".join("-".join(et) for et in metapath[:position])


def resolve_target(data: Any, target: Optional[str], who: str) -> str:
    """The target node type of a ``HeteroData``: ``target``, else ``data.target_node_type``.

    Raises:
        GraphclInputError: ``data`` is not a ``HeteroData`` (``who`` names the estimator), or
            no target is given or the graph lacks it.
    """
    if not hasattr(data, "node_types") or not hasattr(data, "edge_types"):
        raise GraphclInputError(f"{who} needs a torch_geometric HeteroData, got {type(data).__name__} "
                                "(for a homogeneous graph use SCGC, SCGCStar, PamC or SmoothedSpectral)")
    target = target or getattr(data, "target_node_type", None)
    if target is None:
        raise GraphclInputError("no target node type: pass target=... or set data.target_node_type")
    if target not in data.node_types:
        raise GraphclInputError(f"target node type {target!r} is not in the graph (types: {data.node_types})")
    return target


def resolve_metapaths(data: Any, metapaths: Any) -> Dict[str, List[EdgeType]]:
    """Meta-paths as ``{name: [edge types]}`` (a list is named by its node types' initials)."""
    if metapaths is None:
        metapaths = getattr(data, "metapaths", None)
        if metapaths is None:
            raise GraphclInputError("no meta-paths: pass metapaths=[...] or set data.metapaths")
    if not isinstance(metapaths, dict):
        metapaths = {"".join([mp[0][0][0].upper()] + [et[2][0].upper() for et in mp]): mp for mp in metapaths}
    out: Dict[str, List[EdgeType]] = {}
    for name, mp in metapaths.items():
        mp = [tuple(et) for et in mp]
        if not mp or any(len(et) != 3 for et in mp):
            raise GraphclInputError(f"meta-path {name!r} must be a non-empty list of (src, rel, dst) edge types")
        for a, b in zip(mp[:-1], mp[1:]):
            if a[2] != b[0]:
                raise GraphclInputError(f"meta-path {name!r} is not a path: {a} is followed by {b}")
        if mp[0][0] != mp[-1][2]:
            raise GraphclInputError(f"meta-path {name!r} must start and end at the same node type")
        missing = [et for et in mp if et not in data.edge_types]
        if missing:
            raise GraphclInputError(f"meta-path {name!r} uses edge types the graph lacks: {missing}")
        out[str(name)] = mp
    return out


def _type_features(data: Any, node_type: str) -> Optional[Tensor]:
    store = data[node_type]
    x = store.get("x") if hasattr(store, "get") else getattr(store, "x", None)
    if x is None:
        return None
    return check_features(x.to(torch.float32), f"data[{node_type!r}].x")


def build_inputs(
    data: Any,
    target: str,
    metapaths: Dict[str, List[EdgeType]],
    top_k: Sequence[Optional[int]],
    adj_mask: Sequence[float],
    feat_mask: float,
    seed: int,
    featureless: str = "table",
    pathsim_ties: str = "seeded",
) -> MetaPathInputs:
    """Meta-path graphs (path counts, PathSim top-k), their operators and masked twins, the
    contexts, and the feature mask, drawn from ``seed``.

    ``featureless``: what a node type without features gets: ``"table"`` (``None`` here, so the
    network learns an embedding table, as the reference), ``"sketch"`` (fixed features from
    the graph, :func:`graphcl.data.graph_features.neighbour_sketch_features` with 64 dimensions
    per relation, seeded from ``seed``) or ``"svd"`` (a featureless *target* gets
    :func:`graphcl.data.graph_features.metapath_svd_features` over ``metapaths``, 64
    dimensions, seeded from ``seed``; featureless context types keep their tables). ``pathsim_ties``: the tie order at the PathSim top-k cut
    (:func:`graphcl.data.pathsim_topk`)."""
    check_choice(featureless, "featureless", FEATURELESS)
    if target not in data.node_types:
        raise GraphclInputError(f"target node type {target!r} is not in the graph (types: {data.node_types})")
    gen = torch.Generator().manual_seed(int(seed))
    n = int(data[target].num_nodes)
    graphs, masked, ctx_ops, mp_ctx = [], [], {}, []
    support = []  # each meta-path's full pattern (the support of its counts), diagonal dropped: featureless="svd"
    for (name, mp), k, rate in zip(metapaths.items(), top_k, adj_mask):
        ei, counts = metapath_adjacency(data, mp)
        support.append(ei[:, ei[0] != ei[1]])
        if k is not None:
            ei, counts = pathsim_topk(ei, counts, n, int(k), seed=seed, ties=pathsim_ties)
        graphs.append(metapath_operator(ei, counts, n))
        m_ei, m_w = mask_edges(ei, n, rate, gen)
        masked.append(metapath_operator(m_ei, m_w, n))
        keys = []
        for pos, (c_ei, c_type) in enumerate(metapath_contexts(data, mp), start=1):
            key = _context_key(mp, pos)
            if key not in ctx_ops:
                ctx_ops[key] = (c_type, row_mean_operator(c_ei, n, int(data[c_type].num_nodes)))
            keys.append(key)
        mp_ctx.append(keys)
    types = [target] + sorted({t for t, _ in ctx_ops.values()} - {target})
    features = {t: _type_features(data, t) for t in types}
    if featureless == "sketch":
        for t in types:
            if features[t] is None:
                features[t] = neighbour_sketch_features(data, t, SKETCH_DIM, seed)
    elif featureless == "svd" and features[target] is None:
        features[target] = smoothed_onehot_svd(support, n, SKETCH_DIM, seed=seed, node_type=target)
    num_nodes = {t: int(data[t].num_nodes) for t in types}
    masked_target = mask_features(features[target], n, feat_mask, gen)
    return MetaPathInputs(target, n, features, num_nodes, masked_target, graphs, masked,
                          mean_operator(graphs, n), ctx_ops, mp_ctx, list(metapaths))
