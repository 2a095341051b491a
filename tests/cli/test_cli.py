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
meow: {default: {hidden_channels: 8, num_prototypes: [4, 6], top_k: 5}}
adameow: {default: {hidden_channels: 8, projection_channels: 8, weight_hidden: 4, top_k: 5}}
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
        (fit + ["--features", d / "x.csv", "--edges", d / "edges.csv", "--n-clusters", 1], 1, "n_clusters"),
        (fit + ["--features", d / "x.csv", "--edges", d / "edges.csv", "--n-clusters", 31], 1, "n_clusters"),
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
