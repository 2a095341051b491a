"""Re-seeding empty clusters by splitting the most spread cluster, and the estimators' reseed_empty."""

import numpy as np
import pytest
import torch

from graphcl.cluster import reseed_empty_clusters
from graphcl.data import planted_partition_graph


def blobs():
    g = torch.Generator().manual_seed(0)
    means = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    z = torch.cat([m + 0.3 * torch.randn(20, 2, generator=g) for m in means])
    return z, torch.arange(60) // 20


def test_the_most_spread_cluster_is_split_into_its_two_blobs():
    z, blob = blobs()
    labels = torch.where(blob == 2, 1, 0)  # blobs 0 and 1 merged in cluster 0, cluster 2 empty
    centers = torch.tensor([[5.0, 0.0], [0.0, 10.0], [50.0, 50.0]])
    new, new_labels, moved = reseed_empty_clusters(z, labels, centers)
    assert moved == [2]
    assert torch.equal(new[1], centers[1])  # the other cluster is untouched
    assert [new_labels[blob == b].unique().tolist() for b in (0, 1, 2)] in ([[0], [2], [1]], [[2], [0], [1]])
    assert torch.allclose(new[0], z[new_labels == 0].mean(0)) and torch.allclose(new[2], z[new_labels == 2].mean(0))
    assert torch.bincount(new_labels, minlength=3).min() == 20


def test_nothing_changes_without_an_empty_cluster():
    z, blob = blobs()
    centers = torch.stack([z[blob == b].mean(0) for b in range(3)])
    new, new_labels, moved = reseed_empty_clusters(z, blob, centers)
    assert moved == [] and torch.equal(new, centers) and torch.equal(new_labels, blob)


def test_two_empty_clusters_and_a_cluster_that_cannot_be_split():
    z, blob = blobs()
    labels = torch.zeros(60, dtype=torch.long)  # everything in cluster 0
    new, new_labels, moved = reseed_empty_clusters(z, labels, torch.zeros(3, 2))
    assert moved == [1, 2] and torch.bincount(new_labels, minlength=3).min() > 0
    same = torch.ones(10, 2)  # identical points: no split exists, nothing is invented
    new, new_labels, moved = reseed_empty_clusters(same, torch.zeros(10, dtype=torch.long), torch.zeros(2, 2))
    assert moved == [] and torch.isfinite(new).all() and (new_labels == 0).all()


@pytest.mark.parametrize("batch_size", [None, 32])
def test_estimator_reseeds_a_cluster_that_starts_empty(monkeypatch, batch_size, one_thread):
    import graphcl.models.scgc as scgc
    from graphcl.models import PamC

    real = scgc.kmeans_centers

    def one_far_centre(z, k, *args, **kwargs):
        c = real(z, k, *args, **kwargs)
        c[-1] = 1e3  # no node is near it: the last cluster starts empty
        return c

    monkeypatch.setattr(scgc, "kmeans_centers", one_far_centre)
    data = planted_partition_graph(120, 4, avg_degree=6.0, p_intra=0.9, num_features=8, sigma=1.0, seed=0)
    data.y = None
    common = dict(hidden_channels=(16,), embedding_dim=4, pretrain_epochs=5, epochs=4, cache=False, batch_size=batch_size)
    with pytest.warns(RuntimeWarning, match="only 3 of n_clusters=4"):
        plain = PamC(4, reseed_empty=False, **common).fit(data)
    assert "reseeded" not in plain.loss_history_[0]
    model = PamC(4, **common).fit(data)  # PamC re-seeds by default
    assert model.loss_history_[0]["reseeded"] == 1.0
    assert len(np.unique(model.labels_)) == 4


def test_reseed_with_distributed_is_refused():
    from graphcl.errors import GraphclInputError
    from graphcl.models import PamC

    data = planted_partition_graph(40, 2, avg_degree=4.0, p_intra=0.9, num_features=4, sigma=1.0, seed=0)
    with pytest.raises(GraphclInputError, match="reseed_empty is not supported with distributed=True"):
        PamC(2, reseed_empty=True, distributed=True, pretrain_epochs=0, cache=False).fit(data)
