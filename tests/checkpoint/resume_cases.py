"""The estimators and graphs of the resume tests (shared with the worker process)."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "distributed"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))

CASES = ("pamc", "scgc_star_minibatch", "pamc_warmup_minibatch", "scgc", "meow", "meow_linear", "adameow")


def build(case: str, **extra):
    """``(graph, estimator)`` for a case, with ``extra`` estimator parameters."""
    torch.set_num_threads(1)
    if case in ("meow", "meow_linear", "adameow"):
        from test_models_meow import SMALL, planted_hetero

        from graphcl.models import MEOW, AdaMEOW, MEOWLinear

        data = planted_hetero()
        del data["item"].y
        if case in ("meow", "meow_linear"):  # meow_linear: the warm k-means centroids are resumed too
            cls = MEOW if case == "meow" else MEOWLinear
            return data, cls(3, random_state=0, **dict(SMALL, max_epochs=8, patience=None), **extra)
        return data, AdaMEOW(3, random_state=0, hidden_channels=16, top_k=[20, 40], max_epochs=8, **extra)
    import graph_fixture

    from graphcl.models import SCGC, PamC, SCGCStar

    common = dict(n_clusters=3, hidden_channels=(16,), embedding_dim=4, pretrain_epochs=2, epochs=8, cache=False,
                  kmeans_n_init=2, random_state=0, lr=1e-2)
    cls = {"pamc": PamC, "scgc_star_minibatch": SCGCStar, "pamc_warmup_minibatch": PamC, "scgc": SCGC}[case]
    if case.endswith("_minibatch"):
        common["batch_size"] = 16
    if case == "pamc_warmup_minibatch":  # no pretraining: kl_warmup=None warms up 4 epochs, resumed at the end of it
        common["pretrain_epochs"] = 0
    return graph_fixture.graph(), cls(**common, **extra)
