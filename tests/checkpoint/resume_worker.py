"""Train with checkpoints and SIGKILL this process right after the checkpoint of epoch KILL_AT.

    python resume_worker.py CASE CHECKPOINT KILL_AT
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kill_switch  # noqa: E402
import resume_cases  # noqa: E402

case, path, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
kill_switch.install(kill_at)
data, est = resume_cases.build(case, checkpoint=path, checkpoint_every=1)
est.fit(data)
sys.exit(0)  # not reached when the kill fires
