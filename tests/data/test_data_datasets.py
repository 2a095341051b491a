"""Tests for graphcl.data.datasets (the shipped benchmark loaders).

Edge counts asserted: ``edge_index.size(1) == 2 * E`` with ``E`` the number of undirected
edges in the shared MANIFEST (usps 21452 = usps3_graph.txt symmetrised, acm 13128, dblp 3528,
cite/citeseer 4552, cora 5278, photo 119081). These counts exclude self-loops (the loaders drop
them; photo's raw npz holds one) and duplicates; every loaded graph is checked to hold both
directions of every edge, no self-loop and no duplicate.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.utils import to_undirected

import graphcl.data.datasets as ds
import graphcl.data.files as files
from graphcl import GraphclInputError
from graphcl.data import DATASET_INFO, dataset_info, list_datasets, load_dataset

DATA = ds.default_data_root()

# name: (N, d, classes, undirected edges)
EXPECTED = {
    "usps": (9298, 256, 10, 21452),
    "acm": (3025, 1870, 3, 13128),
    "dblp": (4057, 334, 4, 3528),
    "cite": (3327, 3703, 6, 4552),
    "citeseer": (3327, 3703, 6, 4552),
    "cora": (2708, 1433, 7, 5278),
    "photo": (7650, 745, 8, 119081),
}


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("graphcl_cache")


@pytest.fixture(autouse=True)
def _env(monkeypatch, cache_root):
    """Keep the tests off ~/.cache and independent of the caller's $GRAPHCL_DATA."""
    monkeypatch.setenv("GRAPHCL_CACHE", str(cache_root))
    monkeypatch.delenv("GRAPHCL_DATA", raising=False)


@pytest.fixture(scope="module")
def loaded(cache_root):
    """Each shipped dataset loaded once per module (USPS and cite parse tens of MB of text)."""
    before = _snapshot(DATA)
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRAPHCL_CACHE", str(cache_root))
        mp.delenv("GRAPHCL_DATA", raising=False)
        for name in list_datasets():
            out[name] = load_dataset(name)
    out["_snapshot_before"] = before
    return out


def _copy_dataset(name: str, dest_root: Path) -> Path:
    folder = DATASET_INFO[name].folder
    shutil.copytree(DATA / folder, dest_root / folder)
    for p in (dest_root / folder).iterdir():
        p.chmod(0o644)
    return dest_root / folder


def _edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return set(map(tuple, edge_index.t().tolist()))


# ------------------------------------------------------------------------------------------
# Shapes, counts, conventions
# ------------------------------------------------------------------------------------------


def test_list_datasets_and_info():
    assert list_datasets() == ["usps", "acm", "dblp", "cite", "citeseer", "cora", "photo"]
    for name, (n, d, c, e) in EXPECTED.items():
        info = dataset_info(name)
        assert (info.num_nodes, info.num_features, info.num_classes, info.num_edges) == (n, d, c, e)
        assert info.as_dict()["folder"] == info.folder
    assert dataset_info("  USPS ") is DATASET_INFO["usps"]


def test_checksums_json_lists_every_file_read():
    table = json.loads((DATA / "checksums.json").read_text())
    wanted = {f"{i.folder}/{f}" for i in DATASET_INFO.values() for f in i.files}
    # meow_*/heco_* rows belong to the heterogeneous loader (tests/data/test_data_hetero.py)
    assert wanted == {k for k in table if not k.startswith(("meow_", "heco_"))}
    manifest = (DATA / "MANIFEST.md").read_text()
    for rel, digest in table.items():
        assert f"`{rel}`" in manifest and digest in manifest


@pytest.mark.parametrize("name", list(EXPECTED))
def test_load_shapes_and_graph_conventions(loaded, name):
    data = loaded[name]
    n, d, c, e = EXPECTED[name]
    assert data.name == name
    assert data.x.dtype == torch.float32 and tuple(data.x.shape) == (n, d)
    assert bool(torch.isfinite(data.x).all())
    assert data.y.dtype == torch.long and tuple(data.y.shape) == (n,)
    assert isinstance(data.num_classes, int) and data.num_classes == c
    assert int(data.y.min()) == 0 and int(data.y.max()) == c - 1
    assert torch.bincount(data.y, minlength=c).min() > 0
    ei = data.edge_index
    assert ei.dtype == torch.long and ei.dim() == 2 and ei.size(0) == 2
    assert ei.size(1) == 2 * e
    assert not bool((ei[0] == ei[1]).any()), "self-loops must not be stored"
    # undirected, coalesced (sorted, no duplicates): to_undirected is a no-op
    assert torch.equal(to_undirected(ei, num_nodes=n), ei)
    assert data.num_nodes == n


def test_loaders_never_write_into_datasets(loaded):
    assert _snapshot(DATA) == loaded["_snapshot_before"]
    assert not any(p.name == "processed" for p in DATA.rglob("*"))


