"""Checkpoints: exact resume after a SIGKILL, the last good checkpoint on a non-finite loss,
save/load of fitted estimators, and same-seed determinism."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import resume_cases  # noqa: E402

from graphcl.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from graphcl.errors import GraphclInputError  # noqa: E402
from graphcl.models import MEOW, SCGC, load_estimator  # noqa: E402

WORKER = Path(__file__).resolve().parent / "resume_worker.py"
KILL_AT = 3


@pytest.mark.parametrize("case", resume_cases.CASES)
def test_resume_after_sigkill_gives_the_uninterrupted_labels(case, tmp_path, one_thread):
    path = tmp_path / "train.pt"
    res = subprocess.run([sys.executable, str(WORKER), case, str(path), str(KILL_AT)], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == -9, res.stderr[-2000:]  # killed by SIGKILL, after the checkpoint
    assert load_checkpoint(path, "training")["epoch"] == KILL_AT
    data, resumed = resume_cases.build(case, checkpoint=str(path))
    resumed.fit(data, resume=path)
    data, plain = resume_cases.build(case)
    plain.fit(data)
    np.testing.assert_array_equal(resumed.labels_, plain.labels_)
    np.testing.assert_array_equal(resumed.embeddings_, plain.embeddings_)
    assert [h["loss"] for h in resumed.loss_history_] == [h["loss"] for h in plain.loss_history_]


@pytest.mark.parametrize("case", resume_cases.CASES)
def test_same_seed_gives_identical_labels(case, one_thread):
    data, a = resume_cases.build(case)
    data, b = resume_cases.build(case)
    np.testing.assert_array_equal(a.fit(data).labels_, b.fit(data).labels_)
    np.testing.assert_array_equal(a.embeddings_, b.embeddings_)


def test_non_finite_loss_names_the_epoch_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, one_thread):
    path = tmp_path / "train.pt"
    data, est = resume_cases.build("pamc", checkpoint=str(path), checkpoint_every=2)
    original = type(est)._step
    calls = {"n": 0}

    def poisoned(self, *args):
        calls["n"] += 1
        terms = original(self, *args)
        return dict(terms, loss=float("nan")) if calls["n"] == 6 else terms  # epoch 5

    monkeypatch.setattr(type(est), "_step", poisoned)
    with pytest.raises(FloatingPointError, match=r"non-finite at epoch 5.*last good checkpoint \(epoch 3\)"):
        est.fit(data)
    state = load_checkpoint(path, "training")
    assert state["epoch"] == 3 and len(state["history"]) == 4


@pytest.mark.parametrize("case", resume_cases.CASES)
def test_save_and_load_a_fitted_estimator(case, tmp_path, one_thread):
    data, est = resume_cases.build(case)
    est.fit(data)
    est.save(tmp_path / "model.pt")
    back = load_estimator(tmp_path / "model.pt", device="cpu")
    assert type(back) is type(est) and back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.labels_, est.labels_)
    saved = load_checkpoint(tmp_path / "model.pt", "fitted")
    assert saved["version"] and saved["training"]["epoch"] == len(est.loss_history_) - 1
    assert back.optimizer_state_["state"] and saved["training"]["rng"]["torch"].dtype == torch.uint8
    other = next(c for c in (SCGC, MEOW) if not isinstance(est, c))
    with pytest.raises(GraphclInputError, match=f"holds a {type(est).__name__}, not a {other.__name__}"):
        other.load(tmp_path / "model.pt")
    if case in ("meow", "meow_linear", "adameow"):
        np.testing.assert_allclose(back.transform(data), est.transform(data), atol=1e-6)
    else:
        np.testing.assert_array_equal(back.predict(data.x), est.predict(data.x))
        np.testing.assert_allclose(back.transform(data.x), est.transform(data.x), atol=1e-6)


def test_resume_refuses_other_settings_or_another_graph(tmp_path, one_thread):
    path = tmp_path / "train.pt"
    data, est = resume_cases.build("pamc", checkpoint=str(path))
    est.set_params(epochs=2).fit(data)
    _, other = resume_cases.build("pamc")
    with pytest.raises(GraphclInputError, match="other settings: \\['temperature'\\]"):
        other.set_params(temperature=0.3).fit(data, resume=path)
    _, same = resume_cases.build("pamc")
    smaller = data.clone()
    smaller.x = smaller.x[:, :4]
    with pytest.raises(GraphclInputError, match="another graph"):
        same.fit(smaller, resume=path)
    with pytest.raises(GraphclInputError, match="does not exist"):
        same.fit(data, resume=tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(GraphclInputError, match="cannot be read"):
        same.fit(data, resume=tmp_path / "junk.pt")
    save_checkpoint({"kind": "fitted", "class": "PamC"}, tmp_path / "fitted.pt")
    with pytest.raises(GraphclInputError, match="expected 'training'"):
        same.fit(data, resume=tmp_path / "fitted.pt")


def test_checkpoint_files_hold_cpu_tensors(tmp_path):
    save_checkpoint({"kind": "training", "t": torch.ones(2, requires_grad=True) * 2}, tmp_path / "c.pt")
    t = load_checkpoint(tmp_path / "c.pt")["t"]
    assert t.device.type == "cpu" and not t.requires_grad and not (tmp_path / "c.pt.tmp").exists()


def test_checkpoint_naming_a_folder_is_refused_with_its_name_and_leaves_nothing(tmp_path):
    folder = tmp_path / "ck"
    folder.mkdir()
    with pytest.raises(GraphclInputError, match=rf"checkpoint '{folder}' is a folder"):
        save_checkpoint({"kind": "training"}, folder)
    assert list(tmp_path.rglob("*")) == [folder]


def test_checkpoint_write_failure_removes_its_temporary_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_checkpoint({"kind": "training", "epoch": 1}, path)

    def disk_full(obj, fh, *args, **kwargs):
        fh.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(GraphclInputError, match=rf"checkpoint '{path}' cannot be written: No space left") as info:
        save_checkpoint({"kind": "training", "epoch": 2}, path)
    assert ".tmp" not in str(info.value)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]
    assert load_checkpoint(path)["epoch"] == 1


def test_checkpoint_temporary_files_are_unique_per_write(tmp_path, monkeypatch):
    """Two runs sharing one checkpoint path must not write into the same temporary file."""
    import os

    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    path = tmp_path / "shared.pt"
    save_checkpoint({"kind": "training", "epoch": 0}, path)
    save_checkpoint({"kind": "training", "epoch": 1}, path)
    assert len(seen) == 2 and seen[0] != seen[1]
    for tmp in seen:
        assert tmp.parent == tmp_path and tmp.name.startswith("shared.pt.") and tmp.name.endswith(".tmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.pt"] and load_checkpoint(path)["epoch"] == 1


def test_checkpoint_file_gets_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        save_checkpoint({"kind": "training"}, tmp_path / "c.pt")
    finally:
        os.umask(umask)
    assert (tmp_path / "c.pt").stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600


def test_checkpoint_in_a_read_only_folder_names_the_checkpoint(tmp_path, monkeypatch):
    import os
    import tempfile

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root writes anywhere: refuse as the kernel would for a user
        def refuse(*args, dir=None, **kwargs):
            raise PermissionError(13, "Permission denied", str(dir))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        with pytest.raises(GraphclInputError, match=rf"checkpoint '{folder / 'c.pt'}' cannot be written"):
            save_checkpoint({"kind": "training"}, folder / "c.pt")
    finally:
        folder.chmod(0o755)
