"""evaluate_classification against a plain per-run loop of the reference protocol (meow.md §5),
and evaluate_clustering_runs."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score, roc_auc_score

from graphcl import GraphclInputError
from graphcl.metrics import evaluate_classification, evaluate_clustering_runs

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def loop_reference(x, y, tr, va, te, lr, wd, epochs, seed):
    """One run as the reference writes it: a Linear probe, Adam, scores after every step, test
    Macro-F1 at the best val Macro-F1 step, test Micro-F1 / AUC at the best val Micro-F1 step."""
    n_classes = int(y.max()) + 1
    model = nn.Linear(x.size(1), n_classes).to(x.dtype)
    nn.init.xavier_uniform_(model.weight, generator=torch.Generator().manual_seed(seed))
    nn.init.zeros_(model.bias)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    curves = {k: [] for k in ("val_ma", "val_mi", "test_ma", "test_mi")}
    probs = []
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(model(x[tr]), y[tr]).backward()
        opt.step()
        with torch.no_grad():
            pred_val, logits_test = model(x[va]).argmax(1), model(x[te])
        curves["val_ma"].append(f1_score(y[va], pred_val, average="macro"))
        curves["val_mi"].append(f1_score(y[va], pred_val, average="micro"))
        curves["test_ma"].append(f1_score(y[te], logits_test.argmax(1), average="macro"))
        curves["test_mi"].append(f1_score(y[te], logits_test.argmax(1), average="micro"))
        probs.append(torch.softmax(logits_test, 1).numpy())
    best_ma = curves["val_ma"].index(max(curves["val_ma"]))
    best_mi = curves["val_mi"].index(max(curves["val_mi"]))
    p = probs[best_mi]
    auc = roc_auc_score(y[te], p[:, 1]) if n_classes == 2 else roc_auc_score(y[te], p, multi_class="ovr")
    return {"macro_f1": curves["test_ma"][best_ma], "micro_f1": curves["test_mi"][best_mi], "auc": auc}, curves


def rotated_boundaries(seed=2):
    """Train labels split on x0; val and test labels on boundaries tilted opposite ways, so the
    probe's rotating boundary is best for val and for test at different steps."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(300, 2, generator=g, dtype=torch.float64)
    tr, va, te = torch.arange(0, 100), torch.arange(100, 200), torch.arange(200, 300)
    y = torch.empty(300, dtype=torch.long)
    y[tr] = (x[tr, 0] > 0).long()
    y[va] = (x[va, 0] + 0.6 * x[va, 1] > 0).long()
    y[te] = (x[te, 0] - 0.6 * x[te, 1] > 0).long()
    return x, y, tr, va, te


def test_selection_uses_the_validation_split():
    x, y, tr, va, te = rotated_boundaries()
    ref, curves = loop_reference(x, y, tr, va, te, lr=0.05, wd=0.0, epochs=60, seed=2)
    best_val_step = int(np.argmax(curves["val_ma"]))
    assert best_val_step != int(np.argmax(curves["test_ma"]))  # the case the test is about
    assert ref["macro_f1"] < max(curves["test_ma"]) - 0.1
    got = evaluate_classification(x, y, tr, va, te, lr=0.05, runs=1, epochs=60, seed=2)
    assert got["macro_f1"] == pytest.approx(curves["test_ma"][best_val_step], abs=1e-12)
    assert got["macro_f1"] < max(curves["test_ma"]) - 0.1
    for key in ("micro_f1", "auc"):
        assert got[key] == pytest.approx(ref[key], abs=1e-12)


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_matches_a_loop_of_single_runs(weight_decay):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (240,), generator=g)
    x = torch.randn(240, 6, generator=g, dtype=torch.float64) + 0.8 * F.one_hot(y, 6).double()
    perm = torch.randperm(240, generator=g)
    tr, va, te = perm[:60], perm[60:150], perm[150:]
    runs, seed = 2, 5
    got = evaluate_classification(x, y, tr, va, te, lr=0.02, weight_decay=weight_decay, runs=runs, epochs=30, seed=seed)
    refs = [loop_reference(x, y, tr, va, te, 0.02, weight_decay, 30, seed + r)[0] for r in range(runs)]
    for key in ("macro_f1", "micro_f1", "auc"):
        values = [ref[key] for ref in refs]
        assert got[key] == pytest.approx(np.mean(values), abs=1e-12)
        assert got[f"{key}_std"] == pytest.approx(np.std(values), abs=1e-12)


def test_perfect_on_separable_embeddings():
    y = torch.arange(4).repeat_interleave(30)
    x = 5.0 * F.one_hot(y, 8).float() + 0.1 * torch.randn(120, 8, generator=torch.Generator().manual_seed(1))
    perm = torch.randperm(120, generator=torch.Generator().manual_seed(2))
    mask = torch.zeros(120, dtype=torch.bool)
    mask[perm[:40]] = True  # a boolean mask works as a split too
    got = evaluate_classification(x, y, mask, perm[40:80], perm[80:], lr=0.05, runs=4, epochs=50)
    assert got["macro_f1"] == 1.0 and got["micro_f1"] == 1.0 and got["auc"] == 1.0
    assert got["macro_f1_std"] == 0.0