def test_cite_and_citeseer_are_the_same_graph(loaded):
    cite, citeseer = loaded["cite"], loaded["citeseer"]
    assert torch.equal(cite.x, citeseer.x)
    assert torch.equal(cite.y, citeseer.y)
    assert torch.equal(cite.edge_index, citeseer.edge_index)
    assert set(torch.unique(citeseer.x).tolist()) == {0.0, 1.0}  # unnormalised 0/1


def test_sdcn_files_read_as_documented(loaded):
    raw_cite = np.loadtxt(DATA / "sdcn_cite" / "cite_label.txt", dtype=np.int64)
    assert raw_cite.min() == 1 and raw_cite.max() == 6
    assert np.array_equal(loaded["cite"].y.numpy(), raw_cite - 1)
    knn = np.loadtxt(DATA / "sdcn_usps" / "usps3_graph.txt", dtype=np.int64)
    assert knn.shape == (3 * 9298, 2)  # directed 3-NN list
    sym = {(int(i), int(j)) for i, j in knn} | {(int(j), int(i)) for i, j in knn}
    assert _edge_set(loaded["usps"].edge_index) == sym
    x = np.loadtxt(DATA / "sdcn_dblp" / "dblp.txt.gz", dtype=np.float32)
    assert np.array_equal(loaded["dblp"].x.numpy(), x)


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_planetoid_matches_pyg_reader(loaded, name):
    from torch_geometric.io import read_planetoid_data

    ref = read_planetoid_data(str(DATA / name), name)  # reads the raw files, writes nothing
    data = loaded[name]
    assert torch.equal(data.x, ref.x)
    assert torch.equal(data.y, ref.y)
    assert torch.equal(data.edge_index, to_undirected(ref.edge_index, num_nodes=ref.num_nodes))


def test_photo_matches_pyg_read_npz(loaded):
    from torch_geometric.io import read_npz

    ref = read_npz(str(DATA / "amazon_photo" / "amazon_electronics_photo.npz"))
    data = loaded["photo"]
    assert torch.equal(data.x, ref.x)
    assert torch.equal(data.y, ref.y)
    assert _edge_set(data.edge_index) == _edge_set(ref.edge_index)


# ------------------------------------------------------------------------------------------
# Lookup order
# ------------------------------------------------------------------------------------------


def _relabel_node0(folder: Path, offset: int) -> int:
    """Change node 0's label in a copied dblp folder; return the new label."""
    path = folder / "dblp_label.txt"
    lines = path.read_bytes().split(b"\r\n")
    new = (int(lines[0]) + offset) % 4
    lines[0] = str(new).encode()
    path.write_bytes(b"\r\n".join(lines))
    return new


def test_lookup_order_root_env_default(tmp_path, monkeypatch):
    default_y0 = int(np.loadtxt(DATA / "sdcn_dblp" / "dblp_label.txt", dtype=np.int64)[0])
    root_a, root_b = tmp_path / "a", tmp_path / "b"
    y_a = _relabel_node0(_copy_dataset("dblp", root_a), 1)
    y_b = _relabel_node0(_copy_dataset("dblp", root_b), 2)
    assert len({default_y0, y_a, y_b}) == 3

    monkeypatch.setenv("GRAPHCL_DATA", str(root_b))
    assert int(load_dataset("dblp", root=root_a, verify=False).y[0]) == y_a  # root beats env
    assert int(load_dataset("dblp", verify=False).y[0]) == y_b  # env beats default
    # a root without the dataset's folder falls through to the next location
    (tmp_path / "empty").mkdir()
    assert int(load_dataset("dblp", root=tmp_path / "empty", verify=False).y[0]) == y_b
    monkeypatch.delenv("GRAPHCL_DATA")
    assert int(load_dataset("dblp", verify=False).y[0]) == default_y0


def test_unaltered_copy_verifies_against_shipped_checksums(tmp_path):
    _copy_dataset("dblp", tmp_path)
    data = load_dataset("dblp", root=tmp_path)
    assert data.num_nodes == 4057


def test_root_that_is_not_a_directory(tmp_path, monkeypatch):
    with pytest.raises(GraphclInputError, match="root"):
        load_dataset("dblp", root=tmp_path / "nope")
    monkeypatch.setenv("GRAPHCL_DATA", str(tmp_path / "nope"))
    with pytest.raises(GraphclInputError, match=r"\$GRAPHCL_DATA"):
        load_dataset("dblp")
    _copy_dataset("dblp", tmp_path / "ok")
    assert load_dataset("dblp", root=tmp_path / "ok").num_nodes == 4057  # env not consulted


