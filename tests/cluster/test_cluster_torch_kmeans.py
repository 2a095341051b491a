"""torch_kmeans: determinism, recovery of separated blobs, the assignment/score contract, empty
clusters, K = N, and errors."""

import sys

import pytest
import torch
import torch.nn.functional as F

from graphcl import GraphclInputError
from graphcl.cluster import KMeansResult, torch_kmeans
from graphcl.metrics import ari

torch_kmeans_module = sys.modules["graphcl.cluster.torch_kmeans"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def blobs(n_per, k, d, spread, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    centers = F.normalize(torch.randn(k, d, generator=g, dtype=dtype), dim=1) * 10
    y = torch.arange(k).repeat_interleave(n_per)
    x = centers[y] + spread * torch.randn(k * n_per, d, generator=g, dtype=dtype)
    perm = torch.randperm(k * n_per, generator=g)
    return x[perm], y[perm]


@pytest.mark.parametrize("metric", ["ip", "euclidean"])
def test_deterministic_for_a_seed(metric):
    x, _ = blobs(30, 5, 4, 3.0, seed=0, dtype=torch.float32)
    a = torch_kmeans(x, 7, metric=metric, random_state=3)
    b = torch_kmeans(x, 7, metric=metric, random_state=3)
    assert isinstance(a, KMeansResult)
    for s, t in zip(a, b):
        assert torch.equal(s, t)
    rng = torch.get_rng_state()
    torch_kmeans(x, 7, metric=metric, random_state=4)
    assert torch.equal(rng, torch.get_rng_state())  # the global RNG is untouched


@pytest.mark.parametrize("metric", ["ip", "euclidean"])
def test_recovers_separated_blobs(metric):
    x, y = blobs(40, 6, 8, 0.5, seed=1)
    if metric == "ip":
        x = F.normalize(x, dim=1)
    res = torch_kmeans(x, 6, metric=metric, n_init=3)
    assert ari(y, res.labels) == pytest.approx(1.0)
    assert res.centroids.shape == (6, 8) and res.labels.dtype == torch.long and res.scores.shape == (240,)


@pytest.mark.parametrize("metric", ["ip", "euclidean"])
def test_assignment_and_score_contract(metric):
    x, _ = blobs(25, 4, 5, 4.0, seed=2)
    res = torch_kmeans(x, 6, metric=metric, max_iter=50)
    c = res.centroids
    if metric == "ip":
        sim = x @ c.t()
        assert torch.allclose(c.norm(dim=1), torch.ones(6, dtype=x.dtype))
        assert torch.allclose(res.scores, sim.gather(1, res.labels[:, None]).squeeze(1))
        assert torch.equal(res.labels, sim.argmax(1))
    else:
        d2 = torch.cdist(x, c) ** 2
        assert torch.allclose(res.scores, d2.gather(1, res.labels[:, None]).squeeze(1), atol=1e-9)
        assert torch.equal(res.labels, d2.argmin(1))
        # converged (50 iterations is plenty here): every centroid is the mean of its points
        for k in range(6):
            assert torch.allclose(c[k], x[res.labels == k].mean(0))


def test_best_restart_is_no_worse_than_sklearn_on_blobs():
    from sklearn.cluster import KMeans

    x, _ = blobs(50, 8, 6, 4.0, seed=3)
    ours = torch_kmeans(x, 8, metric="euclidean", n_init=5, max_iter=100)
    sk = KMeans(8, n_init=5, random_state=0).fit(x.numpy())
    assert float(ours.scores.sum()) <= 1.02 * sk.inertia_


@pytest.mark.parametrize("chunk_size", [3, 7, 10_000])
def test_chunking_does_not_change_the_result(chunk_size):
    x, _ = blobs(20, 4, 3, 3.0, seed=4)
    ref = torch_kmeans(x, 5, chunk_size=None)
    res = torch_kmeans(x, 5, chunk_size=chunk_size)
    assert torch.equal(res.labels, ref.labels)
    assert torch.allclose(res.centroids, ref.centroids)


@pytest.mark.parametrize("metric", ["ip", "euclidean"])
def test_k_equals_n(metric):
    x, _ = blobs(3, 4, 5, 1.0, seed=5)
    res = torch_kmeans(x, 12, metric=metric)
    assert torch.equal(torch.sort(res.labels).values, torch.arange(12))  # one point per cluster
    expected = x.norm(dim=1) if metric == "ip" else torch.zeros(12, dtype=x.dtype)
    assert torch.allclose(res.scores, expected, atol=1e-9)


@pytest.mark.parametrize("metric", ["ip", "euclidean"])
def test_more_clusters_than_distinct_points(metric):
    base = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    x = base.repeat(4, 1)  # 12 points, 3 distinct
    res = torch_kmeans(x, 6, metric=metric)
    assert torch.isfinite(res.centroids).all() and torch.isfinite(res.scores).all()
    assert res.labels.min() >= 0 and res.labels.max() < 6
    groups = res.labels.view(4, 3)
    assert (groups == groups[0]).all() and groups[0].unique().numel() == 3  # copies together, distinct apart
    assert torch.allclose(res.scores, torch.ones(12) if metric == "ip" else torch.zeros(12))


def test_reseed_takes_the_farthest_points():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [9.0, 0.0]])
    c = torch.tensor([[[0.5, 0.0], [7.0, 0.0], [100.0, 100.0], [200.0, 0.0]]])
    scores = torch.tensor([[0.25, 0.25, 4.0, 4.0]])  # points 2 and 3 are the farthest
    small = torch.tensor([[False, False, True, True]])
    out = torch_kmeans_module._reseed(x, c, small, scores, "euclidean")
    assert torch.equal(out[0, :2], c[0, :2])
    assert {tuple(out[0, 2].tolist()), tuple(out[0, 3].tolist())} == {(5.0, 0.0), (9.0, 0.0)}


