"""Train with checkpoints and SIGKILL this process right after the checkpoint of epoch KILL_AT.

    python resume_worker.py CASE CHECKPOINT KILL_AT
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import resume_cases  # noqa: E402

import graphcl.checkpoint as ck  # noqa: E402
import graphcl.models  # noqa: E402, F401 - loads every module that may hold write_training_state

case, path, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
original = ck.write_training_state


def write_then_die(est, epoch, *args, **kwargs):
    original(est, epoch, *args, **kwargs)
    if epoch == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


# every module that imported the function by name (graphcl.checkpoint, the estimators' base...)
for module in [m for name, m in sys.modules.items() if name.startswith("graphcl")]:
    if getattr(module, "write_training_state", None) is original:
        module.write_training_state = write_then_die
data, est = resume_cases.build(case, checkpoint=path, checkpoint_every=1)
est.fit(data)
sys.exit(0)  # not reached when the kill fires
