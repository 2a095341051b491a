"""The ``graphcl`` command line: each command on a shipped dataset and on user graphs (CSV and
NPZ), outputs loaded back, and the error contract (one ``error:`` line naming the item, exit 1
for bad data and 2 for bad usage, no traceback)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graphcl.cli import main

TINY = """
scgc_star: {default: {hidden_channels: [16], embedding_dim: 4, pretrain_epochs: 1, kmeans_n_init: 2, cache: false}}
pamc: {default: {hidden_channels: [16], embedding_dim: 4, pretrain_epochs: 1, kmeans_n_init: 2, cache: false}}
scgc: {default: {hidden_channels: [16], embedding_dim: 4, pretrain_epochs: 1, kmeans_n_init: 2, cache: false}}
meow: {default: {embedding_dim: 8, num_prototypes: [4, 6], top_k: 5}}
adameow: {default: {embedding_dim: 8, projection_channels: 8, weight_hidden: 4, top_k: 5}}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("user_graph")
    rng = np.random.default_rng(0)
    n = 30
    y = np.arange(n) % 3
    x = rng.normal(size=(n, 5)) + 3 * np.eye(5)[y]
    edges = np.concatenate([rng.integers(0, n, (60, 2)), [[0, 0], [1, 2], [1, 2]]])  # a self-loop, a duplicate
    np.savetxt(d / "x.csv", x, delimiter=",")
    np.savetxt(d / "edges.csv", edges, fmt="%d", delimiter=",")
    np.savetxt(d / "edges_w.csv", np.c_[edges, rng.random(len(edges))], fmt=["%d", "%d", "%.4f"], delimiter=",")
    np.savetxt(d / "y.csv", y, fmt="%d")
    np.save(d / "x.npy", x)
    np.savez(d / "g.npz", x=x, edge_index=edges.T, y=y)
    (d / "tiny.yaml").write_text(TINY)
    return d


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def check_outputs(out_dir: Path, n: int, k: int):
    labels = np.loadtxt(out_dir / "labels.csv", dtype=np.int64)
    assert labels.shape == (n,) and labels.min() >= 0 and labels.max() < k
    emb = np.load(out_dir / "embeddings.npy")
    assert emb.shape[0] == n and np.isfinite(emb).all()
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["num_nodes"] == n and summary["n_clusters"] == k and summary["epochs"] == 2
    return labels, summary


@pytest.mark.parametrize("method", ["pamc", "scgc_star", "scgc"])
def test_fit_on_user_csv_files_then_evaluate(method, files, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "fit", "--method", method, "--features", files / "x.csv", "--edges", files / "edges_w.csv",
                            "--n-clusters", 3, "--labels", files / "y.csv", "--epochs", 2, "--config", files / "tiny.yaml",
                            "--out", out)
    assert code == 0, err
    labels, summary = check_outputs(out, 30, 3)
    assert "ACC" in stdout and "metrics" in summary
    code, stdout, err = run(capsys, "evaluate", "--labels", files / "y.csv", "--pred", out / "labels.csv", "--json")
    assert code == 0
    assert json.loads(stdout)["acc"] == pytest.approx(summary["metrics"]["acc"])


def test_fit_spectral_on_user_csv_files(files, tmp_path, capsys):
    """The training-free method runs through the same command with its registered config
    (experiments/configs/spectral.yaml); its epochs are subspace iterations."""
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "fit", "--method", "spectral", "--features", files / "x.csv", "--edges",
                            files / "edges_w.csv", "--n-clusters", 3, "--labels", files / "y.csv", "--epochs", 2,
                            "--out", out)
    assert code == 0, err
    labels, summary = check_outputs(out, 30, 3)
    assert summary["params"]["alpha"] == 0.9 and summary["params"]["hops"] == 10 and "ACC" in stdout
    assert np.load(out / "embeddings.npy").shape == (30, 3)
    code, _, err = run(capsys, "fit", "--method", "spectral", "--features", files / "x.csv", "--edges",
                       files / "edges_w.csv", "--n-clusters", 3, "--select", "--out", tmp_path / "sel")
    assert code == 1 and "has no order or temperature" in err


