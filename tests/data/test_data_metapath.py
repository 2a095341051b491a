"""Tests for graphcl.data.metapath: meta-path adjacency, PathSim top-k, meta-path contexts.

Acceptance: the matrices rebuilt from the relation files equal the shipped meta-path files
exactly (MEOW's path counts; HeCo's booleans) and MEOW's context incidences ``nei_*.npz``
(``meow.md`` §1.3, §1.4). PathSim top-k and the small-graph products are compared with dense
references written here from the formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import HeteroData

from graphcl import GraphclInputError
from graphcl.data import (
    hetero_file,
    load_hetero_dataset,
    metapath_adjacency,
    metapath_contexts,
    pathsim_topk,
)


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.delenv("GRAPHCL_DATA", raising=False)


@pytest.fixture(scope="module")
def graphs():
    """Each dataset loaded once (HeCo features: the structure is the same, less memory)."""
    cache: dict = {}

    def get(name):
        if name not in cache:
            cache[name] = load_hetero_dataset(name, features="heco")
        return cache[name]

    return get


def _as_csr(edge_index: torch.Tensor, values: torch.Tensor, shape) -> sp.csr_matrix:
    ei = edge_index.numpy()
    return sp.csr_matrix((values.numpy(), (ei[0], ei[1])), shape=shape)


def _assert_same_matrix(edge_index, values, shipped, binary: bool):
    """Same sparsity pattern, same (integral) values, and (row, col)-sorted output."""
    ref = sp.csr_matrix(shipped)
    ref.sum_duplicates()
    ref.eliminate_zeros()
    ref.sort_indices()
    assert edge_index.dtype == torch.int64 and values.dtype == torch.int64
    assert edge_index.size(1) == ref.nnz
    key = edge_index[0] * ref.shape[1] + edge_index[1]
    assert bool((key[1:] > key[:-1]).all())
    rows = np.repeat(np.arange(ref.shape[0]), np.diff(ref.indptr))
    assert np.array_equal(edge_index[0].numpy(), rows)
    assert np.array_equal(edge_index[1].numpy(), ref.indices)
    ref_vals = ref.data.astype(np.float64)
    assert np.array_equal(ref_vals, np.round(ref_vals))
    if binary:
        assert ref.dtype == np.bool_ and bool((values == 1).all())
    else:
        assert np.array_equal(values.numpy(), ref_vals.astype(np.int64))


# ------------------------------------------------------------------------------------------
# Acceptance: shipped meta-path files
# ------------------------------------------------------------------------------------------

# (dataset, meta-path, file, expected nnz), MEOW's float path-count files
COUNT_FILES = [
    ("acm", "PAP", "pap.npz", 57853),
    ("acm", "PSP", "psp.npz", 4338213),
    ("dblp", "APA", "apa.npz", 11113),
    ("imdb", "MAM", "mam.npz", 81360),
    ("imdb", "MDM", "mdm.npz", 16498),
    ("imdb", "MKM", "mkm.npz", 319435),
]
# HeCo's boolean files (AMiner's are also MEOW's: the same bytes)
BOOL_FILES = [
    ("acm", "PAP", "pap.npz", 57853),
    ("acm", "PSP", "psp.npz", 4338213),
    ("dblp", "APA", "apa.npz", 11113),
    ("dblp", "APCPA", "apcpa.npz", 5000495),
    ("aminer", "PAP", "pap.npz", 21976),
    ("aminer", "PRP", "prp.npz", 129824),
    ("freebase", "MAM", "mam.npz", 254702),
    ("freebase", "MDM", "mdm.npz", 8404),
    ("freebase", "MWM", "mwm.npz", 10706),
]


@pytest.mark.parametrize("name, mp, fname, nnz", COUNT_FILES)
def test_path_counts_equal_meow_files(graphs, name, mp, fname, nnz):
    edge_index, counts = metapath_adjacency(graphs(name), mp)
    assert edge_index.size(1) == nnz
    shipped = sp.load_npz(hetero_file(name, fname, "meow"))
    assert shipped.dtype == np.float64
    _assert_same_matrix(edge_index, counts, shipped, binary=False)


@pytest.mark.parametrize("name, mp, fname, nnz", BOOL_FILES)
def test_boolean_patterns_equal_heco_files(graphs, name, mp, fname, nnz):
    edge_index, ones = metapath_adjacency(graphs(name), mp, binary=True)
    assert edge_index.size(1) == nnz
    shipped = sp.load_npz(hetero_file(name, fname, "heco"))
    _assert_same_matrix(edge_index, ones, shipped, binary=True)


def test_dblp_aptpa_and_apcpa_counts(graphs):
    data = graphs("dblp")
    ei, counts = metapath_adjacency(data, "APTPA")
    assert ei.size(1) == 7043571  # HeCo's missing aptpa.npz, rebuilt (shared MANIFEST)
    ei_b, _ = metapath_adjacency(data, "APTPA", binary=True)
    assert torch.equal(ei, ei_b)  # bool at each step = support of the counts
    ei, counts = metapath_adjacency(data, "APCPA")
    assert ei.size(1) == 5000495 and int(counts.max()) == 4124
    # diagonal = number of (paper, conference) paths back to oneself = Σ_c (#papers of a in c)·n_c
    diag = counts[ei[0] == ei[1]]
    assert diag.numel() == 4057 and int(diag.min()) >= 1


# ------------------------------------------------------------------------------------------
# Acceptance: MEOW's context incidences nei_*.npz
# ------------------------------------------------------------------------------------------

# (dataset, meta-path, files of the context positions; None = not shipped, nnz given instead)
CONTEXTS = [
    ("acm", "PAP", ["nei_a.npz"], ["author"]),
    ("acm", "PSP", ["nei_s.npz"], ["subject"]),
    ("imdb", "MAM", ["nei_a.npz"], ["actor"]),
    ("imdb", "MDM", ["nei_d.npz"], ["director"]),
    ("imdb", "MKM", ["nei_k.npz"], ["keyword"]),
    ("aminer", "PAP", ["nei_a.npz"], ["author"]),
    ("aminer", "PRP", ["nei_r.npz"], ["reference"]),
    ("dblp", "APA", ["nei_ap.npz"], ["paper"]),
    ("dblp", "APCPA", ["nei_ap.npz", "nei_apc.npz", 10165000], ["paper", "conference", "paper"]),
    ("dblp", "APTPA", ["nei_ap.npz", "nei_apt.npz", 13414703], ["paper", "term", "paper"]),
]


@pytest.mark.parametrize("name, mp, files, types", CONTEXTS)
def test_contexts_equal_meow_nei_files(graphs, name, mp, files, types):
    data = graphs(name)
    contexts = metapath_contexts(data, mp)
    assert [t for _, t in contexts] == types
    for (edge_index, _), f in zip(contexts, files):
        if isinstance(f, int):  # nei_apcp / nei_aptp are absent from the snapshot
            assert edge_index.dtype == torch.int64 and edge_index.size(1) == f
            continue
        _assert_same_matrix(
            edge_index, torch.ones(edge_index.size(1), dtype=torch.int64),
            sp.load_npz(hetero_file(name, f)), binary=False,
        )


def test_dblp_apcp_is_the_disjoint_union_of_conference_papers(graphs):
    """Each paper has one conference: |APCP(a)| = Σ_{c ∈ APC(a)} n_c (meow.md §8)."""
    data = graphs("dblp")
    (_, _), (apc, _), (apcp, _) = metapath_contexts(data, "APCPA")
    n_c = torch.bincount(data["paper", "to", "conference"].edge_index[1], minlength=20)
    per_author = torch.zeros(4057, dtype=torch.int64).index_add_(0, apc[0], n_c[apc[1]])
    assert torch.equal(torch.bincount(apcp[0], minlength=4057), per_author)


# ------------------------------------------------------------------------------------------
# Tiny hand-built graph: dense references
# ------------------------------------------------------------------------------------------


def _tiny() -> tuple[HeteroData, dict[str, np.ndarray]]:
    data = HeteroData()
    data["a"].num_nodes, data["b"].num_nodes, data["c"].num_nodes = 3, 4, 2
    ab = torch.tensor([[0, 0, 1, 2, 2, 2, 0], [0, 1, 1, 1, 2, 3, 0]])  # (0, 0) listed twice
    bc = torch.tensor([[0, 1, 2, 3], [0, 0, 1, 1]])
    data["a", "to", "b"].edge_index = ab
    data["b", "to", "a"].edge_index = ab.flip(0)
    data["b", "to", "c"].edge_index = bc
    data["c", "to", "b"].edge_index = bc.flip(0)
    dense = {}
    for key, ei, shape in (("ab", ab, (3, 4)), ("bc", bc, (4, 2))):
        m = np.zeros(shape, dtype=np.int64)
        m[ei[0].numpy(), ei[1].numpy()] = 1  # incidence: the duplicate counts once
        dense[key] = m
    data.metapaths = {
        "ABA": [("a", "to", "b"), ("b", "to", "a")],
        "ABCBA": [("a", "to", "b"), ("b", "to", "c"), ("c", "to", "b"), ("b", "to", "a")],
    }
    return data, dense


def _dense(edge_index, values, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    out[edge_index[0].numpy(), edge_index[1].numpy()] = values.numpy()
    return out


def test_tiny_adjacency_equals_dense_products():
    data, d = _tiny()
    ab, bc = d["ab"], d["bc"]
    for mp, ref in (("ABA", ab @ ab.T), ("ABCBA", ab @ bc @ bc.T @ ab.T)):
        ei, counts = metapath_adjacency(data, mp)
        assert np.array_equal(_dense(ei, counts, (3, 3)), ref)
        ei, ones = metapath_adjacency(data, data.metapaths[mp], binary=True)
        assert np.array_equal(_dense(ei, ones, (3, 3)), (ref > 0).astype(np.int64))
    # a non-symmetric path, and a single step
    ei, counts = metapath_adjacency(data, [("a", "to", "b"), ("b", "to", "c")])
    assert np.array_equal(_dense(ei, counts, (3, 2)), ab @ bc)
    ei, counts = metapath_adjacency(data, [("b", "to", "c")])
    assert np.array_equal(_dense(ei, counts, (4, 2)), bc)


def test_tiny_contexts_equal_dense_prefixes():
    data, d = _tiny()
    ab, bc = d["ab"], d["bc"]
    contexts = metapath_contexts(data, "ABCBA")
    refs = [ab, ab @ bc, ab @ bc @ bc.T]
    assert [t for _, t in contexts] == ["b", "c", "b"]
    for (ei, t), ref in zip(contexts, refs):
        shape = (3, data[t].num_nodes)
        ones = torch.ones(ei.size(1), dtype=torch.int64)
        assert np.array_equal(_dense(ei, ones, shape), (ref > 0) * 1)
    assert metapath_contexts(data, [("a", "to", "b")]) == []


def test_metapaths_survive_to_device():
    """PyG's data.to() turns the edge-type tuples into lists; both forms are accepted."""
    data, _ = _tiny()
    moved = data.to("cpu")
    assert isinstance(moved.metapaths["ABA"][0], list)
    a, b = metapath_adjacency(moved, "ABCBA"), metapath_adjacency(data, "ABCBA")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize(
    "metapath, match",
    [
        ("XYZ", "unknown meta-path 'XYZ'"),
        ([("a", "to", "b"), ("a", "to", "b")], "not a chain"),
        ([("a", "to", "c")], "not an edge type of the graph"),
        ([], "at least one edge type"),
        ([("a", "b")], "not an edge type"),
    ],
)
def test_bad_metapaths_raise(metapath, match):
    data, _ = _tiny()
    with pytest.raises(GraphclInputError, match=match):
        metapath_adjacency(data, metapath)
    with pytest.raises(GraphclInputError, match=match):
        metapath_contexts(data, metapath)