def test_chance_level_on_random_embeddings():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(900, 16, generator=g)
    y = torch.randint(0, 3, (900,), generator=g)
    got = evaluate_classification(x, y, torch.arange(300), torch.arange(300, 600), torch.arange(600, 900), lr=0.01, runs=5, epochs=50)
    assert abs(got["micro_f1"] - 1 / 3) < 0.08
    assert abs(got["macro_f1"] - 1 / 3) < 0.1
    assert abs(got["auc"] - 0.5) < 0.06


def test_labels_are_any_integer_ids_and_inputs_are_not_mutated():
    x, y, tr, va, te = rotated_boundaries()
    y_shifted = (y * 7 - 3).numpy()  # ids -3 and 4
    x_np = x.numpy().copy()
    a = evaluate_classification(x_np, y_shifted, tr.numpy(), va.tolist(), te, lr=0.05, runs=2, epochs=20)
    b = evaluate_classification(x, y, tr, va, te, lr=0.05, runs=2, epochs=20)
    assert a == b
    assert np.array_equal(x_np, x.numpy())


def test_input_errors():
    x = torch.randn(20, 3)
    y = torch.arange(20) % 2
    tr, va, te = torch.arange(0, 8), torch.arange(8, 14), torch.arange(14, 20)
    ok = dict(lr=0.01, runs=1, epochs=2)
    with pytest.raises(GraphclInputError, match="y must"):
        evaluate_classification(x, y[:19], tr, va, te, **ok)
    with pytest.raises(GraphclInputError, match="overlap"):
        evaluate_classification(x, y, tr, torch.arange(7, 14), te, **ok)
    with pytest.raises(GraphclInputError, match="val_idx is empty"):
        evaluate_classification(x, y, tr, torch.arange(0), te, **ok)
    with pytest.raises(GraphclInputError, match="not in train_idx"):
        evaluate_classification(x, y, torch.tensor([0, 2, 4]), va, te, **ok)
    with pytest.raises(GraphclInputError, match="outside"):
        evaluate_classification(x, y, torch.tensor([0, 1, 25]), va, te, **ok)
    with pytest.raises(GraphclInputError, match="duplicate"):
        evaluate_classification(x, y, torch.tensor([0, 1, 1]), va, te, **ok)
    with pytest.raises(GraphclInputError, match="mask"):
        evaluate_classification(x, y, torch.ones(5, dtype=torch.bool), va, te, **ok)
    with pytest.raises(GraphclInputError, match="single class"):
        evaluate_classification(x, torch.zeros(20, dtype=torch.long), tr, va, te, **ok)
    with pytest.raises(GraphclInputError, match="test_idx holds a single class"):
        evaluate_classification(x, y, tr, va, torch.tensor([14, 16]), **ok)
    with pytest.raises(GraphclInputError, match="lr"):
        evaluate_classification(x, y, tr, va, te, lr=0.0)
    with pytest.raises(GraphclInputError, match="weight_decay"):
        evaluate_classification(x, y, tr, va, te, lr=0.1, weight_decay=-1.0)
    with pytest.raises(GraphclInputError, match="runs"):
        evaluate_classification(x, y, tr, va, te, lr=0.1, runs=0)
    with pytest.raises(GraphclInputError, match="embeddings"):
        evaluate_classification(x[:, 0], y, tr, va, te, **ok)
    with pytest.raises(GraphclInputError, match="integer labels"):
        evaluate_classification(x, y.float(), tr, va, te, **ok)


def test_clustering_runs_match_sklearn_loop():
    g = torch.Generator().manual_seed(4)
    y = torch.arange(3).repeat_interleave(40)
    x = torch.randn(120, 4, generator=g) + 1.5 * F.one_hot(y, 4).float()
    got = evaluate_clustering_runs(x, y, 3, runs=3, seed=7)
    preds = [KMeans(3, n_init=10, random_state=7 + r).fit_predict(x.numpy()) for r in range(3)]
    nmis = [normalized_mutual_info_score(y.numpy(), p) for p in preds]
    aris = [adjusted_rand_score(y.numpy(), p) for p in preds]
    assert got["nmi"] == pytest.approx(np.mean(nmis)) and got["nmi_std"] == pytest.approx(np.std(nmis))
    assert got["ari"] == pytest.approx(np.mean(aris)) and got["ari_std"] == pytest.approx(np.std(aris))


def test_clustering_runs_perfect_on_blobs_and_errors():
    y = torch.arange(3).repeat_interleave(10)
    x = 10.0 * F.one_hot(y, 3).float()
    got = evaluate_clustering_runs(x, y, 3, runs=2)
    assert got == {"nmi": 1.0, "nmi_std": 0.0, "ari": 1.0, "ari_std": 0.0}
    with pytest.raises(GraphclInputError, match="y must"):
        evaluate_clustering_runs(x, y[:5], 3)
    with pytest.raises(GraphclInputError, match="n_clusters"):
        evaluate_clustering_runs(x, y, 31)
    with pytest.raises(GraphclInputError, match="runs"):
        evaluate_clustering_runs(x, y, 3, runs=0)