def test_fit_on_npz_and_npy_inputs(files, tmp_path, capsys):
    code, _, err = run(capsys, "fit", "--method", "pamc", "--graph", files / "g.npz", "--n-clusters", 3, "--epochs", 2,
                       "--config", files / "tiny.yaml", "--out", tmp_path / "a", "--quiet")
    assert code == 0, err
    check_outputs(tmp_path / "a", 30, 3)
    code, stdout, err = run(capsys, "fit", "--method", "pamc", "--features", files / "x.npy", "--edges", files / "edges.csv",
                            "--n-clusters", 3, "--epochs", 2, "--config", files / "tiny.yaml", "--out", tmp_path / "b", "--quiet")
    assert code == 0 and stdout == ""
    code, _, err = run(capsys, "plot", "--run", tmp_path / "a")  # the NPZ run, no labels: one t-SNE panel
    assert code == 0 and (tmp_path / "a" / "tsne.png").is_file(), err
    code, stdout, _ = run(capsys, "evaluate", "--labels", files / "y.csv", "--pred", tmp_path / "a" / "labels.csv")
    assert code == 0 and stdout.startswith("ACC ")


def test_fit_and_evaluate_on_a_shipped_dataset(files, tmp_path, capsys):
    code, stdout, err = run(capsys, "fit", "--method", "pamc", "--dataset", "cora", "--epochs", 2,
                            "--config", files / "tiny.yaml", "--out", tmp_path)
    assert code == 0, err
    labels, summary = check_outputs(tmp_path, 2708, 7)
    assert summary["source"] == {"dataset": "cora"} and "NMI" in stdout
    code, stdout, _ = run(capsys, "evaluate", "--dataset", "cora", "--pred", tmp_path / "labels.csv")
    assert code == 0 and stdout.startswith("ACC ")
    code, _, err = run(capsys, "plot", "--run", tmp_path, "--dataset", "cora", "--out", tmp_path / "fig")
    assert code == 0, err
    assert (tmp_path / "fig" / "tsne.png").stat().st_size > 0 and (tmp_path / "fig" / "loss.png").stat().st_size > 0


@pytest.mark.parametrize("method", ["meow", "adameow"])
def test_fit_heterogeneous_method_on_a_shipped_dataset(method, files, tmp_path, capsys):
    code, stdout, err = run(capsys, "fit", "--method", method, "--dataset", "acm", "--epochs", 2,
                            "--config", files / "tiny.yaml", "--out", tmp_path)
    assert code == 0, err
    check_outputs(tmp_path, 4019, 3)
    code, _, _ = run(capsys, "evaluate", "--dataset", "acm", "--heterogeneous", "--pred", tmp_path / "labels.csv")
    assert code == 0


@pytest.mark.parametrize("method,negatives", [("meow", "meta"), ("meow_reference", "pairs"), ("pamc", "mass")])
def test_fit_negatives_option_reaches_the_estimator(method, negatives, files, tmp_path, capsys):
    source = ["--dataset", "acm"] if method.startswith("meow") else ["--graph", files / "g.npz", "--n-clusters", 3]
    code, _, err = run(capsys, "fit", "--method", method, *source, "--epochs", 2, "--negatives", negatives,
                       "--config", files / "tiny.yaml", "--out", tmp_path, "--quiet")
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["params"]["negatives"] == negatives and summary["method"] == method


def test_fit_negatives_option_refuses_bad_values(files, tmp_path, capsys):
    code, _, err = run(capsys, "fit", "--method", "scgc_star", "--graph", files / "g.npz", "--n-clusters", 3,
                       "--negatives", "meta", "--config", files / "tiny.yaml", "--out", tmp_path)
    assert code != 0 and "--negatives: SCGCStar has no choice of negatives" in err and "Traceback" not in err
    code, _, err = run(capsys, "fit", "--method", "meow", "--dataset", "acm", "--negatives", "mass",
                       "--config", files / "tiny.yaml", "--out", tmp_path)
    assert code != 0 and "negatives must be one of ('pairs', 'meta')" in err


def test_datasets_lists_both_families_and_verifies(capsys):
    code, stdout, _ = run(capsys, "datasets")
    assert code == 0
    for name in ("usps", "cora", "photo", "imdb", "aminer", "freebase"):
        assert f"  {name} " in stdout
    assert "heterogeneous" in stdout and stdout.count(" ok") == 12


def test_datasets_reports_a_corrupted_file(tmp_path, capsys, monkeypatch):
    import shutil

    from graphcl.data import dataset_info

    info = dataset_info("cora")
    src = Path(__file__).resolve().parents[2] / "datasets"
    shutil.copytree(src / info.folder, tmp_path / info.folder)
    shutil.copy(src / "checksums.json", tmp_path / "checksums.json")
    victim = tmp_path / info.folder / info.files[0]
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    monkeypatch.setenv("GRAPHCL_DATA", str(tmp_path))
    code, _, err = run(capsys, "datasets")
    assert code == 1 and f"error: {victim}: sha256 mismatch" in err


