"""Every bad-input case of the package, in the library and through the command line: the error
type (GraphclInputError), the CLI's exit status (1 bad data, 2 bad usage), and a message that
names the offending item. Isolated nodes, self-loops and duplicate edges are accepted."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphcl.cli import main
from graphcl.data import load_dataset, read_user_graph
from graphcl.errors import GraphclInputError
from graphcl.metrics import evaluate_clustering
from graphcl.models import SCGC, PamC, SCGCStar

ESTIMATORS = [SCGC, SCGCStar, PamC]
TINY = dict(hidden_channels=(8,), embedding_dim=3, pretrain_epochs=0, epochs=2, kmeans_n_init=1, cache=False)


def _graph(n=12):
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, n, (2, 30), generator=g)
    return torch.randn(n, 4, generator=g), ei


def _with(x=None, ei=None):
    x0, ei0 = _graph()
    return Data(x=x0 if x is None else x, edge_index=ei0 if ei is None else ei)


LIBRARY_CASES = [
    ("nan features", lambda: _with(x=torch.tensor([[float("nan")] * 4] + [[0.0] * 4] * 11)), {}, "x contains NaN"),
    ("inf features", lambda: _with(x=torch.full((12, 4), float("inf"))), {}, "x contains NaN or Inf"),
    ("negative id", lambda: _with(ei=torch.tensor([[0, -1], [1, 2]])), {}, "negative node id"),
    ("id out of range", lambda: _with(ei=torch.tensor([[0, 12], [1, 2]])), {}, "edge_index"),
    ("edge_index shape", lambda: _with(ei=torch.zeros(3, 4, dtype=torch.long)), {}, "shape [2, num_edges]"),
    ("float edge_index", lambda: _with(ei=torch.zeros(2, 4)), {}, "must hold integers"),
    ("empty graph", lambda: _with(x=torch.zeros(0, 4), ei=torch.zeros(2, 0, dtype=torch.long)), {}, "no nodes"),
    ("one node", lambda: _with(x=torch.zeros(1, 4), ei=torch.zeros(2, 0, dtype=torch.long)), {}, "only 1 node"),
    ("n_clusters < 2", _with, {"n_clusters": 1}, "n_clusters must be at least 2"),
    ("n_clusters > N", _with, {"n_clusters": 13}, "n_clusters=13 exceeds the number of nodes (12)"),
    ("temperature 0", _with, {"temperature": 0.0}, "temperature"),
    ("temperature < 0", _with, {"temperature": -1.0}, "temperature"),
]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("name,make,params,needle", LIBRARY_CASES, ids=[c[0] for c in LIBRARY_CASES])
def test_estimators_reject_bad_input_naming_it(cls, name, make, params, needle, one_thread):
    with pytest.raises(GraphclInputError) as err:
        cls(**dict(dict(TINY, n_clusters=2), **params)).fit(make())
    assert needle in str(err.value)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_isolated_nodes_self_loops_and_duplicate_edges_are_handled(cls, one_thread):
    x, _ = _graph(12)
    ei = torch.tensor([[0, 0, 1, 1, 2, 3], [0, 1, 2, 2, 3, 3]])  # loops (0,0) (3,3), a duplicate, nodes 4..11 isolated
    model = cls(2, **TINY).fit(Data(x=x, edge_index=ei))
    assert model.labels_.shape == (12,) and np.isfinite(model.embeddings_).all()


def test_metric_inputs_of_different_length_name_both():
    with pytest.raises(GraphclInputError, match=r"y_true and y_pred have different lengths \(3 vs 2\)"):
        evaluate_clustering([0, 1, 1], [0, 1])


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(GraphclInputError, match="usps.*cora|cora.*usps"):
        load_dataset("nosuch")


@pytest.fixture
def broken_root(tmp_path, monkeypatch):
    """A data root with cora's first file corrupted and its second removed."""
    from graphcl.data import dataset_info

    info = dataset_info("cora")
    src = Path(__file__).resolve().parents[2] / "datasets"
    shutil.copytree(src / info.folder, tmp_path / info.folder)
    shutil.copy(src / "checksums.json", tmp_path / "checksums.json")
    monkeypatch.setenv("GRAPHCL_DATA", str(tmp_path))
    return tmp_path / info.folder, info.files


def test_dataset_file_corrupted_or_missing_is_named(broken_root):
    folder, files = broken_root
    victim = folder / files[0]
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    with pytest.raises(GraphclInputError, match=f"checksum mismatch for {victim}"):
        load_dataset("cora")
    victim.unlink()
    with pytest.raises(GraphclInputError, match=f"missing file {victim}"):
        load_dataset("cora")


