"""benchmarks/peers.py --quick: every side trains the study and the last line has its format.

The benchmark starts two Rays of its own (Ray Tune's side and `archsearch
search`), so it runs in a subprocess of its own session with a private
`RAY_TMPDIR` (as tests/search/conftest.py's `Subprocess` helper does): it
neither joins the test session's Ray nor a Ray someone else started here.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(
    r"archsearch vs kerastuner: (?P<kt>\d+\.\d\d)x \[\d+\.\d\d-\d+\.\d\d\], "
    r"vs ray tune \+ keras: (?P<rt>\d+\.\d\d)x \[\d+\.\d\d-\d+\.\d\d\] "
    r"\(samples per wall-hour, median \[min-max\]\)")


def _run_quick(tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    ray_tmp = tempfile.mkdtemp(prefix="asp", dir="/tmp")  # short: Ray's socket paths
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(RAY_TMPDIR=ray_tmp, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    out = tmp_path / "peers.json"
    proc = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / "peers.py"), "--quick",
                             "--json", str(out)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        stdout, _ = proc.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever it left in its group
        proc.wait()
        shutil.rmtree(ray_tmp, ignore_errors=True)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout)
    return result, json.loads(out.read_text()) if out.exists() else {}


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_quick_run_trains_every_side_and_ends_with_the_ratios(tmp_path):
    result, figures = _run_quick(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    last = result.stdout.strip().splitlines()[-1]
    match = LAST_LINE.fullmatch(last)
    assert match, last
    assert float(match["kt"]) > 0 and float(match["rt"]) > 0

    # --quick: 2 cells x 1 learning rate x 2 seeds, 20 steps of batch 32, 1 repeat.
    expected = 2 * 1 * 2 * 20 * 32
    assert figures["expected_samples"] == expected
    runs = figures["runs"]
    assert sorted(r["side"] for r in runs) == ["archsearch", "kerastuner", "ray tune + keras"]
    for run in runs:
        assert run["samples"] == expected, run["side"]
        assert len(run["trials"]) == 4, run["side"]
        assert {(t["cell"], t["samples"]) for t in run["trials"]} == {
            ("lstm", 20 * 32), ("gru", 20 * 32)}, run["side"]
        assert all(0.0 <= t["score"] <= 1.0 for t in run["trials"]), run["side"]
        assert run["wall"] > 0 and run["cpu"] > 0, run["side"]
    # The same seeds on every side (archsearch's fixed strategy: 1 + sample x seeds + seed).
    seeds = {r["side"]: sorted(t["seed"] for t in r["trials"]) for r in runs}
    assert seeds["kerastuner"] == seeds["ray tune + keras"] == seeds["archsearch"] == [1, 1, 2, 2]
