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
