"""What a spawned render worker loads: the renderer (on warm-up), never the server's web stack or Prefect."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import prefect_nemo.local.__main__  # a spawned worker runs the server's main module as __mp_main__
from prefect_nemo.local.emulator import worker
heavy = ("fastapi", "uvicorn", "prefect", "cv2", "av")
print(sorted(m for m in heavy if m in sys.modules))
worker.warm_up()
print(sorted(m for m in heavy if m in sys.modules))
"""


def test_a_worker_loads_the_renderer_on_warm_up_and_nothing_of_the_server() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    before, after = done.stdout.splitlines()
    assert before == "[]", done.stdout  # starting a worker costs no import of the web stack or the studio
    assert after == "['av', 'cv2']", done.stdout  # warm-up loads what a render needs, once
