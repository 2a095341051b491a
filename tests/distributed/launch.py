"""Start the ranks of a distributed test as separate processes, the way torchrun does."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Sequence

WORKER = Path(__file__).resolve().parent / "dist_worker.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args: Sequence[str], world_size: int = 2, ranks: Sequence[int] | None = None,
           timeout: float = 120.0, env_extra: dict | None = None) -> List[subprocess.CompletedProcess]:
    """Run ``dist_worker.py ARGS`` as ``ranks`` (default: all) of a ``world_size`` group;
    returns each rank's completed process (stdout and stderr captured)."""
    port = free_port()
    procs = []
    for rank in (range(world_size) if ranks is None else ranks):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1", **(env_extra or {}))
        procs.append(subprocess.Popen([sys.executable, str(WORKER), *args], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + timeout
    done = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise AssertionError(f"a rank did not finish within {timeout:g} s (hang)") from None
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done
