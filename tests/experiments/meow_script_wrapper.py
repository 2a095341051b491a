"""Run ``experiments/meow.py`` with the checkout's commit read as ``FAKE_COMMIT`` (a clean one,
so that a resumable run can be tested from a working tree with changes), and, with
``--kill-after-checkpoint E``, SIGKILL the process right after the training checkpoint of
epoch ``E`` (a sitting that ends mid-run).

    python meow_script_wrapper.py [--kill-after-checkpoint E] <meow.py arguments>
"""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "checkpoint"))
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"

import kill_switch  # noqa: E402

import graphcl.experiment as experiment  # noqa: E402

experiment.git_commit = lambda dirty=None: FAKE_COMMIT
argv = sys.argv[1:]
if argv[:1] == ["--kill-after-checkpoint"]:
    kill_switch.install(int(argv[1]))
    argv = argv[2:]
script = str(ROOT / "experiments" / "meow.py")
sys.argv = [script, *argv]
sys.path.insert(0, str(ROOT / "experiments"))
runpy.run_path(script, run_name="__main__")