def test_no_location_holds_the_dataset(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "default_data_root", lambda: tmp_path / "no_checkout")
    monkeypatch.setenv("GRAPHCL_DATA", str(tmp_path))
    with pytest.raises(GraphclInputError, match=r"\$GRAPHCL_DATA") as err:
        load_dataset("dblp", root=tmp_path)
    assert "sdcn_dblp" in str(err.value)


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["pubmed", "", 3])
def test_unknown_name_lists_known_names(bad):
    with pytest.raises(GraphclInputError) as err:
        load_dataset(bad)
    if isinstance(bad, str):
        for name in list_datasets():
            assert name in str(err.value)


def test_missing_file_is_named(tmp_path):
    folder = _copy_dataset("dblp", tmp_path)
    (folder / "dblp_label.txt").unlink()
    with pytest.raises(GraphclInputError, match="missing file") as err:
        load_dataset("dblp", root=tmp_path)
    assert str(folder / "dblp_label.txt") in str(err.value)


def test_checksum_mismatch_is_detected(tmp_path):
    folder = _copy_dataset("dblp", tmp_path)
    path = folder / "dblp_label.txt"
    raw = bytearray(path.read_bytes())
    raw[0] = ord("3") if raw[0] != ord("3") else ord("2")  # still a valid label
    path.write_bytes(bytes(raw))
    with pytest.raises(GraphclInputError, match="checksum mismatch") as err:
        load_dataset("dblp", root=tmp_path)
    assert "dblp_label.txt" in str(err.value)
    data = load_dataset("dblp", root=tmp_path, verify=False)  # unchecked load still parses
    assert int(data.y[0]) == int(chr(raw[0]))


def test_verification_is_memoised_per_path_mtime_size(tmp_path, monkeypatch):
    folder = _copy_dataset("dblp", tmp_path)
    load_dataset("dblp", root=tmp_path)

    def boom(*args, **kwargs):
        raise AssertionError("file re-hashed")

    monkeypatch.setattr(hashlib, "sha256", boom)
    load_dataset("dblp", root=tmp_path)  # no re-hash: memo hit
    path = folder / "dblp_graph.txt"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(AssertionError, match="re-hashed"):
        load_dataset("dblp", root=tmp_path)


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


@pytest.mark.parametrize(
    "name, fname, content",
    [
        ("dblp", "dblp_graph.txt", b"0 1\r\n2 three\r\n"),
        ("dblp", "dblp_graph.txt", b"0 1 2\r\n3 4 5\r\n"),
        ("dblp", "dblp_graph.txt", b"0 1\r\n1 99999\r\n"),
        ("dblp", "dblp.txt.gz", b"\x1f\x8b\x08\x00garbage"),
        ("dblp", "dblp.txt.gz", gzip.compress(b"0.1 0.2\n0.3 0.4\n", mtime=0)),
        ("dblp", "dblp_label.txt", b"0\r\n1\r\n"),
        ("dblp", "dblp_label.txt", b"x\r\n"),
        ("cora", "ind.cora.allx", b"not a pickle at all"),
        ("cora", "ind.cora.graph", b"\x80\x02cos\nsystem\nq\x00."),
        ("cora", "ind.cora.test.index", b"1\n2\nthree\n"),
    ],
)
def test_corrupted_file_is_named(tmp_path, name, fname, content):
    folder = _copy_dataset(name, tmp_path)
    _write(folder / fname, content)
    with pytest.raises(GraphclInputError) as err:
        load_dataset(name, root=tmp_path, verify=False)
    assert fname in str(err.value)


def test_corrupted_npz_is_named(tmp_path):
    folder = tmp_path / "amazon_photo"
    folder.mkdir()
    _write(folder / "amazon_electronics_photo.npz", b"PK\x03\x04 truncated zip")
    with pytest.raises(GraphclInputError, match="amazon_electronics_photo.npz"):
        load_dataset("photo", root=tmp_path, verify=False)


# ------------------------------------------------------------------------------------------
# Parsed-feature cache
# ------------------------------------------------------------------------------------------


def test_feature_cache_is_keyed_by_source_hash(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GRAPHCL_CACHE", str(cache))
    root = tmp_path / "data"
    folder = _copy_dataset("dblp", root)
    gz = folder / "dblp.txt.gz"
    first = load_dataset("dblp", root=root)
    digest = hashlib.sha256(gz.read_bytes()).hexdigest()
    entries = list((cache / "datasets").glob(f"{digest}.*.npy"))
    assert len(entries) == 1
    assert torch.equal(load_dataset("dblp", root=root).x, first.x)

    # a damaged cache entry is ignored (re-parsed), never trusted
    entries[0].write_bytes(b"junk")
    assert torch.equal(load_dataset("dblp", root=root).x, first.x)

    # a changed source gets a new key: the old cache entry is not used
    x = np.loadtxt(gz, dtype=np.float64)
    x[0, 0] = 0.5
    with gzip.open(gz, "wt") as f:
        np.savetxt(f, x, fmt="%.6f")
    changed = load_dataset("dblp", root=root, verify=False)
    assert float(changed.x[0, 0]) == 0.5
    assert torch.equal(changed.x[1:], first.x[1:])
