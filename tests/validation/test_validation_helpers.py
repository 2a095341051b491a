"""The shared argument checks of graphcl.validation, and their use by public functions: NumPy
integers are accepted everywhere as Python integers; bools, floats and strings are refused with a
message that names the argument."""

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from graphcl import GraphclInputError
from graphcl.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_positive,
    check_writable_dir,
    check_writable_file,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def permission_bits(monkeypatch):
    """Root's ``os.access`` ignores permission bits (root may write anywhere): as root, make it
    honour the owner's write bit, which is what any other user meets, so these tests run (and
    can fail) everywhere instead of skipping."""
    if IS_ROOT:
        real = os.access

        def access(path, mode, *args, **kwargs):
            if mode & os.W_OK and os.path.exists(path) and not os.stat(path).st_mode & 0o200:
                return False
            return real(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)


needs_non_root = pytest.mark.usefixtures("permission_bits")

# ------------------------------------------------------------------------------------------
# check_int
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3), np.int16(3)])
def test_check_int_accepts_python_and_numpy_integers_as_int(value):
    out = check_int(value, "n")
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, np.float64(3.0), "3", None, [3], torch.tensor(3)])
def test_check_int_refuses_non_integers_naming_the_argument(value):
    with pytest.raises(GraphclInputError, match=r"^n_widgets must be a positive integer, got "):
        check_int(value, "n_widgets")


@pytest.mark.parametrize(
    "value, kwargs, ok, wording",
    [
        (0, {}, False, "a positive integer"),
        (1, {}, True, None),
        (0, {"minimum": 0}, True, None),
        (-1, {"minimum": 0}, False, "a non-negative integer"),
        (1, {"minimum": 2}, False, "an integer >= 2"),
        (-(2**70), {"minimum": None}, True, None),
        (5, {"minimum": 1, "maximum": 4}, False, r"an integer in \[1, 4\]"),
        (4, {"minimum": 1, "maximum": 4}, True, None),
        (np.int64(5), {"minimum": None, "maximum": 4}, False, "an integer <= 4"),
        (None, {"allow_none": True}, True, None),
        ("x", {"allow_none": True}, False, "None or a positive integer"),
    ],
)
def test_check_int_ranges(value, kwargs, ok, wording):
    if ok:
        assert check_int(value, "k", **kwargs) == value
    else:
        with pytest.raises(GraphclInputError, match=rf"k must be {wording}, got"):
            check_int(value, "k", **kwargs)


# ------------------------------------------------------------------------------------------
# check_float
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.5, np.float32(0.5), np.float64(0.5), 1, np.int64(1)])
def test_check_float_accepts_reals_as_float(value):
    out = check_float(value, "p")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize(
    "value, lo, hi, lo_inc, hi_inc, ok",
    [
        (0.0, 0, 1, True, True, True),
        (1.0, 0, 1, True, True, True),
        (0.0, 0, 1, False, True, False),
        (1.0, 0, 1, True, False, False),
        (0.999, 0, 1, True, False, True),
        (1e-300, 0, None, False, True, True),
        (-1e-300, 0, None, True, True, False),
        (5.0, None, 4.0, True, True, False),
        (-5.0, None, 4.0, True, True, True),
    ],
)
def test_check_float_open_and_closed_ranges(value, lo, hi, lo_inc, hi_inc, ok):
    kwargs = dict(minimum=lo, maximum=hi, min_inclusive=lo_inc, max_inclusive=hi_inc)
    if ok:
        assert check_float(value, "p", **kwargs) == value
    else:
        with pytest.raises(GraphclInputError, match=r"^p must be a (finite )?number"):
            check_float(value, "p", **kwargs)


def test_check_float_range_wording():
    with pytest.raises(GraphclInputError, match=r"dropout must be a number in \[0, 1\), got 1"):
        check_float(1, "dropout", 0, 1, max_inclusive=False)
    with pytest.raises(GraphclInputError, match=r"temperature must be a finite number > 0, got 0"):
        check_float(0, "temperature", 0, min_inclusive=False)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), np.float64("nan")])
def test_check_float_refuses_nan_and_inf(value):
    with pytest.raises(GraphclInputError, match="lr must be a finite number"):
        check_float(value, "lr")
    with pytest.raises(GraphclInputError, match="lr"):
        check_float(value, "lr", 0, 1)


def test_check_float_refuses_strings_with_a_yaml_hint():
    with pytest.raises(GraphclInputError, match=r"lr must be a number, got the string '1e-3' \(in a YAML file write 1.0e-3"):
        check_float("1e-3", "lr")
    with pytest.raises(GraphclInputError) as err:
        check_float("fast", "lr")
    assert "YAML" not in str(err.value) and "'fast'" in str(err.value)


