"""Shared test fixtures."""

import os

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one pytest-xdist worker per core: one torch thread each, so the workers
    # do not oversubscribe the cores (subprocesses the tests start get OMP_NUM_THREADS=1 too).
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def one_thread():
    """Run a test on one torch thread: tiny problems then skip the per-op thread
    synchronisation that costs milliseconds per op on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
