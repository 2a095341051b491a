"""SIGKILL the process right after it writes the training checkpoint of a given epoch (a run
that dies mid-training, for the resume tests)."""

import os
import signal
import sys

import graphcl.checkpoint as ck
import graphcl.models  # noqa: F401 - loads every module that may hold write_training_state


def install(kill_at: int) -> None:
    """Make every ``write_training_state`` of the loaded graphcl modules kill the process after
    writing the checkpoint of epoch ``kill_at``."""
    original = ck.write_training_state

    def write_then_die(est, epoch, *args, **kwargs):
        original(est, epoch, *args, **kwargs)
        if epoch == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    # every module that imported the function by name (graphcl.checkpoint, the estimators' base...)
    for module in [m for name, m in list(sys.modules.items()) if name.startswith("graphcl")]:
        if getattr(module, "write_training_state", None) is original:
            module.write_training_state = write_then_die