@pytest.mark.parametrize("value", [True, np.bool_(False), None, [1.0], torch.tensor(1.0)])
def test_check_float_refuses_bools_and_non_numbers(value):
    with pytest.raises(GraphclInputError, match="weight must be"):
        check_float(value, "weight")


def test_check_float_allow_none_and_check_positive():
    assert check_float(None, "x", allow_none=True) is None
    assert check_positive(np.float32(0.25), "temperature") == 0.25
    for bad in (0, -1.0, float("nan"), "0.5"):
        with pytest.raises(GraphclInputError, match="temperature"):
            check_positive(bad, "temperature")


def test_check_bool_and_check_choice():
    assert check_bool(np.bool_(True), "flag") is True
    for bad in (0, 1, "True", None):
        with pytest.raises(GraphclInputError, match="flag must be True or False"):
            check_bool(bad, "flag")
    assert check_choice("sym", "mode", ("row", "sym")) == "sym"
    with pytest.raises(GraphclInputError, match=r"mode must be one of \('row', 'sym'\), got 'col'"):
        check_choice("col", "mode", ("row", "sym"))


# ------------------------------------------------------------------------------------------
# check_writable_file / check_writable_dir
# ------------------------------------------------------------------------------------------


def test_check_writable_file_accepts_new_and_existing_files(tmp_path):
    assert check_writable_file(tmp_path / "out.json", "out") == tmp_path / "out.json"
    assert check_writable_file(tmp_path / "new" / "deeper" / "out.json", "out").name == "out.json"
    (tmp_path / "exists.json").write_text("{}")
    check_writable_file(str(tmp_path / "exists.json"), "out")
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_check_writable_file_refuses_a_folder(tmp_path):
    with pytest.raises(GraphclInputError, match=r"checkpoint '.*' is a folder: give a file path"):
        check_writable_file(tmp_path, "checkpoint")


def test_check_writable_file_refuses_a_path_under_a_file(tmp_path):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("x")
    with pytest.raises(GraphclInputError, match=r"log .*plain.txt' is a file, not a folder"):
        check_writable_file(blocker / "sub" / "run.log", "log")


@pytest.mark.parametrize("bad", [None, "", 3, b"x"])
def test_check_writable_file_refuses_non_paths(bad):
    with pytest.raises(GraphclInputError, match="out must be a file path"):
        check_writable_file(bad, "out")


@needs_non_root
def test_check_writable_file_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "old.json").write_text("{}")
    folder.chmod(0o555)
    try:
        with pytest.raises(GraphclInputError, match="not writable"):
            check_writable_file(folder / "out.json", "out")
        with pytest.raises(GraphclInputError, match="not writable"):
            check_writable_file(folder / "sub" / "out.json", "out")
    finally:
        folder.chmod(0o755)


@needs_non_root
def test_check_writable_file_refuses_a_read_only_file(tmp_path):
    path = tmp_path / "locked.json"
    path.write_text("{}")
    path.chmod(0o444)
    with pytest.raises(GraphclInputError, match="exists and is not writable"):
        check_writable_file(path, "out")


def test_check_writable_dir(tmp_path):
    assert check_writable_dir(tmp_path, "out_dir") == Path(tmp_path)
    assert check_writable_dir(tmp_path / "a" / "b", "out_dir") == tmp_path / "a" / "b"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(GraphclInputError, match=r"out_dir '.*plain.txt' is a file, not a folder"):
        check_writable_dir(plain, "out_dir")
    with pytest.raises(GraphclInputError, match=r"out_dir .*plain.txt' is a file, not a folder"):
        check_writable_dir(plain / "below", "out_dir")
    with pytest.raises(GraphclInputError, match="out_dir must be a folder path"):
        check_writable_dir(None, "out_dir")


@needs_non_root
def test_check_writable_dir_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(GraphclInputError, match="not writable"):
            check_writable_dir(folder, "out_dir")
        with pytest.raises(GraphclInputError, match="not writable"):
            check_writable_dir(folder / "new", "out_dir")
    finally:
        folder.chmod(0o755)


# ------------------------------------------------------------------------------------------
# Public functions: NumPy integers accepted, bools and floats refused, the argument named
# ------------------------------------------------------------------------------------------


def _planted(value):
    from graphcl.data import planted_partition_graph

    return planted_partition_graph(value, 4, 4.0, 0.8, 3, 1.0)


def _planted_seed(value):
    from graphcl.data import planted_partition_graph

    return planted_partition_graph(40, 4, 4.0, 0.8, 3, 1.0, seed=value)