# -- through the command line ------------------------------------------------------------------------------

@pytest.fixture
def d(tmp_path):
    x, ei = _graph(12)
    np.savetxt(tmp_path / "x.csv", x.numpy(), delimiter=",")
    np.savetxt(tmp_path / "e.csv", ei.t().numpy(), fmt="%d", delimiter=",")
    bad_x = x.numpy().copy()
    bad_x[3, 1] = np.nan
    np.savetxt(tmp_path / "nan.csv", bad_x, delimiter=",")
    (tmp_path / "neg.csv").write_text("0,1\n-1,2\n")
    (tmp_path / "big.csv").write_text("0,1\n1,12\n")
    (tmp_path / "wide.csv").write_text("0,1,1.0,7\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "one.csv").write_text("1.0,2.0,3.0,4.0\n")
    (tmp_path / "loop.csv").write_text("0,0\n")
    (tmp_path / "hot.yaml").write_text("pamc: {default: {temperature: -1.0, pretrain_epochs: 0, hidden_channels: [8]}}\n")
    (tmp_path / "tiny.yaml").write_text("pamc: {default: {pretrain_epochs: 0, hidden_channels: [8], embedding_dim: 3}}\n")
    (tmp_path / "y.csv").write_text("0\n1\n")
    (tmp_path / "p.csv").write_text("0\n1\n1\n")
    return tmp_path


def _cli(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, err.strip()


CLI_CASES = [
    (["--features", "nan.csv", "--edges", "e.csv", "--n-clusters", 2], 1, "contains NaN"),
    (["--features", "x.csv", "--edges", "neg.csv", "--n-clusters", 2], 1, "negative node id"),
    (["--features", "x.csv", "--edges", "big.csv", "--n-clusters", 2], 1, "12"),
    (["--features", "x.csv", "--edges", "wide.csv", "--n-clusters", 2], 1, "wide.csv, line 1"),
    (["--features", "empty.csv", "--edges", "e.csv", "--n-clusters", 2], 1, "empty.csv is empty"),
    (["--features", "one.csv", "--edges", "loop.csv", "--n-clusters", 2], 1, "only 1 node"),
    (["--features", "x.csv", "--edges", "e.csv", "--n-clusters", 1], 1, "--n-clusters must be at least 2"),
    (["--features", "x.csv", "--edges", "e.csv", "--n-clusters", 13], 1, "--n-clusters=13 exceeds"),
    (["--features", "x.csv", "--edges", "e.csv", "--n-clusters", 2, "--config", "hot.yaml"], 1, "temperature"),
    (["--features", "x.csv", "--edges", "gone.csv", "--n-clusters", 2], 1, "gone.csv"),
    (["--dataset", "nosuch"], 1, "usps"),
    (["--features", "x.csv", "--edges", "e.csv"], 2, "--n-clusters"),
]


@pytest.mark.parametrize("argv,status,needle", CLI_CASES, ids=[c[2] for c in CLI_CASES])
def test_cli_bad_input(argv, status, needle, d, capsys, monkeypatch):
    monkeypatch.chdir(d)
    config = [] if "--config" in argv else ["--config", "tiny.yaml"]
    code, err = _cli(["fit", "--method", "pamc", "--epochs", 1, "--out", "out", "--quiet", *config, *argv], capsys)
    assert code == status and err.count("\n") == 0 and err.startswith("error: ") and needle in err, err


def test_cli_evaluate_lengths_and_corrupted_dataset(d, broken_root, capsys, monkeypatch):
    monkeypatch.chdir(d)
    code, err = _cli(["evaluate", "--labels", "y.csv", "--pred", "p.csv"], capsys)
    assert code == 1 and "p.csv has 3 rows but y.csv has 2 labels" in err
    folder, files = broken_root
    victim = folder / files[0]
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    code, err = _cli(["fit", "--method", "pamc", "--dataset", "cora", "--epochs", 1, "--quiet", "--config", "tiny.yaml"], capsys)
    assert code == 1 and str(victim) in err and err.count("\n") == 0


def test_user_files_accept_loops_duplicates_and_isolated_nodes(d):
    (d / "messy.csv").write_text("0,0\n1,2\n1,2\n2,1\n")
    data = read_user_graph(d / "x.csv", d / "messy.csv")
    assert data.num_nodes == 12 and data.edge_index.tolist() == [[1, 2], [2, 1]]
