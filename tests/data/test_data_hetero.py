"""Tests for graphcl.data.hetero (the heterogeneous MEOW / HeCo loaders) and the shipped files.

Expected sizes are the facts table of ``meow.md`` §1.2: node counts per type, relation edges
(one direction; the loader stores both), class sizes, feature dimensions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import graphcl.data.datasets as ds
from graphcl import GraphclInputError
from graphcl.data import (
    HETERO_DATASET_INFO,
    hetero_dataset_info,
    hetero_file,
    list_hetero_datasets,
    load_hetero_dataset,
)

DATA = ds.default_data_root()

# name: target, node counts, relation edges (src, dst) -> E, class sizes, meta-paths,
# feature dims per source (None: source not available)
EXPECTED = {
    "acm": dict(
        target="paper",
        nodes={"paper": 4019, "author": 7167, "subject": 60},
        edges={("paper", "author"): 13407, ("paper", "subject"): 4019},
        classes=[1993, 965, 1061],
        metapaths=["PAP", "PSP"],
        x={"meow": {"paper": 1902, "author": 1902}, "heco": {"paper": 1902}},
    ),
    "dblp": dict(
        target="author",
        nodes={"author": 4057, "paper": 14328, "term": 7723, "conference": 20},
        edges={
            ("paper", "author"): 19645,
            ("paper", "conference"): 14328,
            ("paper", "term"): 85810,
        },
        classes=[1197, 745, 1109, 1006],
        metapaths=["APA", "APCPA", "APTPA"],
        x={"meow": {"author": 334, "paper": 4231, "term": 50}, "heco": {"author": 334}},
    ),
    "imdb": dict(
        target="movie",
        nodes={"movie": 4275, "actor": 5432, "director": 2083, "keyword": 7313},
        edges={("movie", "actor"): 12831, ("movie", "director"): 4181, ("movie", "keyword"): 20428},
        classes=[1112, 1594, 1569],
        metapaths=["MAM", "MDM", "MKM"],
        x={"meow": {"movie": 5927}, "heco": {"movie": 5927}},
    ),
    "aminer": dict(
        target="paper",
        nodes={"paper": 6564, "author": 13329, "reference": 35890},
        edges={("paper", "author"): 18007, ("paper", "reference"): 58831},
        classes=[1333, 1114, 526, 3591],
        metapaths=["PAP", "PRP"],
        x={"meow": None, "heco": {}},
    ),
    "freebase": dict(
        target="movie",
        nodes={"movie": 3492, "director": 2502, "actor": 33401, "writer": 4459},
        edges={("movie", "actor"): 65341, ("movie", "director"): 3762, ("movie", "writer"): 6414},
        classes=[1327, 618, 1547],
        metapaths=["MAM", "MDM", "MWM"],
        x={"meow": None, "heco": {}},
    ),
}
NAMES = list(EXPECTED)

# MEOW's IMDB train_40.npy / train_60.npy list 1 / 5 nodes twice (node 1437; 1728, 1745, 1838,
# 2408, 2512): as masks they hold 119 / 175 distinct nodes.
IMDB_TRAIN_UNIQUE = {40: [39, 40, 40], 60: [58, 59, 58]}


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("GRAPHCL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("GRAPHCL_DATA", raising=False)


@pytest.fixture(scope="module")
def loaded():
    """Each dataset loaded once with its default features (verified against checksums.json)."""
    cache: dict = {}

    def get(name):
        if name not in cache:
            cache[name] = load_hetero_dataset(name)
        return cache[name]

    return get


def _copy(folder: str, dest: Path) -> Path:
    shutil.copytree(DATA / folder, dest / folder)
    return dest / folder


# ------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------


def test_registry_lists_the_five_datasets():
    assert list_hetero_datasets() == ["acm", "dblp", "imdb", "aminer", "freebase"]
    assert hetero_dataset_info(" ACM ") is HETERO_DATASET_INFO["acm"]
    for name, exp in EXPECTED.items():
        info = hetero_dataset_info(name)
        assert info.target == exp["target"] and info.node_types == exp["nodes"]
        assert list(info.node_types)[0] == info.target
        assert info.num_classes == len(exp["classes"])
        assert list(info.metapaths) == exp["metapaths"]
        assert info.as_dict()["name"] == name
    assert hetero_dataset_info("aminer").default_features == "heco"
    assert hetero_dataset_info("acm").default_features == "meow"


@pytest.mark.parametrize("bad", ["pubmed", "", 3])
def test_unknown_name_lists_known_names(bad):
    with pytest.raises(GraphclInputError) as err:
        load_hetero_dataset(bad)
    if isinstance(bad, str):
        assert all(n in str(err.value) for n in NAMES)


# ------------------------------------------------------------------------------------------
# Loaded graphs
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_node_and_edge_counts_both_directions(loaded, name):
    data, exp = loaded(name), EXPECTED[name]
    data.validate()
    assert data.name == name and data.target_node_type == exp["target"]
    assert {t: data[t].num_nodes for t in data.node_types} == exp["nodes"]
    assert len(data.edge_types) == 2 * len(exp["edges"])
    for (s, d), e in exp["edges"].items():
        fwd, rev = data[s, "to", d].edge_index, data[d, "to", s].edge_index
        for ei, (a, b) in ((fwd, (s, d)), (rev, (d, s))):
            assert ei.dtype == torch.int64 and tuple(ei.shape) == (2, e)
            assert int(ei[0].max()) < exp["nodes"][a] and int(ei[1].max()) < exp["nodes"][b]
            key = ei[0] * exp["nodes"][b] + ei[1]
            assert bool((key[1:] > key[:-1]).all()), "sorted by (src, dst), no duplicates"
        # the reverse relation is exactly the flipped forward one
        fkey = set((fwd[1] * exp["nodes"][s] + fwd[0]).tolist())
        assert fkey == set((rev[0] * exp["nodes"][s] + rev[1]).tolist())


@pytest.mark.parametrize("name", NAMES)
def test_default_features_and_featureless_types(loaded, name):
    data, exp = loaded(name), EXPECTED[name]
    dims = exp["x"]["meow"] if exp["x"]["meow"] is not None else exp["x"]["heco"]
    for t in data.node_types:
        if t in dims:
            x = data[t].x
            assert x.dtype == torch.float32 and tuple(x.shape) == (exp["nodes"][t], dims[t])
            assert not x.is_sparse and bool(torch.isfinite(x).all())
        else:
            assert "x" not in data[t], f"featureless type {t} must have no x"


@pytest.mark.parametrize("name", ["acm", "dblp", "imdb"])
def test_heco_features_are_the_target_only(name):
    data = load_hetero_dataset(name, features="heco")
    exp = EXPECTED[name]
    featured = {t for t in data.node_types if "x" in data[t]}
    assert featured == set(exp["x"]["heco"]) == {exp["target"]}


def test_row_normalisation_as_the_reference():
    data = load_hetero_dataset("dblp")
    for t in ("author", "paper"):
        s = data[t].x.double().sum(1)
        assert bool(((s - 1).abs() < 1e-5).logical_or(s == 0).all())
    assert int((data["author"].x.sum(1) == 0).sum()) == 39  # zero rows stay zero
    # term vectors are used as stored (not normalised)
    raw = np.load(hetero_file("dblp", "t_feat.npz"), allow_pickle=False)
    assert torch.equal(data["term"].x, torch.from_numpy(raw.astype(np.float32)))
    # ACM a_feat stores raw sums (row sums = number of papers): the loader normalises them
    acm = load_hetero_dataset("acm")
    raw_a = sp.load_npz(hetero_file("acm", "a_feat.npz")).tocsr()
    expected = raw_a.multiply(1.0 / raw_a.sum(1)).toarray().astype(np.float32)
    assert torch.allclose(acm["author"].x, torch.from_numpy(expected), atol=1e-7)


@pytest.mark.parametrize("name", ["aminer", "freebase"])
def test_meow_features_unavailable(name):
    with pytest.raises(GraphclInputError, match="features='meow'.*not available"):
        load_hetero_dataset(name, features="meow")
    with pytest.raises(GraphclInputError, match="features must be one of"):
        load_hetero_dataset(name, features="onehot")


@pytest.mark.parametrize("name", NAMES)
def test_labels_and_split_masks(loaded, name):
    data, exp = loaded(name), EXPECTED[name]
    target = data[exp["target"]]
    c = len(exp["classes"])
    assert data.num_classes == c
    assert target.y.dtype == torch.int64 and int(target.y.min()) == 0
    assert torch.bincount(target.y, minlength=c).tolist() == exp["classes"]
    for r in (20, 40, 60):
        masks = [target[f"{s}_mask_{r}"] for s in ("train", "val", "test")]
        n = exp["nodes"][exp["target"]]
        assert all(m.dtype == torch.bool and m.numel() == n for m in masks)
        train, val, test = masks
        per_class = IMDB_TRAIN_UNIQUE.get(r, [r] * c) if name == "imdb" else [r] * c
        assert torch.bincount(target.y[train], minlength=c).tolist() == per_class
        assert int(val.sum()) == 1000 and int(test.sum()) == 1000
        assert not bool((train & val).any() or (train & test).any() or (val & test).any())


@pytest.mark.parametrize("name", NAMES)
def test_metapaths_attribute(loaded, name):
    data, exp = loaded(name), EXPECTED[name]
    assert list(data.metapaths) == exp["metapaths"]
    for mp, steps in data.metapaths.items():
        assert len(steps) == len(mp) - 1
        assert steps[0][0] == steps[-1][2] == exp["target"]
        assert all(tuple(s) in data.edge_types for s in steps)
        assert all(a[2] == b[0] for a, b in zip(steps[:-1], steps[1:]))


def test_imdb_labels_are_shifted_from_one():
    raw = np.load(hetero_file("imdb", "labels.npy"))
    assert raw.min() == 1 and raw.max() == 3
    assert torch.equal(load_hetero_dataset("imdb")["movie"].y, torch.from_numpy(raw - 1))


# ------------------------------------------------------------------------------------------
# Shipped files, checksums, dedup rule
# ------------------------------------------------------------------------------------------


def _shipped() -> list[str]:
    folders = [d for d in DATA.iterdir() if d.is_dir() and d.name.startswith(("meow_", "heco_"))]
    return sorted(str(f.relative_to(DATA)) for d in folders for f in d.iterdir())


def test_checksums_and_manifest_cover_every_shipped_file():
    table = json.loads((DATA / "checksums.json").read_text())
    shipped = _shipped()
    assert shipped == sorted(k for k in table if k.startswith(("meow_", "heco_")))
    manifest = (DATA / "MANIFEST.md").read_text()
    for rel in shipped:
        assert f"`{rel}`" in manifest and table[rel] in manifest
    # every file a loader reads is shipped, for both feature sources
    for info in HETERO_DATASET_INFO.values():
        for src in info.features:
            for f in info.files(src):
                assert hetero_file(info.name, f, src if src in info.sources else None).is_file()


def test_dedup_rule_each_byte_identical_file_once():
    shipped = _shipped()
    assert not [r for r in shipped if r.endswith("pos.npz") or "/nei_" in r and r.endswith(".npy")]
    for rel in shipped:
        folder, fname = rel.split("/")
        if folder.startswith("heco_"):
            twin = DATA / folder.replace("heco_", "meow_") / fname
            assert not twin.is_file() or twin.read_bytes() != (DATA / rel).read_bytes(), rel
    assert sum((DATA / r).stat().st_size for r in shipped) < 16 * 2**20
    # HeCo lookups: own folder first, then the MEOW twin
    assert hetero_file("acm", "pap.npz", "heco").parent.name == "heco_acm"
    assert hetero_file("acm", "pap.npz").parent.name == "meow_acm"
    assert hetero_file("acm", "p_feat.npz", "heco").parent.name == "meow_acm"
    assert hetero_file("aminer", "pap.npz", "heco").parent.name == "meow_aminer"
    assert hetero_file("freebase", "mam.npz").parent.name == "heco_freebase"
    with pytest.raises(GraphclInputError, match="not part of the MEOW release"):
        hetero_file("freebase", "mam.npz", "meow")
    with pytest.raises(GraphclInputError, match="missing file"):
        hetero_file("dblp", "aptpa.npz", "heco")


def test_heco_folder_in_a_root_takes_precedence(tmp_path):
    _copy("meow_acm", tmp_path)
    (tmp_path / "heco_acm").mkdir()
    shutil.copy(DATA / "heco_acm" / "pap.npz", tmp_path / "heco_acm" / "pap.npz")
    assert hetero_file("acm", "pap.npz", "heco", root=tmp_path) == tmp_path / "heco_acm" / "pap.npz"
    assert hetero_file("acm", "pa.txt", "heco", root=tmp_path) == tmp_path / "meow_acm" / "pa.txt"


# ------------------------------------------------------------------------------------------
# Errors naming the file
# ------------------------------------------------------------------------------------------


def test_unaltered_copy_loads_with_verification(tmp_path):
    _copy("meow_imdb", tmp_path)
    data = load_hetero_dataset("imdb", root=tmp_path)
    assert data["movie"].num_nodes == 4275


def test_missing_file_is_named(tmp_path):
    folder = _copy("meow_acm", tmp_path)
    (folder / "ps.txt").unlink()
    with pytest.raises(GraphclInputError, match=r"missing file .*meow_acm/ps\.txt"):
        load_hetero_dataset("acm", root=tmp_path)


def test_checksum_mismatch_is_named(tmp_path):
    folder = _copy("meow_acm", tmp_path)
    with open(folder / "pa.txt", "a") as f:
        f.write("0\t0\n")
    with pytest.raises(GraphclInputError, match=r"checksum mismatch for .*pa\.txt"):
        load_hetero_dataset("acm", root=tmp_path)


def test_out_of_range_id_names_file_and_line(tmp_path):
    folder = _copy("meow_imdb", tmp_path)
    lines = (folder / "md.txt").read_text().splitlines()
    lines[4] = "4275\t0"  # movie id == number of movies
    (folder / "md.txt").write_text("\n".join(lines) + "\n")
    match = r"md\.txt, line 5: id 4275 in column 1 .*\[0, 4275\)"
    with pytest.raises(GraphclInputError, match=match):
        load_hetero_dataset("imdb", root=tmp_path, verify=False)
    lines[4] = "0\t-1"
    (folder / "md.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(GraphclInputError, match=r"md\.txt, line 5: id -1 in column 2"):
        load_hetero_dataset("imdb", root=tmp_path, verify=False)


@pytest.mark.parametrize(
    "fname, payload, match",
    [
        ("labels.npy", np.ones(100, dtype=np.int64), r"labels\.npy: 100 labels, expected 4275"),
        ("labels.npy", np.zeros(4275, dtype=np.int64), r"labels\.npy: labels span \[0, 0\]"),
        ("m_feat.npz", sp.csr_matrix(np.ones((7, 3))), r"m_feat\.npz: 7 feature rows, expected"),
        ("m_feat.npz", b"not a zip file", r"cannot parse .*m_feat\.npz"),
        ("ma.txt", b"1 2 3\n4 5 6\n", r"ma\.txt: expected two node ids per line"),
        ("ma.txt", b"1 2\n4\n", r"cannot parse .*ma\.txt"),
        ("test_20.npy", np.array([0, 99999]), r"test_20\.npy: node index out of range"),
        ("val_40.npy", np.ones((2, 2), dtype=np.int64), r"val_40\.npy: expected a 1-D array"),
    ],
)
def test_wrong_shape_or_corrupted_file_is_named(tmp_path, fname, payload, match):
    folder = _copy("meow_imdb", tmp_path)
    path = folder / fname
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    elif sp.issparse(payload):
        sp.save_npz(path, payload)
    else:
        with open(path, "wb") as f:
            np.save(f, payload)
    with pytest.raises(GraphclInputError, match=match):
        load_hetero_dataset("imdb", root=tmp_path, verify=False)