def _torch_kmeans(value):
    from graphcl.cluster import torch_kmeans

    return torch_kmeans(torch.randn(30, 2, generator=torch.Generator().manual_seed(0)), value, n_init=1)


def _torch_kmeans_n_init(value):
    from graphcl.cluster import torch_kmeans

    return torch_kmeans(torch.randn(30, 2, generator=torch.Generator().manual_seed(0)), 3, n_init=value)


def _knn(value):
    from graphcl.data import knn_graph_from_features

    return knn_graph_from_features(torch.randn(20, 3, generator=torch.Generator().manual_seed(0)), k=value)


def _power(value):
    from graphcl.ops import adjacency_power

    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    return adjacency_power(ei, None, 4, value)


def _pathsim(value):
    from graphcl.data import pathsim_topk

    return pathsim_topk(torch.tensor([[0, 1], [1, 0]]), torch.tensor([1, 1]), 4, value)


def _from_edge_list(value):
    from graphcl.data import from_edge_list

    return from_edge_list(None, [[0, 1], [1, 2]], num_nodes=value)


def _context_encoder(value):
    from graphcl.nn.hetero import MetaPathContextEncoder

    return MetaPathContextEncoder(2, value)


def _neighbor_contrast(value):
    from graphcl.losses import NeighborContrastLoss

    return NeighborContrastLoss(0.5, block_size=value)


def _adaptive(value):
    from graphcl.losses import AdaptiveWeightInfoNCE

    return AdaptiveWeightInfoNCE(value)


def _clustering_runs(value):
    from graphcl.metrics import evaluate_clustering_runs

    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    return evaluate_clustering_runs(x, torch.arange(20) % 2, 2, runs=value)


# (argument name, call with the value in that argument, a valid integer)
PUBLIC = [
    ("num_nodes", _planted, 40),
    ("seed", _planted_seed, 7),
    ("n_clusters", _torch_kmeans, 3),
    ("n_init", _torch_kmeans_n_init, 2),
    ("k", _knn, 3),
    ("order", _power, 2),
    ("k", _pathsim, 1),
    ("num_nodes", _from_edge_list, 3),
    ("channels", _context_encoder, 4),
    ("block_size", _neighbor_contrast, 4),
    ("in_channels", _adaptive, 4),
    ("runs", _clustering_runs, 1),
]
IDS = [f"{call.__name__[1:]}-{name}" for name, call, _ in PUBLIC]


@pytest.mark.parametrize("name, call, good", PUBLIC, ids=IDS)
@pytest.mark.parametrize("np_type", [np.int64, np.int32])
def test_public_functions_accept_numpy_integers(name, call, good, np_type):
    expected = call(good)
    got = call(np_type(good))
    if isinstance(expected, torch.Tensor) or isinstance(expected, tuple):
        for a, b in zip(torch.utils._pytree.tree_leaves(expected), torch.utils._pytree.tree_leaves(got)):
            assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
    elif hasattr(expected, "edge_index"):  # Data
        assert torch.equal(expected.edge_index, got.edge_index)
    elif isinstance(expected, dict):
        assert expected == got


@pytest.mark.parametrize("name, call, good", PUBLIC, ids=IDS)
@pytest.mark.parametrize("bad", [True, 2.0, "3"], ids=["bool", "float", "str"])
def test_public_functions_refuse_bools_floats_and_strings(name, call, good, bad):
    with pytest.raises(GraphclInputError, match=rf"\b{name} must be"):
        call(bad)


def test_float_arguments_use_check_float():
    from graphcl.data import planted_partition_graph
    from graphcl.losses import PamCLoss
    from graphcl.metrics import evaluate_classification
    from graphcl.nn.hetero import NodeTypeProjection

    with pytest.raises(GraphclInputError, match="YAML"):
        planted_partition_graph(40, 4, "1e-3", 0.8, 3, 1.0)
    with pytest.raises(GraphclInputError, match=r"p_intra must be a number in \[0, 1\]"):
        planted_partition_graph(40, 4, 4.0, 1.5, 3, 1.0)
    with pytest.raises(GraphclInputError, match=r"dropout must be a number in \[0, 1\)"):
        NodeTypeProjection(3, 4, dropout=1.0)
    with pytest.raises(GraphclInputError, match="min_mass must be"):
        PamCLoss(0.5, min_mass=-1.0)
    x = torch.randn(6, 2)
    idx = (torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([4, 5]))
    with pytest.raises(GraphclInputError, match="weight_decay must be a finite number >= 0"):
        evaluate_classification(x, torch.tensor([0, 1, 0, 1, 0, 1]), *idx, lr=0.01, weight_decay=-1.0)
    assert math.isclose(NodeTypeProjection(3, 4, dropout=np.float32(0.25)).dropout, 0.25)