def test_min_points_reseeds_small_clusters_and_terminates():
    x, _ = blobs(30, 3, 4, 0.5, seed=6)
    x = torch.cat([x, torch.full((2, 4), 50.0, dtype=x.dtype)])  # a 2-point outlier cluster
    res = torch_kmeans(x, 4, metric="euclidean", min_points=5, max_iter=10)
    assert torch.isfinite(res.centroids).all() and res.labels.shape == (92,)


def test_zero_vectors_with_ip_metric_stay_finite():
    x = torch.zeros(6, 3)
    x[:3, 0] = 1.0
    res = torch_kmeans(x, 2, metric="ip")
    assert torch.isfinite(res.centroids).all() and torch.isfinite(res.scores).all()


def test_errors():
    x = torch.randn(10, 3)
    with pytest.raises(GraphclInputError, match="metric"):
        torch_kmeans(x, 3, metric="cosine")
    with pytest.raises(GraphclInputError, match="n_clusters"):
        torch_kmeans(x, 11)
    with pytest.raises(GraphclInputError, match="n_clusters"):
        torch_kmeans(x, 1)
    with pytest.raises(GraphclInputError, match="n_init"):
        torch_kmeans(x, 3, n_init=0)
    with pytest.raises(GraphclInputError, match="chunk_size"):
        torch_kmeans(x, 3, chunk_size=0)
    with pytest.raises(GraphclInputError, match="x"):
        torch_kmeans(x[0], 3)
    with pytest.raises(GraphclInputError, match="NaN"):
        torch_kmeans(torch.full((4, 2), float("nan")), 2)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda_and_recovers_blobs():
    x, y = blobs(40, 5, 8, 0.5, seed=7, dtype=torch.float32)
    res = torch_kmeans(F.normalize(x, dim=1).cuda(), 5)
    assert res.labels.is_cuda and ari(y, res.labels.cpu()) == pytest.approx(1.0)
    again = torch_kmeans(F.normalize(x, dim=1).cuda(), 5)
    assert torch.equal(res.labels, again.labels)


def test_random_init_is_seeded_and_recovers_blobs():
    from graphcl.cluster import torch_kmeans

    g = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 8, generator=g) * 10
    x = centers.repeat_interleave(50, 0) + torch.randn(200, 8, generator=g)
    a = torch_kmeans(x, 4, metric="euclidean", init="random", random_state=3)
    b = torch_kmeans(x, 4, metric="euclidean", init="random", random_state=3)
    assert torch.equal(a.labels, b.labels)
    truth = torch.arange(4).repeat_interleave(50)
    # each found cluster is exactly one blob
    assert all(len(set(truth[a.labels == c].tolist())) == 1 for c in a.labels.unique())
    assert a.labels.unique().numel() == 4
    with pytest.raises(GraphclInputError):
        torch_kmeans(x, 4, init="kmeans||")


@pytest.mark.parametrize("metric", ["ip", "euclidean"])
def test_warm_start_from_converged_centroids_stays_and_from_shifted_ones_recovers(metric):
    x, y = blobs(40, 5, 6, 0.5, seed=11)
    if metric == "ip":
        x = F.normalize(x, dim=1)
    fresh = torch_kmeans(x, 5, metric=metric, n_init=3)
    again = torch_kmeans(x, 5, metric=metric, init=fresh.centroids, max_iter=5)
    assert torch.equal(again.labels, fresh.labels)  # a fixed point: warm start keeps it
    assert torch.allclose(again.centroids, fresh.centroids)
    g = torch.Generator().manual_seed(0)
    moved = x + 0.05 * torch.randn(x.shape, generator=g, dtype=x.dtype)  # the next epoch's points
    warm = torch_kmeans(moved, 5, metric=metric, init=fresh.centroids, max_iter=3)
    assert ari(y, warm.labels) == pytest.approx(1.0)
    # an unused starting centroid (nobody is nearest to it) is re-seeded: 5 non-empty clusters
    start = fresh.centroids.clone()
    start[0] = start[1]
    rescued = torch_kmeans(x, 5, metric=metric, init=start, max_iter=20)
    assert rescued.labels.unique().numel() == 5 and ari(y, rescued.labels) == pytest.approx(1.0)


def test_warm_start_errors():
    x = torch.randn(10, 3)
    with pytest.raises(GraphclInputError, match=r"tensor \[3, 3\]"):
        torch_kmeans(x, 3, init=torch.zeros(4, 3))
    with pytest.raises(GraphclInputError, match="non-finite"):
        torch_kmeans(x, 3, init=torch.full((3, 3), float("inf")))
    with pytest.raises(GraphclInputError, match="init"):
        torch_kmeans(x, 3, init="warm")
