"""graphcl.data.files: the data-root lookup, checksums and parse errors shared by the homogeneous
and heterogeneous loaders, which do not import each other."""

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

import graphcl.data
import graphcl.data.files as files
from graphcl import GraphclInputError

DATA_DIR = Path(graphcl.data.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_datasets_and_hetero_do_not_import_each_other():
    assert not {m for m in _imported_modules(DATA_DIR / "datasets.py") if m.startswith("graphcl.data.hetero")}
    assert not {m for m in _imported_modules(DATA_DIR / "hetero.py") if m.startswith("graphcl.data.datasets")}
    for name in ("datasets.py", "hetero.py"):
        assert "graphcl.data.files" in _imported_modules(DATA_DIR / name)
    # files.py imports neither loader (nor graphcl.data's __init__)
    assert not {m for m in _imported_modules(DATA_DIR / "files.py") if m.startswith("graphcl.data") or m == "graphcl"}


def test_public_api_of_graphcl_data_is_kept():
    before = {
        "DATASET_INFO", "DatasetInfo", "HETERO_DATASET_INFO", "HeteroDatasetInfo", "KNN_METRICS",
        "OGB_NODE_DATASETS", "cache_dir", "dataset_info", "default_data_root", "from_edge_list",
        "hetero_dataset_info", "hetero_file", "knn_graph_from_features", "list_datasets",
        "list_hetero_datasets", "load_dataset", "load_graph", "load_hetero_dataset", "load_ogb",
        "metapath_adjacency", "metapath_contexts", "pathsim_topk", "planted_partition_graph",
        "read_edges", "read_features", "read_graph_npz", "read_labels", "read_user_graph",
        "save_graph", "verify_dataset",
    }
    assert before <= set(graphcl.data.__all__)
    for name in before:
        assert getattr(graphcl.data, name) is not None
    assert graphcl.data.default_data_root() == Path(graphcl.__file__).resolve().parents[1] / "datasets"


@dataclass(frozen=True)
class _Info:
    name: str = "toy"
    folder: str = "toy_folder"


def test_resolve_root_lookup_order(tmp_path, monkeypatch):
    arg, env, default = (tmp_path / d for d in ("arg", "env", "default"))
    for root in (arg, env, default):
        (root / "toy_folder").mkdir(parents=True)
    monkeypatch.setattr(files, "default_data_root", lambda: default)
    monkeypatch.setenv("GRAPHCL_DATA", str(env))
    assert files.resolve_root(_Info(), arg) == arg
    assert files.resolve_root(_Info(), None) == env
    monkeypatch.delenv("GRAPHCL_DATA")
    assert files.resolve_root(_Info(), None) == default
    (default / "toy_folder").rmdir()
    with pytest.raises(GraphclInputError, match=r"dataset 'toy': folder 'toy_folder' not found .*\$GRAPHCL_DATA"):
        files.resolve_root(_Info(), None)
    with pytest.raises(GraphclInputError, match="the root argument"):
        files.resolve_root(_Info(), tmp_path / "missing")


def test_verify_file_and_checksum_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "default_data_root", lambda: tmp_path / "no_checkout")
    (tmp_path / "toy_folder").mkdir()
    path = tmp_path / "toy_folder" / "a.txt"
    path.write_text("hello\n")
    with pytest.raises(GraphclInputError, match="no checksum known for toy_folder/a.txt"):
        files.verify_file(path, "toy_folder/a.txt", tmp_path)
    digest = files.sha256_file(path)
    (tmp_path / "checksums.json").write_text(json.dumps({"toy_folder/a.txt": digest.upper()}))
    files.verify_file(path, "toy_folder/a.txt", tmp_path)  # case-insensitive hex
    assert files.verify_folders(["toy_folder"], tmp_path) == []
    path.write_text("hello!\n")
    with pytest.raises(GraphclInputError, match="checksum mismatch for .*a.txt"):
        files.verify_file(path, "toy_folder/a.txt", tmp_path)
    assert files.verify_folders(["toy_folder", "other"], tmp_path) == [
        f"{path}: sha256 mismatch (corrupted or altered)", "other: no checksums listed"]
    (tmp_path / "checksums.json").write_text("[1, 2]")
    with pytest.raises(GraphclInputError, match="must hold a JSON object"):
        files.read_checksums(tmp_path / "checksums.json")


def test_corrupt_file_error_and_lookup_dataset():
    err = files.corrupt_file_error(Path("x/y.txt"), ValueError("could not convert 'a'\nmore"))
    assert isinstance(err, GraphclInputError)
    assert str(err) == "cannot parse x/y.txt: ValueError: could not convert 'a'"
    assert str(files.corrupt_file_error(Path("z"), EOFError())) == "cannot parse z: EOFError: EOFError"
    table = {"acm": 1, "dblp": 2}
    assert files.lookup_dataset(table, " ACM ", "dataset") == 1
    with pytest.raises(GraphclInputError, match="unknown dataset 'x'; known: acm, dblp"):
        files.lookup_dataset(table, "x", "dataset")
    with pytest.raises(GraphclInputError, match="must be a string"):
        files.lookup_dataset(table, 3, "dataset")