# -- errors: (argv, exit status, text the single error line must contain) --------------------------------

def _bad_cases(d: Path):
    (d / "bad.csv").write_text("1.0,2.0\n3.0,oops\n")
    (d / "ragged.csv").write_text("0,1\n1,2\n2\n")
    (d / "float_edges.csv").write_text("0,1\n1.5,2\n")
    (d / "short_pred.csv").write_text("0\n1\n")
    fit = ["fit", "--method", "pamc", "--config", d / "tiny.yaml", "--epochs", 2, "--out", d / "out"]
    return [
        (fit + ["--features", d / "missing.csv", "--edges", d / "edges.csv", "--n-clusters", 3], 1, "missing.csv"),
        (fit + ["--features", d / "bad.csv", "--edges", d / "edges.csv", "--n-clusters", 3], 1, "bad.csv, line 2"),
        (fit + ["--features", d / "x.csv", "--edges", d / "ragged.csv", "--n-clusters", 3], 1, "ragged.csv, line 3"),
        (fit + ["--features", d / "x.csv", "--edges", d / "float_edges.csv", "--n-clusters", 3], 1, "float_edges.csv, line 2"),
        (fit + ["--graph", d / "missing.npz", "--n-clusters", 3], 1, "missing.npz"),
        (fit + ["--graph", d / "x.csv", "--n-clusters", 3], 1, "x.csv"),
        (fit + ["--features", d / "x.csv", "--edges", d / "edges.csv", "--n-clusters", 1], 1, "--n-clusters"),
        (fit + ["--features", d / "x.csv", "--edges", d / "edges.csv", "--n-clusters", 31], 1, "--n-clusters"),
        (fit + ["--dataset", "nosuch"], 1, "usps"),  # lists the known names
        (fit + ["--features", d / "x.csv", "--n-clusters", 3], 2, "--edges"),
        (fit + ["--graph", d / "g.npz"], 2, "--n-clusters"),
        (fit, 2, "--dataset --features --graph"),
        (["fit", "--method", "meow", "--graph", d / "g.npz", "--n-clusters", 3], 2, "heterogeneous"),
        (["fit", "--method", "nosuch", "--dataset", "cora"], 2, "--method"),
        (["evaluate", "--labels", d / "y.csv", "--pred", d / "short_pred.csv"], 1, "short_pred.csv"),
        (["evaluate", "--labels", d / "y.csv", "--pred", d / "missing.csv"], 1, "missing.csv"),
        (["evaluate", "--pred", d / "short_pred.csv"], 2, "--labels"),
        (["nosuch"], 2, "nosuch"),
    ]


