"""Two CPU ranks (gloo, localhost) against single-process full-batch training.

Each test starts real processes the way torchrun does (environment variables, one process per
rank), so it covers the launch path users take; the ranks run one thread each.
"""

import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import graph_fixture  # noqa: E402
from launch import launch  # noqa: E402

METHODS = ["scgc_star", "pamc", "pamc_mass"]


def _run(tmp_path, *args, **kwargs):
    procs = launch([*args, str(tmp_path)], **kwargs)
    return procs, [torch.load(tmp_path / f"rank{r}.pt") if (tmp_path / f"rank{r}.pt").exists() else None
                   for r in range(len(procs))]


def _single_process_step(method):
    data = graph_fixture.graph()
    est = graph_fixture.estimator(method)
    encoder, decoder, assign = graph_fixture.initial_network(est, data.x)
    params = graph_fixture.ordered_parameters(encoder, assign, decoder)
    before = [p.detach().clone() for p in params]
    w_index, w_value = est.positive_weights(data.edge_index, None, data.num_nodes)
    opt = torch.optim.SGD(params, lr=graph_fixture.SGD_LR)
    terms = est._step(data.x, w_index, w_value, encoder, decoder, assign, est.contrastive_loss(), opt)
    return terms, before, [p.detach() for p in params]


@pytest.fixture(scope="module")
def step_runs(tmp_path_factory):
    """One two-rank sharded SGD step per method (each launch costs ~10 s of start-up)."""
    runs = {}
    for method in METHODS:
        procs, results = _run(tmp_path_factory.mktemp(method), "step", method)
        assert [p.returncode for p in procs] == [0, 0], procs[0].stderr[-2000:] + procs[1].stderr[-2000:]
        runs[method] = results
    return runs


@pytest.mark.parametrize("method", METHODS)
def test_one_step_equals_single_process_full_batch_step(method, step_runs, one_thread):
    r0, r1 = step_runs[method]
    # the graph really is split: at least 30 % of each rank's positive pairs leave its shard
    for r in (r0, r1):
        assert r["cross_pairs"] >= 0.3 * r["pairs"]
    terms, before, after = _single_process_step(method)
    for key in ("kl", "contrast", "loss"):
        assert r0["terms"][key] == pytest.approx(terms[key], abs=1e-5)
        assert r1["terms"][key] == pytest.approx(terms[key], abs=1e-5)
    # SGD: the update is -lr * gradient, so this compares the gradient of every parameter
    for b, a, p0, p1 in zip(before, after, r0["params"], r1["params"]):
        assert float((a - b).abs().max()) > 1e-4  # the step moved it
        torch.testing.assert_close(p0 - b, a - b, rtol=0, atol=1e-5)
        torch.testing.assert_close(p1, p0, rtol=0, atol=0)  # replicas stay identical


@pytest.mark.parametrize("method", METHODS)
def test_fit_distributed_matches_single_process_fit(method, tmp_path, one_thread):
    procs, (r0, r1) = _run(tmp_path, "fit", method)
    assert [p.returncode for p in procs] == [0, 0], procs[0].stderr[-2000:] + procs[1].stderr[-2000:]
    est = graph_fixture.estimator(method).fit(graph_fixture.graph())
    np.testing.assert_allclose(r0["loss"], [h["loss"] for h in est.loss_history_], atol=1e-5)
    np.testing.assert_array_equal(r0["labels"].numpy(), est.labels_)
    np.testing.assert_allclose(r0["z"].numpy(), est.embeddings_, atol=1e-5)
    torch.testing.assert_close(r1["z"], r0["z"], rtol=0, atol=0)  # every rank has every node's result


def test_pamc_meta_node_traffic_is_4K_d_plus_1_bytes(step_runs):
    r0 = step_runs["pamc"][0]
    k, d = graph_fixture.K, 4
    assert r0["bytes"]["meta_nodes"] == 4 * k * (d + 1)
    assert r0["bytes"]["meta_nodes.backward"] == 4 * k * (d + 1)
    assert r0["bytes"]["ddp_gradients"] == 4 * sum(p.numel() for p in r0["params"])


def test_rank_that_exits_before_training_gives_a_clear_error(tmp_path, one_thread):
    t0 = time.monotonic()
    procs, (r0, _) = _run(tmp_path, "fail", "pamc", timeout=90)
    assert time.monotonic() - t0 < 60
    assert procs[1].returncode == 3
    assert r0["error"].startswith("GraphclDistributedError: rank 0:")
    assert "another rank probably exited" in r0["error"]


def test_rank_that_exits_mid_training_gives_a_clear_error(tmp_path, one_thread):
    t0 = time.monotonic()
    procs, (r0, _) = _run(tmp_path, "fail_step", "scgc_star", timeout=90)
    assert time.monotonic() - t0 < 60
    assert r0["error"].startswith("GraphclDistributedError: rank 0:")


def test_group_that_cannot_form_raises_within_the_timeout(tmp_path, one_thread):
    t0 = time.monotonic()  # only rank 0 of 2 starts
    procs, (r0,) = _run(tmp_path, "init", "pamc", ranks=[0], env_extra={"TEST_INIT_TIMEOUT": "5"}, timeout=90)
    assert time.monotonic() - t0 < 60
    assert r0["error"].startswith("GraphclDistributedError: rank 0: the process group of 2 ranks did not form within 5 s")


def test_fit_distributed_without_a_process_group_is_an_error():
    from graphcl.errors import GraphclDistributedError

    est = graph_fixture.estimator("pamc").set_params(distributed=True)
    with pytest.raises(GraphclDistributedError, match="init_from_env"):
        est.fit(graph_fixture.graph())


def test_distributed_with_batch_size_is_an_input_error():
    from graphcl.errors import GraphclInputError

    est = graph_fixture.estimator("pamc").set_params(distributed=True, batch_size=16)
    with pytest.raises(GraphclInputError, match="batch_size"):
        est.fit(graph_fixture.graph())
