"""Synthetic heterogeneous graphs with planted classes (ACM/DBLP-like paper-author-venue schema),
for tests and scaling benchmarks of the meta-path models (MEOW, AdaMEOW)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from graphcl.errors import GraphclInputError
from graphcl.validation import check_float, check_int

__all__ = ["planted_hetero_graph"]

_MAX_CONTEXT_NODES = 2**31 - 1


def _block_starts(n: int, k: int) -> Tensor:
    """Starts of the ``k`` contiguous blocks of ``y_j = floor(j * k / n)`` (``[k + 1]``, last = ``n``).

    ``floor(j * k / n) >= c`` iff ``j >= ceil(c * n / k)``, so no ``[n]`` label tensor is needed.
    """
    c = torch.arange(k + 1, dtype=torch.long)
    return torch.div(c * n + k - 1, k, rounding_mode="floor")


def _context_links(cls: Tensor, starts: Tensor, p_intra: float, gen: torch.Generator) -> Tensor:
    """One context node per entry of ``cls`` (the class of the link's target node): with
    probability ``p_intra`` uniform in block ``cls``, else uniform in the other blocks."""
    m = cls.numel()
    k = starts.numel() - 1
    n_ctx = int(starts[-1])
    intra = torch.rand(m, generator=gen, dtype=torch.float64) < p_intra
    u = torch.rand(m, generator=gen, dtype=torch.float64)
    sizes = starts[1:] - starts[:-1]
    size, start = sizes[cls], starts[:-1][cls]
    t_in = start + torch.minimum((u * size).long(), size - 1)
    if k == 1:
        return t_in
    out_size = n_ctx - size
    r = torch.minimum((u * out_size).long(), out_size - 1)
    t_out = torch.where(r >= start, r + size, r)  # skip the link's own block
    return torch.where(intra, t_in, t_out)


def _pairs(keys: np.ndarray, n_dst: int) -> Tensor:
    """Sorted unique keys ``src * n_dst + dst`` -> ``edge_index`` int64 ``[2, E]``."""
    return torch.from_numpy(np.stack([keys // n_dst, keys % n_dst]).astype(np.int64, copy=False))


def _class_features(starts: Tensor, mu: Tensor, sigma: float, gen: torch.Generator) -> Tensor:
    """``x_j = mu_{y_j} + sigma * eps_j`` for contiguous class blocks, built in place (one ``[n, d]``
    float32 buffer)."""
    n, d = int(starts[-1]), mu.size(1)
    x = torch.randn(n, d, generator=gen, dtype=torch.float32)
    x.mul_(sigma)
    for c in range(mu.size(0)):
        x[int(starts[c]) : int(starts[c + 1])].add_(mu[c])
    return x


def planted_hetero_graph(
    num_targets: int,
    n_clusters: int,
    num_features: int,
    sigma: float,
    *,
    authors_per_target: int = 2,
    targets_per_author: float = 4.0,
    targets_per_venue: float = 50.0,
    p_intra: float = 0.8,
    context_features: bool = True,
    mu_scale: float = 1.0,
    seed: int = 0,
) -> HeteroData:
    r"""Sample a heterogeneous paper-author-venue graph with planted classes.

    The schema is ACM/DBLP-like and laid out as :func:`graphcl.data.load_hetero_dataset` lays out
    the shipped graphs, so the meta-path models (:class:`graphcl.models.MEOW`, ...) treat it the
    same way.

    **Nodes and classes.** With ``N = num_targets``, ``K = n_clusters``, ``a = authors_per_target``,
    ``t = targets_per_author`` and ``v = targets_per_venue``:

    - ``"paper"`` (the target type): ``N`` nodes, label ``y_i = floor(i * K / N)`` (``K``
      contiguous blocks whose sizes differ by at most one, as
      :func:`graphcl.data.planted_partition_graph`);
    - ``"author"``: ``N_A = max(K, round(N * a / t))`` nodes; author ``j`` has the planted class
      ``floor(j * K / N_A)`` (contiguous blocks again);
    - ``"venue"``: ``N_V = max(K, round(N / v))`` nodes; venue ``j`` has the planted class
      ``floor(j * K / N_V)``.

    The context classes are not stored (a ``y`` on a context type would leak labels past
    :func:`graphcl.experiment.without_labels`); recompute them with the formulas above.

    **Links.** Each paper draws ``a`` author links: each one, independently, with probability
    ``p_intra`` goes to a uniformly random author of the paper's class, otherwise to a uniformly
    random author of one of the other classes (with ``K = 1`` every link is intra-class).
    Duplicate paper-author pairs are removed, so a paper has between 1 and ``a`` distinct
    authors. Each paper links to exactly one venue, drawn by the same rule. The expected fraction
    of intra-class links is exactly ``p_intra`` for both relations (``1`` when ``K = 1``). Every
    author receives on average ``N * a / N_A ~ t`` links and every venue ``N / N_V ~ v`` papers
    (about Poisson distributed); authors and venues may end up without any paper.

    **Features.** Class means ``mu_k ~ N(0, mu_scale^2 I_d)`` (``[K, d]``, ``d = num_features``)
    and ``x_i = mu_{y_i} + sigma * eps_i`` with ``eps_i ~ N(0, I_d)`` for the papers. With
    ``context_features=True`` authors and venues get features by the same rule from their planted
    class (same ``mu``, ``sigma`` and ``d``); with ``False`` they have no ``x`` at all
    (featureless types, for which MEOW learns an embedding table, as for the shipped graphs'
    one-hot types).

    **Meta-paths.** ``PAP`` (paper-author-paper) and ``PVP`` (paper-venue-paper). The number of
    non-zeros of their path-count matrices (:func:`graphcl.data.metapath_adjacency`, diagonal
    included) stays linear in ``N``: a paper's PAP row holds itself plus the other papers of its
    authors, whose degree is size-biased (``t + 1`` on average, the paper itself included), so

    - ``nnz(PAP) ~ N * (1 + a * t)``: ``9 N`` with the defaults (about ``9.0e4``, ``9.0e5``,
      ``9.0e6`` at ``N = 10^4, 10^5, 10^6``; a little less on small graphs, where a paper
      more often draws the same author twice or shares two authors with another paper);
    - ``nnz(PVP) = sum over venues of deg^2 ~ N * (1 + N / N_V) ~ N * (1 + v)``: ``51 N`` with
      the defaults (about ``5.1e5``, ``5.1e6``, ``5.1e7``). PVP dominates the meta-path memory
      (``metapath_adjacency`` returns 24 bytes per non-zero: 1.2 GB at ``N = 10^6`` with the
      defaults); lower ``targets_per_venue`` to shrink it.

    Everything is drawn from one ``torch.Generator`` seeded with ``seed``, in this order: author
    links, venue links, ``mu``, paper noise, then (``context_features=True``) author and venue
    noise. The same arguments give the same graph, and ``context_features`` does not change the
    papers, links or ``mu``. Fully vectorised (no Python loop over nodes or edges; a loop over
    the ``K`` classes): ``N = 10^6`` takes a few seconds, and the memory is dominated by the
    float32 features (``4 d (N + N_A + N_V)`` bytes) plus a few int64 arrays of ``N * a``
    entries.

    Args:
        num_targets: Number of papers ``N`` (``>= n_clusters``).
        n_clusters: Number of planted classes ``K`` (``>= 1``).
        num_features: Feature dimension ``d`` (``>= 1``).
        sigma: Within-class feature noise standard deviation (``>= 0``).
        authors_per_target: Author links drawn per paper ``a`` (integer ``>= 1``; duplicates
            are removed afterwards).
        targets_per_author: Mean number of papers per author ``t`` (``> 0``); sets ``N_A``.
        targets_per_venue: Mean number of papers per venue ``v`` (``> 0``); sets ``N_V``.
        p_intra: Probability that a link goes to a context node of the paper's class, in
            ``[0, 1]``.
        context_features: Give authors and venues Gaussian class features (``True``) or no
            features (``False``).
        mu_scale: Standard deviation of the class means (``>= 0``).
        seed: Random seed.

    Returns:
        ``HeteroData`` with node types ``"paper"`` (``x`` float32 ``[N, d]``, ``y`` int64 ``[N]``),
        ``"author"`` and ``"venue"`` (``x`` float32 ``[N_A, d]``/``[N_V, d]`` only with
        ``context_features=True``), ``num_nodes`` set on every type; edge types
        ``("paper", "to", "author")``, ``("author", "to", "paper")``, ``("paper", "to",
        "venue")`` and ``("venue", "to", "paper")``, each an int64 ``edge_index`` ``[2, E]``
        without duplicates, sorted by (source, destination), the reverse types exact
        transposes; graph attributes ``target_node_type="paper"``, ``metapaths={"PAP":
        [("paper", "to", "author"), ("author", "to", "paper")], "PVP": [("paper", "to",
        "venue"), ("venue", "to", "paper")]}``, ``num_classes=K`` and
        ``name="planted_hetero"``.

    Raises:
        GraphclInputError: For an out-of-range argument (the message names it).
    """
    n = check_int(num_targets, "num_targets", minimum=1)
    k = check_int(n_clusters, "n_clusters", minimum=1)
    if k > n:
        raise GraphclInputError(f"n_clusters={k} exceeds num_targets={n}")
    d = check_int(num_features, "num_features", minimum=1)
    sigma = check_float(sigma, "sigma", minimum=0.0)
    a = check_int(authors_per_target, "authors_per_target", minimum=1)
    t = check_float(targets_per_author, "targets_per_author", minimum=0.0, min_inclusive=False)
    v = check_float(targets_per_venue, "targets_per_venue", minimum=0.0, min_inclusive=False)
    p_intra = check_float(p_intra, "p_intra", minimum=0.0, maximum=1.0)
    if not isinstance(context_features, (bool, np.bool_)):
        raise GraphclInputError(f"context_features must be True or False, got {context_features!r}")
    mu_scale = check_float(mu_scale, "mu_scale", minimum=0.0)
    seed = check_int(seed, "seed", minimum=-(2**63), maximum=2**64 - 1)

    n_author = max(k, int(round(n * a / t)))
    n_venue = max(k, int(round(n / v)))
    for count, arg in ((n_author, "targets_per_author"), (n_venue, "targets_per_venue")):
        if count > _MAX_CONTEXT_NODES:
            raise GraphclInputError(
                f"{arg} is too small: it gives {count} context nodes (at most {_MAX_CONTEXT_NODES})"
            )

    gen = torch.Generator().manual_seed(seed)
    paper_starts = _block_starts(n, k)
    author_starts = _block_starts(n_author, k)
    venue_starts = _block_starts(n_venue, k)
    y = torch.div(torch.arange(n, dtype=torch.long) * k, n, rounding_mode="floor")

    # paper -> author: a links per paper, sorted and deduplicated within each paper's row of a
    # (no global sort); the reverse is sorted on integer keys (a numpy sort is much faster than
    # a threaded torch.sort on a busy CPU)
    dst = _context_links(y.repeat_interleave(a), author_starts, p_intra, gen).view(n, a)
    dst = torch.sort(dst, dim=1).values
    keep = torch.ones(n, a, dtype=torch.bool)
    keep[:, 1:] = dst[:, 1:] != dst[:, :-1]
    src = torch.arange(n, dtype=torch.long).view(n, 1).expand(n, a)
    pa = torch.stack([src[keep], dst[keep]])
    del src, dst, keep
    ap = _pairs(np.sort(pa[1].numpy() * n + pa[0].numpy()), n)

    # paper -> venue: exactly one per paper (already sorted and unique)
    venue = _context_links(y, venue_starts, p_intra, gen)
    pv = torch.stack([torch.arange(n, dtype=torch.long), venue])
    order = torch.from_numpy(np.argsort(venue.numpy(), kind="stable"))  # papers ascend per venue
    vp = torch.stack([venue[order], order])

    mu = mu_scale * torch.randn(k, d, generator=gen, dtype=torch.float32)
    data = HeteroData()
    data["paper"].num_nodes = n
    data["paper"].x = _class_features(paper_starts, mu, sigma, gen)
    data["paper"].y = y
    data["author"].num_nodes = n_author
    data["venue"].num_nodes = n_venue
    if context_features:
        data["author"].x = _class_features(author_starts, mu, sigma, gen)
        data["venue"].x = _class_features(venue_starts, mu, sigma, gen)
    data["paper", "to", "author"].edge_index = pa
    data["author", "to", "paper"].edge_index = ap
    data["paper", "to", "venue"].edge_index = pv
    data["venue", "to", "paper"].edge_index = vp

    data.target_node_type = "paper"
    data.metapaths = {
        "PAP": [("paper", "to", "author"), ("author", "to", "paper")],
        "PVP": [("paper", "to", "venue"), ("venue", "to", "paper")],
    }
    data.num_classes = k
    data.name = "planted_hetero"
    return data
