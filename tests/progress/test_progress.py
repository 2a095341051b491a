import csv
import json
import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checkpoint"))

import resume_cases  # noqa: E402

from graphcl.progress import EpochLog, EpochMonitor, set_verbosity  # noqa: E402


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("case", ["pamc", "meow"])
def test_epoch_log_has_one_row_per_epoch(case, suffix, tmp_path, one_thread):
    path = tmp_path / f"log{suffix}"
    data, est = resume_cases.build(case, epoch_log=str(path))
    est.fit(data)
    if suffix == ".csv":
        rows = list(csv.DictReader(open(path)))
    else:
        rows = [json.loads(line) for line in open(path)]
    assert [int(r["epoch"]) for r in rows] == list(range(len(est.loss_history_)))
    assert [float(r["loss"]) for r in rows] == pytest.approx([h["loss"] for h in est.loss_history_])
    assert all(float(r["seconds"]) >= 0 for r in rows)


def test_resumed_log_continues_the_file(tmp_path):
    path = tmp_path / "log.csv"
    log = EpochLog(path)
    log.write(0, {"loss": 1.0}, 0.1)
    log.close()
    log = EpochLog(path, append=True)
    log.write(1, {"loss": 0.5}, 0.1)
    log.close()
    assert [r["epoch"] for r in csv.DictReader(open(path))] == ["0", "1"]


def test_progress_bar_is_silent_off_a_terminal(capsys, one_thread):
    data, est = resume_cases.build("pamc", progress=True)
    est.fit(data)  # pytest's captured stderr is not a terminal
    assert capsys.readouterr().err == ""


def test_progress_bar_on_a_terminal_shows_the_loss(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with EpochMonitor(3, "PamC", progress=True) as monitor:
        assert monitor.bar is not None
        monitor.update(0, {"loss": 1.25}, 0.01)
        assert "1.2500" in str(monitor.bar.postfix)


def test_set_verbosity_controls_epoch_records(caplog):
    set_verbosity("DEBUG")
    try:
        with caplog.at_level(logging.DEBUG, logger="graphcl"):
            with EpochMonitor(2, "X") as monitor:
                monitor.update(0, {"loss": 2.0}, 0.5)
        assert any("X epoch 0: loss 2" in r.getMessage() for r in caplog.records)
    finally:
        set_verbosity("WARNING")


def _write_rows(path, epochs, start=0):
    with EpochMonitor(10, "X", epoch_log=path, start=start) as monitor:
        for epoch in epochs:
            monitor.update(epoch, {"loss": float(epoch), "kl": 0.5}, 0.01)


def _epochs_in(path):
    if path.suffix == ".csv":
        return [int(r["epoch"]) for r in csv.DictReader(open(path))]
    return [json.loads(line)["epoch"] for line in open(path)]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resumed_log_drops_the_rows_of_discarded_epochs(suffix, tmp_path):
    """Interrupted after epoch 6 with the last checkpoint at epoch 3: the resumed run starts at
    epoch 4 and runs 4..6 again, so the log must hold each epoch once, in order."""
    path = tmp_path / f"log{suffix}"
    _write_rows(path, range(7))
    _write_rows(path, range(4, 10), start=4)
    assert _epochs_in(path) == list(range(10))
    if suffix == ".csv":
        lines = path.read_text().splitlines()
        assert lines[0] == "epoch,loss,kl,seconds" and lines.count(lines[0]) == 1
        assert [float(r["loss"]) for r in csv.DictReader(open(path))] == [float(e) for e in range(10)]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resumed_log_drops_a_line_cut_short_by_a_kill(suffix, tmp_path):
    path = tmp_path / f"log{suffix}"
    _write_rows(path, range(3))
    with open(path, "a") as fh:
        fh.write("3,0.2" if suffix == ".csv" else '{"epoch": 3, "lo')  # the kill came mid-write
    _write_rows(path, range(3, 5), start=3)
    assert _epochs_in(path) == [0, 1, 2, 3, 4]


def test_fresh_run_replaces_an_old_log_and_append_without_start_keeps_rows(tmp_path):
    path = tmp_path / "log.jsonl"
    _write_rows(path, range(5))
    _write_rows(path, range(2))  # start=0: a new run, the file is replaced
    assert _epochs_in(path) == [0, 1]
    log = EpochLog(path, append=True)  # no start: every row kept (the old behaviour)
    log.write(1, {"loss": 0.0}, 0.0)
    log.close()
    assert _epochs_in(path) == [0, 1, 1]


def test_epoch_log_naming_a_folder_is_refused_with_its_name(tmp_path):
    from graphcl.errors import GraphclInputError

    with pytest.raises(GraphclInputError, match=r"epoch_log .*is a folder"):
        EpochLog(tmp_path)
    with pytest.raises(GraphclInputError, match="epoch_log"):
        EpochMonitor(3, "X", epoch_log=tmp_path)