# ------------------------------------------------------------------------------------------
# PathSim top-k against a dense brute force
# ------------------------------------------------------------------------------------------


def _brute_pathsim_topk(a: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Dense reference of the documented rule: per row, sort non-zeros by (-ps, key)."""
    nz = np.argwhere(a != 0)  # row-major = (row, col) order
    key = np.full(a.shape, -1, dtype=np.int64)
    key[nz[:, 0], nz[:, 1]] = torch.randperm(
        len(nz), generator=torch.Generator().manual_seed(seed)
    ).numpy()
    out = np.zeros_like(a)
    for i in range(a.shape[0]):
        cands = [j for j in range(a.shape[1]) if a[i, j] != 0]

        def ps(j):
            denom = float(a[i, i] + a[j, j])
            return 2.0 * float(a[i, j]) / denom if denom > 0 else 0.0

        for j in sorted(cands, key=lambda j: (-ps(j), key[i, j]))[:k]:
            out[i, j] = a[i, j]
    return out


def _random_counts(rng: np.random.Generator, n: int, m: int, p: float) -> np.ndarray:
    b = (rng.random((n, m)) < p).astype(np.int64)
    return b @ b.T  # a genuine path-count matrix (symmetric, diagonal = degree)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 100])
@pytest.mark.parametrize("seed", [0, 7])
def test_pathsim_topk_equals_dense_brute_force(k, seed):
    rng = np.random.default_rng(seed)
    a = _random_counts(rng, 25, 6, 0.4)  # few intermediate nodes: many equal ps (ties)
    a[3] = a[:, 3] = 0  # an isolated row
    ei = torch.from_numpy(np.argwhere(a != 0).T.copy())
    counts = torch.from_numpy(a[a != 0])
    perm = torch.from_numpy(rng.permutation(ei.size(1)))
    out_ei, out_counts = pathsim_topk(ei[:, perm], counts[perm], 25, k, seed=seed)
    ref = _brute_pathsim_topk(a, k, seed)
    assert np.array_equal(_dense(out_ei, out_counts, a.shape), ref)
    kept = torch.bincount(out_ei[0], minlength=25)
    assert torch.equal(kept, torch.clamp(torch.bincount(ei[0], minlength=25), max=k))
    key = out_ei[0] * 25 + out_ei[1]
    assert bool((key[1:] > key[:-1]).all())


def test_pathsim_ties_are_seeded_and_input_order_free():
    a = np.ones((30, 30), dtype=np.int64)  # every ps = 1: the cut is decided by the key alone
    ei = torch.from_numpy(np.argwhere(a != 0).T.copy())
    counts = torch.ones(ei.size(1), dtype=torch.int64)
    r0 = pathsim_topk(ei, counts, 30, 4, seed=0)
    assert torch.equal(r0[0], pathsim_topk(ei.flip(1), counts, 30, 4, seed=0)[0])
    assert not torch.equal(r0[0], pathsim_topk(ei, counts, 30, 4, seed=1)[0])
    assert np.array_equal(_dense(*r0, a.shape), _brute_pathsim_topk(a, 4, 0))


def test_pathsim_missing_diagonal_and_float_counts():
    a = np.array([[0, 2, 1, 0], [2, 3, 0, 1], [1, 0, 0, 0], [0, 1, 0, 1]], dtype=np.int64)
    ei = torch.from_numpy(np.argwhere(a != 0).T.copy())
    vals = torch.from_numpy(a[a != 0]).to(torch.float32)
    out_ei, out_vals = pathsim_topk(ei, vals, 4, 1, seed=3)
    assert out_vals.dtype == torch.float32
    assert np.array_equal(_dense(out_ei, out_vals.long(), a.shape), _brute_pathsim_topk(a, 1, 3))


def test_pathsim_on_acm_psp_keeps_k_per_row(graphs):
    ei, counts = metapath_adjacency(graphs("acm"), "PSP")
    out_ei, out_counts = pathsim_topk(ei, counts, 4019, 700, seed=0)
    deg = torch.bincount(out_ei[0], minlength=4019)
    assert torch.equal(deg, torch.clamp(torch.bincount(ei[0], minlength=4019), max=700))
    assert bool((out_counts == 1).all())  # every PSP entry (and so every ps) is 1: all ties
    assert round(out_ei.size(1) / 4019) == 534  # meow.md §2.1: mean degree 1079 -> 534


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(k=0), "k must be a positive integer"),
        (dict(k=2.5), "k must be a positive integer"),
        (dict(counts=torch.ones(3, dtype=torch.int64)), "counts must have shape"),
        (dict(edge_index=torch.tensor([[0, 0], [1, 1]])), "duplicate entries"),
        (dict(edge_index=torch.tensor([[0, 9], [1, 1]])), r"outside \[0, 4\)"),
        (dict(counts=torch.tensor([1, -1])), "non-negative"),
    ],
)
def test_pathsim_bad_input_raises(args, match):
    kw = dict(
        edge_index=torch.tensor([[0, 1], [1, 0]]), counts=torch.tensor([1, 1]), num_nodes=4, k=1
    )
    kw.update(args)
    with pytest.raises(GraphclInputError, match=match):
        pathsim_topk(**kw)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_inputs_give_the_cpu_results_on_cuda():
    data, _ = _tiny()
    cuda = data.to("cuda")
    ei, counts = metapath_adjacency(cuda, "ABCBA")
    assert ei.is_cuda and counts.is_cuda
    ref_ei, ref_counts = metapath_adjacency(data, "ABCBA")
    assert torch.equal(ei.cpu(), ref_ei) and torch.equal(counts.cpu(), ref_counts)
    assert all(c.is_cuda for c, _ in metapath_contexts(cuda, "ABCBA"))
    a = _random_counts(np.random.default_rng(1), 25, 6, 0.4)
    ei = torch.from_numpy(np.argwhere(a != 0).T.copy())
    counts = torch.from_numpy(a[a != 0])
    out = pathsim_topk(ei.cuda(), counts.cuda(), 25, 3, seed=2)
    ref = pathsim_topk(ei, counts, 25, 3, seed=2)
    assert out[0].is_cuda and torch.equal(out[0].cpu(), ref[0]) and torch.equal(out[1].cpu(), ref[1])


def _reference_pathsim(a: np.ndarray, max_nei: int):
    """MEOW's code_meow/module/preprocess.py pathsim(), transcribed for one dense count matrix."""
    value = []
    x, y = a.nonzero()
    for i, j in zip(x, y):
        value.append(2 * a[i, j] / (a[i, i] + a[j, j]))
    pathsim_matrix = sp.coo_matrix((value, (x, y)), shape=a.shape).toarray()
    idx_x = np.array([np.ones(max_nei) * i for i in range(a.shape[0])], dtype=np.int32).flatten()
    idx_y = np.sort(np.argsort(pathsim_matrix, axis=1)[:, ::-1][:, 0:max_nei]).flatten()
    new = np.int32(np.array([a[i, j] for i, j in zip(idx_x, idx_y)]))
    adj = sp.coo_matrix((new, (idx_x, idx_y)), shape=a.shape).tocsr()
    adj.eliminate_zeros()
    return adj


@pytest.mark.parametrize("k", [1, 3, 7])
def test_pathsim_topk_numpy_ties_reproduce_the_reference_exactly(k):
    rng = np.random.default_rng(k)
    n = 600  # > one block of 256 rows
    b = (rng.random((n, 40)) < 0.05).astype(np.int64)  # a boolean paper-subject-like relation: many ties
    a = b @ b.T
    rows, cols = a.nonzero()
    ei = torch.from_numpy(np.stack([rows, cols]))
    counts = torch.from_numpy(a[rows, cols])
    got_ei, got_val = pathsim_topk(ei, counts, n, k, ties="numpy")
    ref = _reference_pathsim(a, k).tocoo()
    order = np.lexsort((ref.col, ref.row))
    assert torch.equal(got_ei, torch.from_numpy(np.stack([ref.row[order], ref.col[order]]).astype(np.int64)))
    assert torch.equal(got_val, torch.from_numpy(ref.data[order].astype(np.int64)))
    seeded_ei, _ = pathsim_topk(ei, counts, n, k, seed=0)
    assert seeded_ei.size(1) == got_ei.size(1)  # same number kept per row; ties may pick others
    with pytest.raises(GraphclInputError, match="ties"):
        pathsim_topk(ei, counts, n, k, ties="stable")
