"""The small graph and settings shared by the distributed tests and their worker processes."""

import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphcl.cluster import StudentTAssignment, kmeans_centers
from graphcl.models import PamC, SCGCStar

N, F, K = 64, 8, 3
SGD_LR = 0.5


def graph() -> Data:
    """Three Gaussian blobs, random (not blob-aligned) edges: about half of the positive
    pairs of a two-way contiguous split cross the boundary."""
    g = torch.Generator().manual_seed(7)
    y = torch.arange(N) % K
    x = torch.randn(N, F, generator=g) + 2.0 * torch.nn.functional.one_hot(y, F).float()
    src = torch.randint(0, N, (3 * N,), generator=g)
    dst = torch.randint(0, N, (3 * N,), generator=g)
    keep = src != dst
    return Data(x=x, edge_index=to_undirected(torch.stack([src[keep], dst[keep]]), num_nodes=N), num_nodes=N)


def estimator(method: str):
    common = dict(n_clusters=K, hidden_channels=(16,), embedding_dim=4, pretrain_epochs=2, epochs=3,
                  order=2, alpha=1.0, beta=0.5, temperature=0.5, lr=1e-2, cache=False, random_state=0,
                  kmeans_n_init=2)
    if method == "pamc_mass":  # graphcl's default: mass-weighted node-to-cluster negatives
        return PamC(**common, negatives="mass", reseed_empty=False)
    # (re-seeding is single-process only: the step compared across ranks has none)
    return SCGCStar(**common) if method == "scgc_star" else PamC(**common, negatives="meta", reseed_empty=False)


def initial_network(est, x):
    """Encoder, decoder and centres at the same state in every process (seeded)."""
    torch.manual_seed(0)
    encoder, decoder = est.build_network(x, torch.device("cpu"))
    assign = StudentTAssignment(K, est.embedding_dim)
    with torch.no_grad():
        assign.set_centers(kmeans_centers(encoder(x), K, 0, 2))
    return encoder, decoder, assign


def ordered_parameters(encoder, assign, decoder=None):
    params = list(encoder.parameters()) + list(assign.parameters())
    return params + (list(decoder.parameters()) if decoder is not None else [])