def test_every_error_is_one_line_with_the_right_exit_status(files, capsys):
    for argv, status, needle in _bad_cases(files):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert code == status, (argv, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        assert needle in lines[0], (argv, lines[0])
        assert "Traceback" not in err + out


def test_console_entry_point_help_and_exit_status(files):
    for cmd in ([], ["fit"], ["evaluate"], ["datasets"]):
        res = subprocess.run([sys.executable, "-m", "graphcl", *cmd, "--help"], capture_output=True, text=True)
        assert res.returncode == 0 and "usage: graphcl" in res.stdout
        if cmd:
            assert "examples:" in res.stdout
    res = subprocess.run([sys.executable, "-m", "graphcl", "evaluate", "--labels", str(files / "nope.csv"),
                          "--pred", str(files / "y.csv")], capture_output=True, text=True)
    assert res.returncode == 1 and res.stderr.startswith("error: labels file") and "Traceback" not in res.stderr


def test_plot_command_and_checkpoint_options(files, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(capsys, "fit", "--method", "pamc", "--graph", files / "g.npz", "--n-clusters", 3, "--epochs", 2,
                       "--config", files / "tiny.yaml", "--out", out, "--quiet", "--log", out / "log.csv",
                       "--checkpoint", out / "ck.pt", "--checkpoint-every", 1, "--save-model")
    assert code == 0, err
    assert (out / "ck.pt").is_file() and (out / "model.pt").is_file() and len((out / "log.csv").read_text().splitlines()) == 3
    code, stdout, err = run(capsys, "plot", "--run", out, "--labels", files / "y.csv")
    assert code == 0, err
    assert (out / "tsne.png").is_file() and (out / "loss.png").is_file() and "wrote" in stdout
    # resume from the checkpoint of the last epoch: nothing left to train, same labels
    before = (out / "labels.csv").read_text()
    code, _, err = run(capsys, "fit", "--method", "pamc", "--graph", files / "g.npz", "--n-clusters", 3, "--epochs", 2,
                       "--config", files / "tiny.yaml", "--out", out, "--quiet", "--resume", out / "ck.pt")
    assert code == 0, err
    assert (out / "labels.csv").read_text() == before
    code, _, err = run(capsys, "plot", "--run", tmp_path / "nothing")
    assert code == 1 and "--out folder" in err


# -- bad input, each case checked before any data are trained on ------------------------------------------

TINY20 = """
pamc: {default: {hidden_channels: [8], embedding_dim: 4, pretrain_epochs: 0, kmeans_n_init: 1, cache: false}}
"""


@pytest.fixture(scope="module")
def tiny20(tmp_path_factory):
    """A 20-node graph whose `pamc` fit takes about a second, and a collection of bad files."""
    d = tmp_path_factory.mktemp("tiny20")
    rng = np.random.default_rng(0)
    n = 20
    y = np.arange(n) % 2
    np.savetxt(d / "x.csv", rng.normal(size=(n, 4)) + 3 * np.eye(4)[y], delimiter=",")
    np.savetxt(d / "e.csv", rng.integers(0, n, (40, 2)), fmt="%d", delimiter=",")
    np.savetxt(d / "y.csv", y, fmt="%d")
    (d / "tiny.yaml").write_text(TINY20)
    (d / "folder").mkdir()
    (d / "short.csv").write_text("0\n1\n")
    (d / "nan.csv").write_text("1,2,3,4\n1,nan,3,4\n")
    (d / "ragged.csv").write_text("1,2,3,4\n1,2\n")
    (d / "empty.csv").write_text("")
    (d / "out_of_range.csv").write_text("0,1\n1,20\n")
    (d / "negative.csv").write_text("0,1\n-1,2\n")
    (d / "fractional.csv").write_text("0,1\n1.5,2\n")
    np.save(d / "x1d.npy", np.zeros(n))
    np.save(d / "e4.npy", np.zeros((5, 4), dtype=np.int64))
    np.savez(d / "no_edges.npz", x=np.zeros((n, 3)))
    block = "hidden_channels: [8], embedding_dim: 4, pretrain_epochs: 0, kmeans_n_init: 1, cache: false"
    (d / "lr_text.yaml").write_text(f"pamc: {{default: {{{block}, lr: fast}}}}\n")
    (d / "temperature_list.yaml").write_text(f"pamc: {{default: {{{block}, temperature: [1, 2]}}}}\n")
    (d / "unknown_key.yaml").write_text(f"pamc: {{default: {{{block}, learning_rate: 0.1}}}}\n")
    (d / "broken.yaml").write_text("pamc: {default: [1, 2\n")
    return d


def _user(d, features="x.csv", edges="e.csv", k=2):
    return ["--features", d / features, "--edges", d / edges, "--n-clusters", k]


#: id -> (extra argv given the data folder, exit status, texts the error line must contain)
BAD_FIT = {
    "checkpoint-is-a-folder": (lambda d: _user(d) + ["--checkpoint", d / "folder"], 1, ("--checkpoint", "is a folder")),
    "log-is-a-folder": (lambda d: _user(d) + ["--log", d / "folder"], 1, ("--log", "is a folder")),
    "out-is-a-file": (lambda d: _user(d) + ["--out", d / "x.csv"], 1, ("--out", "not a folder")),
    "resume-missing": (lambda d: _user(d) + ["--resume", d / "ck.pt", "--checkpoint", d / "ck.pt"], 1, ("--resume", "does not exist")),
    "resume-is-a-folder": (lambda d: _user(d) + ["--resume", d / "folder"], 1, ("--resume", "not a file")),
    "n-clusters-1": (lambda d: _user(d, k=1), 1, ("--n-clusters must be at least 2", "got 1")),
    "n-clusters-above-nodes": (lambda d: _user(d, k=21), 1, ("--n-clusters", "20")),
    "seed-negative": (lambda d: _user(d) + ["--seed", -1], 1, ("--seed",)),
    "seed-huge": (lambda d: _user(d) + ["--seed", 2**32], 1, ("--seed", "4294967295")),
    "seed-text": (lambda d: _user(d) + ["--seed", "abc"], 2, ("--seed",)),
    "checkpoint-every-0": (lambda d: _user(d) + ["--checkpoint-every", 0], 1, ("--checkpoint-every",)),
    "device-gpu": (lambda d: _user(d) + ["--device", "gpu"], 1, ("--device", "'gpu'")),
    "epochs-0": (lambda d: _user(d) + ["--epochs", 0], 1, ("--epochs",)),
    "labels-wrong-length": (lambda d: _user(d) + ["--labels", d / "short.csv"], 1, ("short.csv", "2 labels for 20 nodes")),
    "edge-id-out-of-range": (lambda d: _user(d, edges="out_of_range.csv"), 1, ("out_of_range.csv, line 2", "0..19")),
    "edge-id-negative": (lambda d: _user(d, edges="negative.csv"), 1, ("negative.csv, line 2", "negative")),
    "edge-id-fractional": (lambda d: _user(d, edges="fractional.csv"), 1, ("fractional.csv, line 2", "integers")),
    "features-nan": (lambda d: _user(d, features="nan.csv"), 1, ("nan.csv, line 2", "contains NaN")),
    "features-ragged": (lambda d: _user(d, features="ragged.csv"), 1, ("ragged.csv, line 2",)),
    "features-npy-1d": (lambda d: _user(d, features="x1d.npy"), 1, ("x1d.npy", "2-D")),
    "edges-npy-4-columns": (lambda d: _user(d, edges="e4.npy"), 1, ("e4.npy", "2 or 3 columns")),
    "features-empty": (lambda d: _user(d, features="empty.csv"), 1, ("empty.csv", "empty")),
    "edges-empty": (lambda d: _user(d, edges="empty.csv"), 1, ("empty.csv", "empty")),
    "graph-npz-missing-key": (lambda d: ["--graph", d / "no_edges.npz", "--n-clusters", 2], 1, ("no_edges.npz", "edge_index")),
    "graph-with-edges": (lambda d: ["--graph", d / "no_edges.npz", "--edges", d / "e.csv", "--n-clusters", 2], 2, ("--edges",)),
    "config-text-for-a-number": (lambda d: _user(d) + ["--config", d / "lr_text.yaml"], 1, ("lr", "'fast'", "lr_text.yaml")),
    "config-list-for-a-number": (lambda d: _user(d) + ["--config", d / "temperature_list.yaml"], 1,
                                 ("temperature", "temperature_list.yaml")),
    "config-unknown-key": (lambda d: _user(d) + ["--config", d / "unknown_key.yaml"], 1, ("learning_rate", "unknown_key.yaml")),
    "config-not-yaml": (lambda d: _user(d) + ["--config", d / "broken.yaml"], 1, ("broken.yaml", "YAML")),
    "config-is-a-folder": (lambda d: _user(d) + ["--config", d / "folder"], 1, ("--config",)),
}


@pytest.mark.parametrize("case", list(BAD_FIT))
def test_bad_fit_input_is_one_error_line_before_any_training(case, tiny20, tmp_path, capsys, monkeypatch, one_thread):
    from graphcl.progress import EpochMonitor

    epochs_run = []
    monkeypatch.setattr(EpochMonitor, "update", lambda self, epoch, *a: epochs_run.append(epoch))
    extra, status, needles = BAD_FIT[case]
    argv = ["fit", "--method", "pamc", "--epochs", 1, "--config", tiny20 / "tiny.yaml", "--out", tmp_path / "out", "--quiet"]
    argv += extra(tiny20)
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == status, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in err + out and ".tmp" not in err
    assert epochs_run == [] and not (tmp_path / "out" / "labels.csv").exists()


def test_device_cuda_without_cuda_is_refused_up_front(tiny20, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = run(capsys, "fit", "--method", "pamc", *_user(tiny20), "--epochs", 1, "--config", tiny20 / "tiny.yaml",
                       "--out", tmp_path, "--device", "cuda")
    assert code == 1 and err.startswith("error: --device cuda: CUDA is not available") and err.count("\n") == 1
    assert not (tmp_path / "labels.csv").exists()


def test_resume_after_an_interrupt_logs_each_epoch_once(tiny20, tmp_path, capsys, monkeypatch, one_thread):
    """Interrupted during epoch 5 with the last checkpoint at epoch 3: the resumed run does epochs
    4 and 5 again, and the --log file holds each epoch once (the discarded row 4 is dropped)."""
    from graphcl.progress import EpochMonitor

    argv = ["fit", "--method", "pamc", *_user(tiny20), "--epochs", 6, "--config", tiny20 / "tiny.yaml", "--quiet",
            "--checkpoint", tmp_path / "ck.pt", "--checkpoint-every", 2]
    original = EpochMonitor.update

    def interrupted(self, epoch, terms, seconds):
        original(self, epoch, terms, seconds)
        if epoch == 4:
            raise KeyboardInterrupt

    for suffix in (".csv", ".jsonl"):
        log = tmp_path / f"train{suffix}"
        with monkeypatch.context() as m:
            m.setattr(EpochMonitor, "update", interrupted)
            code, _, err = run(capsys, *argv, "--out", tmp_path / "a", "--log", log)
        assert code == 130 and "interrupted" in err
        rows = _log_epochs(log)
        assert rows == [0, 1, 2, 3, 4]
        code, _, err = run(capsys, *argv, "--out", tmp_path / "a", "--log", log, "--resume", tmp_path / "ck.pt")
        assert code == 0, err
        assert _log_epochs(log) == list(range(6))
        if suffix == ".csv":
            assert log.read_text().count("epoch,") == 1  # one header
        summary = json.loads((tmp_path / "a" / "summary.json").read_text())
        assert summary["epochs"] == 6


def _log_epochs(path: Path):
    if path.suffix == ".csv":
        import csv

        return [int(r["epoch"]) for r in csv.DictReader(open(path))]
    return [json.loads(line)["epoch"] for line in open(path)]


def test_resume_refuses_a_checkpoint_of_another_graph_of_the_same_size(tiny20, tmp_path, capsys, one_thread):
    other = tmp_path / "other_edges.csv"
    np.savetxt(other, np.random.default_rng(1).integers(0, 20, (40, 2)), fmt="%d", delimiter=",")
    common = ["fit", "--method", "pamc", "--epochs", 2, "--config", tiny20 / "tiny.yaml", "--quiet", "--out", tmp_path]
    code, _, err = run(capsys, *common, *_user(tiny20), "--checkpoint", tmp_path / "ck.pt", "--epochs", 1)
    assert code == 0, err
    (tmp_path / "labels.csv").unlink()
    code, _, err = run(capsys, *common, *_user(tiny20, edges=other), "--resume", tmp_path / "ck.pt")
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1, err
    assert "another graph" in err and "ck.pt" in err
    assert not (tmp_path / "labels.csv").exists()


def test_warnings_print_as_one_line_without_source(capsys, monkeypatch):
    import warnings

    import graphcl.cli as cli

    def warns(args):
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("k-means found 2 clusters\n  of the 3 asked for", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setitem(cli.COMMANDS, "datasets", warns)
    before = warnings.showwarning
    code, out, err = run(capsys, "datasets")
    assert code == 0 and out == ""
    assert err == "warning: k-means found 2 clusters of the 3 asked for\n"  # no file:line, no source line
    assert warnings.showwarning is before  # restored after main


def test_fit_help_says_ids_are_0_based_what_config_values_look_like_and_that_out_is_replaced():
    res = subprocess.run([sys.executable, "-m", "graphcl", "fit", "--help"], capture_output=True, text=True)
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    assert "0-based" in text and "row i is node i" in text
    assert "replacing those files" in text and "labels.csv" in text
    assert "lr: 0.001" in text and "hidden_channels: [256, 128]" in text


def test_a_registered_method_is_offered_and_fitted_by_the_cli(tiny20, tmp_path, capsys, one_thread):
    from graphcl.cli import build_parser
    from graphcl.models import PamC, available, register, unregister

    try:
        @register("throwaway_cli", family="homogeneous", config=("pamc.yaml", "pamc"))
        class ThrowawayCLI(PamC):
            pass

        assert "throwaway_cli" in available()
        parser = build_parser()
        args = parser.parse_args(["fit", "--method", "throwaway_cli", "--graph", "g.npz", "--n-clusters", "2"])
        assert args.method == "throwaway_cli"
        fit_help = parser._subparsers._group_actions[0].choices["fit"].format_help()
        assert "throwaway_cli" in fit_help
        code, _, err = run(capsys, "fit", "--method", "throwaway_cli", *_user(tiny20), "--epochs", 1,
                           "--config", tiny20 / "tiny.yaml", "--out", tmp_path, "--quiet")
        assert code == 0, err
        summary = json.loads((tmp_path / "summary.json").read_text())
        assert summary["method"] == "throwaway_cli" and summary["epochs"] == 1
    finally:
        unregister("throwaway_cli")
    assert "throwaway_cli" not in available()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--method", "throwaway_cli", "--graph", "g.npz"])


@pytest.mark.parametrize("method", ["pamc", "meow"])
def test_config_max_epochs_becomes_epochs_and_the_command_line_wins(method):
    import argparse

    from graphcl.cli import _estimator_params
    from graphcl.errors import GraphclInputError

    args = argparse.Namespace(epochs=None, quiet=True, log=None, checkpoint=None, checkpoint_every=10, config=None)
    cls, params, origins = _estimator_params(method, {"max_epochs": 7}, "c.yaml", args)
    assert params["epochs"] == 7 and "max_epochs" not in params and origins["epochs"] == "max_epochs"
    args.epochs = 3
    cls, params, origins = _estimator_params(method, {"max_epochs": 7}, "c.yaml", args)
    assert params["epochs"] == 3 and "max_epochs" not in params and "epochs" not in origins
    cls(n_clusters=2, **params)  # the estimator takes `epochs`
    with pytest.raises(GraphclInputError, match="both epochs and max_epochs"):
        _estimator_params(method, {"max_epochs": 7, "epochs": 5}, "c.yaml", args)


def test_a_deprecated_key_in_a_users_config_warns_once_in_one_line(tmp_path, capsys, monkeypatch):
    """MEOW's former `hidden_channels` (now `embedding_dim`) in a --config file: translated, with
    one `warning:` line each; the run then stops at the data (an unknown dataset) without training."""
    (tmp_path / "old.yaml").write_text("meow: {default: {hidden_channels: 8, max_epochs: 3}}\n")
    code, _, err = run(capsys, "fit", "--method", "meow", "--dataset", "nosuch", "--config", tmp_path / "old.yaml",
                       "--out", tmp_path)
    lines = err.strip().splitlines()
    assert code == 1 and lines[-1].startswith("error: ") and "nosuch" in lines[-1]
    warned = sorted(line for line in lines if line.startswith("warning: "))
    assert len(warned) == 2 and "'hidden_channels'" in warned[0] + warned[1] and "'embedding_dim'" in warned[0] + warned[1]
    assert len(lines) == 3  # no source lines


def test_fit_select_writes_the_grid_and_the_choice(tiny20, tmp_path, capsys):
    out = tmp_path / "sel"
    code, _, err = run(capsys, "fit", "--method", "pamc", *_user(tiny20), "--labels", tiny20 / "y.csv", "--epochs", 2,
                       "--config", tiny20 / "tiny.yaml", "--out", out, "--quiet", "--select")
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    sel = summary["selection"]
    assert sel["criterion"] == "silhouette" and len(sel["grid"]) == 6 and sum(g["chosen"] for g in sel["grid"]) == 1
    chosen = max(sel["grid"], key=lambda g: g["silhouette"])
    assert chosen["chosen"]  # the default criterion keeps the largest silhouette
    chosen = next(g for g in sel["grid"] if g["chosen"])
    assert sel["choice"] == {k: chosen[k] for k in ("input_hops", "order", "temperature")}
    assert summary["params"]["order"] == chosen["order"] and (out / "labels.csv").is_file() and "metrics" in summary
    assert sel["skipped"] == []  # 20 nodes: no order reaches 256 positives per node


def test_fit_select_consensus_writes_the_consensus_labels(tiny20, tmp_path, capsys):
    from sklearn.metrics import normalized_mutual_info_score

    common = ["fit", "--method", "pamc", *_user(tiny20), "--epochs", 2, "--config", tiny20 / "tiny.yaml", "--quiet",
              "--select"]
    code, _, err = run(capsys, *common, "--select-combine", "best", "--out", tmp_path / "best")
    assert code == 0, err
    code, _, err = run(capsys, *common, "--out", tmp_path / "cons")  # consensus: the default
    assert code == 0, err
    summary = json.loads((tmp_path / "cons" / "summary.json").read_text())
    sel = summary["selection"]
    assert sel["combine"] == "consensus" and sel["consensus"]["members"] == len(sel["grid"]) == 6
    labels = np.loadtxt(tmp_path / "cons" / "labels.csv", dtype=int)
    assert summary["n_predicted_clusters"] == sel["consensus"]["n_predicted_clusters"] == len(np.unique(labels))
    # labels.csv is the consensus the summary describes: its agreement with the chosen grid point's
    # clustering (what --select-combine best writes) is the recorded one
    chosen = [g["chosen"] for g in sel["grid"]].index(True)
    best = np.loadtxt(tmp_path / "best" / "labels.csv", dtype=int)
    assert normalized_mutual_info_score(best, labels) == pytest.approx(sel["consensus"]["member_nmi"][chosen])
    code, _, err = run(capsys, *common[:-1], "--select-combine", "best", "--out", tmp_path / "plain")
    assert code == 2 and "--select-combine goes with --select" in err


def test_fit_select_skips_orders_above_the_positives_cap(tiny20, tmp_path, capsys):
    out = tmp_path / "sel"
    code, _, err = run(capsys, "fit", "--method", "pamc", *_user(tiny20), "--epochs", 2, "--config", tiny20 / "tiny.yaml",
                       "--out", out, "--quiet", "--select", "--select-max-positives", 1)
    assert code == 0, err
    sel = json.loads((out / "summary.json").read_text())["selection"]
    assert len(sel["grid"]) == 4 and {g["order"] for g in sel["grid"]} == {1}
    assert [s["order"] for s in sel["skipped"]] == [3] and sel["skipped"][0]["positives_per_node"] > 1


@pytest.mark.parametrize("extra, needle", [
    (["--method", "meow", "--dataset", "acm"], "--select works on homogeneous methods"),
    (["--method", "pamc", "--checkpoint", "ck.pt"], "not with --checkpoint, --resume or --log"),
])
def test_fit_select_usage_errors(extra, needle, tiny20, tmp_path, capsys):
    args = extra if "--dataset" in extra else extra + _user(tiny20)
    code, _, err = run(capsys, "fit", *args, "--select", "--out", tmp_path)
    assert code == 2 and needle in err and not (tmp_path / "labels.csv").exists()


def test_fit_restarts_keeps_the_best_seed_by_modularity(tiny20, tmp_path, capsys):
    out = tmp_path / "rs"
    code, _, err = run(capsys, "fit", "--method", "pamc", *_user(tiny20), "--epochs", 2, "--config",
                       tiny20 / "tiny.yaml", "--out", out, "--quiet", "--restarts", 3, "--seed", 1)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    rs = summary["restarts"]
    assert rs["criterion"] == "modularity" and [r["seed"] for r in rs["restarts"]] == [3, 4, 5]
    chosen = [r for r in rs["restarts"] if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["modularity"] == max(r["modularity"] for r in rs["restarts"])
    assert summary["params"]["random_state"] == rs["seed"] == chosen[0]["seed"]
    labels = np.loadtxt(out / "labels.csv", dtype=int)
    assert len(np.unique(labels)) == chosen[0]["n_predicted_clusters"]


def test_fit_select_with_restarts_combines_every_seeds_grid(tiny20, tmp_path, capsys):
    out = tmp_path / "sr"
    code, _, err = run(capsys, "fit", "--method", "pamc", *_user(tiny20), "--epochs", 2, "--config", tiny20 / "tiny.yaml",
                       "--out", out, "--quiet", "--select", "--restarts", 2, "--seed", 1)
    assert code == 0, err
    sel = json.loads((out / "summary.json").read_text())["selection"]
    assert sel["restarts"] == 2 and [g["seed"] for g in sel["grid"]] == [2] * 6 + [3] * 6  # SEED*R .. SEED*R+R-1
    assert sel["consensus"]["members"] == 12 and sel["choice"]["seed"] in (2, 3)
    assert "restarts" not in json.loads((out / "summary.json").read_text())  # not graphcl.restarts' best-of-R


@pytest.mark.parametrize("extra, needle", [
    (["--method", "meow", "--dataset", "acm"], "--restarts works on homogeneous methods"),
    (["--method", "pamc", "--log", "x.log"], "not with --checkpoint, --resume or --log"),
    (["--method", "pamc", "--select-criterion", "modularity_gain"], "modularity_gain is for --select"),
])
def test_fit_restarts_usage_errors(extra, needle, tiny20, tmp_path, capsys):
    args = extra if "--dataset" in extra else extra + _user(tiny20)
    code, _, err = run(capsys, "fit", *args, "--restarts", 2, "--out", tmp_path)
    assert code == 2 and needle in err and not (tmp_path / "labels.csv").exists()
