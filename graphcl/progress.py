"""Training progress: a tqdm bar, a per-epoch log file, and the package's ``logging`` knob.

Every estimator's epoch loop reports through an :class:`EpochMonitor`:

* ``progress=True`` shows a tqdm bar with the current loss on ``stderr`` — only when
  ``stderr`` is a terminal, so logs and CI output stay clean;
* ``epoch_log="train.csv"`` (or ``.jsonl``) writes one row per epoch: the epoch, every loss
  term and the epoch's seconds;
* the ``graphcl`` loggers get one DEBUG record per epoch and INFO records for the milestones;
  :func:`set_verbosity` sets how much of that reaches the console.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from pathlib import Path
from typing import Dict, Optional, Union

__all__ = ["EpochLog", "EpochMonitor", "set_verbosity"]

log = logging.getLogger("graphcl")

_HANDLER: Optional[logging.Handler] = None


def set_verbosity(level: Union[int, str] = "INFO") -> None:
    """Send the ``graphcl`` loggers' records at ``level`` and above to ``stderr``.

    Args:
        level: ``"WARNING"`` (quiet), ``"INFO"`` (milestones: fitting started, done, checkpoints)
            or ``"DEBUG"`` (also one line per epoch), or a ``logging`` level number.
    """
    global _HANDLER
    if _HANDLER is None:
        _HANDLER = logging.StreamHandler()
        _HANDLER.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s", "%H:%M:%S"))
        log.addHandler(_HANDLER)
    log.setLevel(level.upper() if isinstance(level, str) else level)


class EpochLog:
    """Per-epoch rows in a CSV (``.csv``) or JSON-lines (any other suffix) file.

    Columns: ``epoch``, the loss terms of the first row, ``seconds``. Rows are flushed as they
    are written, so a killed run leaves every finished epoch on disk. ``append=True`` continues
    a file (a resumed run).
    """

    def __init__(self, path: Union[str, os.PathLike], append: bool = False) -> None:
        self.path = Path(path)
        self.csv = self.path.suffix.lower() == ".csv"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not (append and self.path.is_file() and self.path.stat().st_size > 0)
        self._fh: io.TextIOBase = open(self.path, "w" if fresh else "a", newline="")
        self._writer: Optional[csv.DictWriter] = None
        self._header_pending = fresh

    def write(self, epoch: int, terms: Dict[str, float], seconds: float) -> None:
        row = {"epoch": epoch, **terms, "seconds": seconds}
        if self.csv:
            if self._writer is None:
                self._writer = csv.DictWriter(self._fh, fieldnames=list(row), extrasaction="ignore")
                if self._header_pending:
                    self._writer.writeheader()
            self._writer.writerow(row)
        else:
            self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class EpochMonitor:
    """What an epoch loop calls after each epoch (a context manager; closes its bar and file).

    Args:
        total: Planned epochs (an upper bound for patience-stopped training).
        name: Shown in the bar and the log records (the estimator's class name).
        progress: Show a tqdm bar (only when ``stderr`` is a terminal).
        epoch_log: Optional per-epoch log file (see :class:`EpochLog`).
        start: Epochs already done (a resumed run).
    """

    def __init__(self, total: int, name: str, progress: bool = False, epoch_log: Optional[Union[str, os.PathLike]] = None,
                 start: int = 0) -> None:
        self.name = name
        self.bar = None
        if progress and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=start, desc=name, unit="epoch", leave=False, dynamic_ncols=True)
        self.log = EpochLog(epoch_log, append=start > 0) if epoch_log else None
        log.info("%s: training, epochs %d..%d", name, start, total - 1)

    def update(self, epoch: int, terms: Dict[str, float], seconds: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{terms.get('loss', float('nan')):.4f}", refresh=False)
        if self.log is not None:
            self.log.write(epoch, terms, seconds)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s epoch %d: %s (%.3f s)", self.name, epoch,
                      ", ".join(f"{k} {v:.5g}" for k, v in terms.items()), seconds)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> "EpochMonitor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
