"""OGB loader: a tiny dataset written in OGB's on-disk formats, first and cached loads, stdin closed."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from graphcl import GraphclInputError
from graphcl.data import load_ogb

pytest.importorskip("ogb", reason="the ogb extra is installed by `make test`")
ROOT = Path(__file__).resolve().parents[2]
N, D, E, C = 30, 5, 80, 4


def arrays(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D)).astype(np.float32)
    ei = rng.integers(0, N, size=(2, E))
    y = rng.integers(0, C, size=N)
    return x, ei, y


def write_csv(path: Path, rows) -> None:
    with gzip.open(path, "wt") as fh:
        for row in rows:
            fh.write(",".join(str(v) for v in np.atleast_1d(row)) + "\n")


def write_split(folder: Path, split: str) -> None:
    s = folder / "split" / split
    s.mkdir(parents=True)
    perm = np.random.default_rng(1).permutation(N)
    for key, idx in (("train", perm[:10]), ("valid", perm[10:20]), ("test", perm[20:])):
        write_csv(s / f"{key}.csv.gz", idx)


def write_arxiv_like(root: Path):
    folder = root / "ogbn_arxiv"
    raw = folder / "raw"
    raw.mkdir(parents=True)
    x, ei, y = arrays()
    write_csv(raw / "edge.csv.gz", ei.T)
    write_csv(raw / "node-feat.csv.gz", x)
    write_csv(raw / "node-label.csv.gz", y)
    write_csv(raw / "num-node-list.csv.gz", [N])
    write_csv(raw / "num-edge-list.csv.gz", [E])
    write_split(folder, "time")  # no RELEASE_v*.txt on purpose: ogb's classes would call input()
    return x, ei, y


def write_papers_like(root: Path):
    folder = root / "ogbn_papers100M"
    raw = folder / "raw"
    raw.mkdir(parents=True)
    x, ei, y = arrays(2)
    yf = y.astype(np.float64)
    yf[::7] = np.nan  # unlabelled nodes
    np.savez_compressed(raw / "data.npz", node_feat=x, edge_index=ei, num_nodes_list=np.array([N]),
                        num_edges_list=np.array([E]))
    np.savez_compressed(raw / "node-label.npz", node_label=yf.reshape(-1, 1))
    write_split(folder, "time")
    return x, ei, np.where(np.isnan(yf), -1, yf).astype(np.int64)


LOAD = """
import json, sys, torch
from graphcl.data import load_ogb
d = load_ogb(sys.argv[1], root=sys.argv[2])
print(json.dumps({"x": d.x.sum().item(), "e": d.edge_index.tolist(), "y": d.y.tolist(),
                  "train": d.split_idx["train"].tolist(), "k": d.num_classes}))
"""


@pytest.mark.parametrize("name,writer", [("ogbn-arxiv", write_arxiv_like), ("ogbn-papers100M", write_papers_like)])
def test_first_and_cached_load_with_stdin_closed(tmp_path, name, writer):
    x, ei, y = writer(tmp_path)
    outs = []
    for _ in range(2):  # conversion, then the memory-mapped cache
        proc = subprocess.run([sys.executable, "-c", LOAD, name, str(tmp_path)], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert outs[0] == outs[1]
    assert outs[0]["e"] == ei.tolist() and outs[0]["y"] == y.tolist()
    assert outs[0]["x"] == pytest.approx(float(x.sum()), rel=1e-5)
    assert len(outs[0]["train"]) == 10 and outs[0]["k"] == int(y.max()) + 1
    assert (tmp_path / name.replace("-", "_") / "graphcl_cache" / "x.npy").is_file()


def test_loaded_graph_is_memory_mapped_and_in_memory_copy_is_equal(tmp_path):
    write_arxiv_like(tmp_path)
    mapped = load_ogb("ogbn-arxiv", root=tmp_path)
    copied = load_ogb("ogbn-arxiv", root=tmp_path, in_memory=True)
    assert torch.equal(mapped.x, copied.x) and torch.equal(mapped.edge_index, copied.edge_index)
    assert mapped.x.dtype == torch.float32 and mapped.edge_index.dtype == torch.long


def test_missing_dataset_says_where_to_put_it(tmp_path, monkeypatch):
    with pytest.raises(GraphclInputError, match=r"ogbn_products.*never downloads"):
        load_ogb("ogbn-products", root=tmp_path)
    with pytest.raises(GraphclInputError, match="unknown OGB dataset.*ogbn-arxiv"):
        load_ogb("ogbn-nope", root=tmp_path)


def test_missing_raw_file_is_named(tmp_path):
    write_arxiv_like(tmp_path)
    (tmp_path / "ogbn_arxiv" / "raw" / "node-label.csv.gz").unlink()
    with pytest.raises(GraphclInputError, match="node-label.csv.gz"):
        load_ogb("ogbn-arxiv", root=tmp_path)


def test_in_memory_load_refuses_when_memory_is_short(tmp_path, monkeypatch):
    import graphcl.data.ogb as ogb_mod

    write_arxiv_like(tmp_path)
    monkeypatch.setattr(ogb_mod, "_available_memory_bytes", lambda: 10)
    with pytest.raises(GraphclInputError, match="GiB in memory"):
        load_ogb("ogbn-arxiv", root=tmp_path, in_memory=True)
