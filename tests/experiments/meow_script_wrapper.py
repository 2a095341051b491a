"""Run ``experiments/meow.py`` with the checkout's commit read as ``FAKE_COMMIT`` (a clean one,
so that a resumable run can be tested from a working tree with changes), and, with
``--kill-after-checkpoint E``, SIGKILL the process right after the training checkpoint of
epoch ``E`` (a sitting that ends mid-run).

    python meow_script_wrapper.py [--kill-after-checkpoint E] <meow.py arguments>
"""

import os
import runpy
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"

import graphcl.checkpoint as ck  # noqa: E402
import graphcl.experiment as experiment  # noqa: E402
import graphcl.models  # noqa: E402, F401 - loads every module that may hold write_training_state

experiment.git_commit = lambda dirty=None: FAKE_COMMIT
argv = sys.argv[1:]
if argv[:1] == ["--kill-after-checkpoint"]:
    kill_at, argv = int(argv[1]), argv[2:]
    original = ck.write_training_state

    def write_then_die(est, epoch, *args, **kwargs):
        original(est, epoch, *args, **kwargs)
        if epoch == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    for module in [m for name, m in sys.modules.items() if name.startswith("graphcl")]:
        if getattr(module, "write_training_state", None) is original:
            module.write_training_state = write_then_die
script = str(ROOT / "experiments" / "meow.py")
sys.argv = [script, *argv]
sys.path.insert(0, str(ROOT / "experiments"))
runpy.run_path(script, run_name="__main__")
