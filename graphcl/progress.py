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
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from graphcl.errors import GraphclInputError

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
    are written, so a killed run leaves every finished epoch on disk.

    Args:
        path: The log file.
        append: Continue an existing file (a resumed run) instead of starting a new one.
        start: With ``append``, the first epoch this run writes: the file's rows of epochs
            ``>= start`` (epochs run after the checkpoint resumed from, which are run again) are
            dropped first, so every epoch appears once. ``None`` keeps every row.

    Raises:
        GraphclInputError: ``path`` is a folder or cannot be written.
    """

    def __init__(self, path: Union[str, os.PathLike], append: bool = False, start: Optional[int] = None) -> None:
        from graphcl.validation import check_writable_file

        self.path = check_writable_file(path, "epoch_log")
        self.csv = self.path.suffix.lower() == ".csv"
        fresh = not (append and self.path.is_file() and self.path.stat().st_size > 0)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not fresh and start is not None:
                self._drop_rows_from(start)
            self._fh: io.TextIOBase = open(self.path, "w" if fresh else "a", newline="")
        except OSError as exc:
            raise GraphclInputError(f"epoch_log {str(self.path)!r} cannot be written: {exc.strerror or exc}") from None
        self._writer: Optional[csv.DictWriter] = None
        self._header_pending = fresh

    def _drop_rows_from(self, start: int) -> None:
        """Rewrite the file without its rows of epochs ``>= start`` (and without rows that do
        not parse, such as a line cut short by a killed run); a CSV keeps its header."""
        with open(self.path, newline="") as fh:
            lines = fh.read().splitlines(keepends=True)
        kept: List[str] = []
        if self.csv:
            header = next(csv.reader(lines[:1]), [])
            col = header.index("epoch") if "epoch" in header else 0
            kept = lines[:1]
            for line in lines[1:]:
                cells = next(csv.reader([line]), [])
                if _epoch_below(cells[col] if len(cells) > col else None, start):
                    kept.append(line)
        else:
            for line in lines:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and _epoch_below(row.get("epoch"), start):
                    kept.append(line)
        if kept and not kept[-1].endswith(("\n", "\r")):
            kept[-1] += "\n"
        if len(kept) == len(lines) and all(a is b for a, b in zip(kept, lines)):
            return
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", newline="") as out:
                out.writelines(kept)
            os.chmod(tmp, self.path.stat().st_mode & 0o777)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

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


def _epoch_below(value: Any, start: int) -> bool:
    """Whether a log row's ``epoch`` cell is an integer below ``start``."""
    try:
        return int(value) < start
    except (TypeError, ValueError):
        return False


class EpochMonitor:
    """What an epoch loop calls after each epoch (a context manager; closes its bar and file).

    Args:
        total: Planned epochs (an upper bound for patience-stopped training).
        name: Shown in the bar and the log records (the estimator's class name).
        progress: Show a tqdm bar (only when ``stderr`` is a terminal).
        epoch_log: Optional per-epoch log file (see :class:`EpochLog`).
        start: Epochs already done (a resumed run): the log file is continued, without its rows
            of epochs ``>= start`` (run again now).
    """

    def __init__(self, total: int, name: str, progress: bool = False, epoch_log: Optional[Union[str, os.PathLike]] = None,
                 start: int = 0) -> None:
        self.name = name
        self.bar = None
        if progress and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=start, desc=name, unit="epoch", leave=False, dynamic_ncols=True)
        self.log = EpochLog(epoch_log, append=start > 0, start=start) if epoch_log else None
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
