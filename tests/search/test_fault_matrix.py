"""The fault matrix: one damaged or foreign file in a run directory, a lost lease.

Each case is a reproduction from the operations issue, run through the
executor on `search_spaces/evolution_cpu.yaml` simulated: nothing is lost,
nothing runs twice, the search resumes (or refuses with one message).
"""

import hashlib
import json
import os
import warnings
from pathlib import Path

import pytest

import archsearch
from archsearch.rundir import LeaseLost, RunDirError, RunStore, check_token
from archsearch.search.executor import run_search

pytestmark = pytest.mark.xdist_group("ray")

REPO = Path(__file__).resolve().parents[2]
SPACE = REPO / "search_spaces" / "evolution_cpu.yaml"


def _digests(run_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (run_dir / "trials").glob("*.json") if p.is_file()}


def _search(run_dir, max_trials):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = run_search(archsearch.load_search_space(SPACE), run_dir, progress=False,
                             simulate=True, max_trials=max_trials)
    return summary, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def finished_40(tmp_path_factory, ray_session):
    """A finished 40-trial simulated evolution run (copied by each test)."""
    run_dir = tmp_path_factory.mktemp("base") / "run"
    summary, _ = _search(run_dir, 40)
    assert summary.finished and len(_digests(run_dir)) == 40
    return run_dir


@pytest.fixture
def run40(tmp_path, finished_40):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(finished_40, copy)
    return copy


def _best_trial(run_dir: Path) -> str:
    records = [json.loads(p.read_text()) for p in (run_dir / "trials").glob("*.json")]
    best = max((r for r in records if r.get("score") is not None), key=lambda r: r["score"])
    return best["trial_id"]


def test_a_truncated_record_of_a_top_cell_resumes_and_keeps_every_other_record(run40):
    best = _best_trial(run40)
    path = run40 / "trials" / f"{best}.json"
    path.write_bytes(path.read_bytes()[:100])
    before = _digests(run40)
    summary, said = _search(run40, 60)
    after = _digests(run40)
    assert summary.finished
    assert any("readable records" in s and "rebuilding the oracle's state" in s
               for s in said), said
    assert all(after[name] == digest for name, digest in before.items())  # nothing rewritten
    assert len(after) == 60 and after[f"{best}.json"] == before[f"{best}.json"]


@pytest.mark.parametrize("junk", ["1000", "42"])
def test_a_stray_numbered_file_neither_uses_up_the_budget_nor_is_overwritten(run40, junk):
    stray = run40 / "trials" / f"{junk}.json"
    stray.write_text("junk")
    summary, _ = _search(run40, 60)
    assert summary.finished
    assert stray.read_text() == "junk"
    ids = sorted(int(p.stem) for p in (run40 / "trials").glob("*.json") if p.stem != junk)
    assert len(ids) >= 59  # 40 + the new ones; 42 blocks only its own id
    assert ids[:41] == list(range(41))


def test_a_fifo_in_trials_is_skipped_not_read(run40):
    os.mkfifo(run40 / "trials" / "70.json")
    summary, _ = _search(run40, 50)
    assert summary.finished and len(_digests(run40)) == 50


@pytest.mark.parametrize("table", [
    {"a": [1, 2]},  # a valid Parquet file of something else
    "genome-ints",  # the index's columns, a genome column of integers
])
def test_a_foreign_index_file_is_skipped_with_its_name(run40, table):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from archsearch.rundir.index import _schema

    if table == "genome-ints":
        schema = _schema()
        cols = {name: pa.nulls(1, type=schema.field(name).type) for name in schema.names}
        cols["file"] = pa.array(["0.json"])
        cols["genome"] = pa.array([7])
        data = pa.table(cols)
    else:
        data = pa.table(table)
    foreign = run40 / "index" / "foreign.parquet"
    pq.write_table(data, foreign)
    from archsearch.report import load_runs

    with pytest.warns(UserWarning, match="foreign.parquet: unreadable index file"):
        runs = load_runs([str(run40)])
    assert len(runs.trials) == 40
    summary, _ = _search(run40, 45)
    assert summary.finished and len(_digests(run40)) == 45
    assert foreign.exists()  # not ours: a compaction leaves it alone


def test_records_of_a_driver_that_lost_its_lease_are_refused(tmp_path):
    store = RunStore(str(tmp_path))
    store.write_text("lease.json", json.dumps({"token": "new-holder", "owner": "b",
                                               "host": "h", "pid": 2}))
    check_token(store, "new-holder")
    check_token(store, None)
    with pytest.raises(LeaseLost, match="lost the run directory's lease to owner 'b'"):
        check_token(store, "old-holder")
    assert issubclass(LeaseLost, RunDirError)


def test_a_lease_notices_a_takeover_as_soon_as_its_heartbeat_is_overdue(tmp_path):
    import time

    from archsearch.rundir import Lease

    store = RunStore(str(tmp_path))
    lease = Lease(store, heartbeat=60, stale_after=120).acquire()
    try:
        assert lease.held()
        data = json.loads((tmp_path / "lease.json").read_text())
        (tmp_path / "lease.json").write_text(json.dumps({**data, "token": "b", "owner": "b"}))
        assert lease.held()  # on time: no read
        lease._last_ok = time.monotonic() - 130  # paused past two heartbeats
        assert not lease.held() and lease.lost
        assert "owner 'b'" in lease.lost_message()
    finally:
        lease.release()
    assert (tmp_path / "lease.json").exists()  # the new holder's file is left alone


@pytest.mark.slow
def test_a_paused_driver_that_lost_its_lease_stops_and_loses_nothing(
        tmp_path, subprocesses, module_subprocesses):
    """SIGSTOP driver A, let B take over, SIGCONT A: A exits 2 naming B; B finishes."""
    import signal
    import time

    run_dir = tmp_path / "run"
    args = ["-m", "archsearch", "search", SPACE, "--simulate", "--max-trials", "2000",
            "--run-dir", run_dir, "--no-progress"]
    env = {"ARCHSEARCH_LEASE_HEARTBEAT": "0.5", "ARCHSEARCH_LEASE_STALE": "3"}
    os.environ.update(env)  # inherited by both drivers (Subprocess.env copies os.environ)
    try:
        a = subprocesses.start(args, tmp_path / "a.log")
        deadline = time.monotonic() + 120
        while len(list((run_dir / "trials").glob("*.json"))) < 100 if (
                run_dir / "trials").exists() else True:
            assert a.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "a.log").read_text()
            time.sleep(0.05)
        os.kill(a.pid, signal.SIGSTOP)
        time.sleep(4)
        b = module_subprocesses.start(args, tmp_path / "b.log")
        while "taking over the lease" not in (tmp_path / "b.log").read_text():
            assert b.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "b.log").read_text()
            time.sleep(0.1)
        time.sleep(3)  # B proposes and records trials of its own
        before = _digests(run_dir)
        woke = time.monotonic()
        os.kill(a.pid, signal.SIGCONT)
        code_a = a.wait(timeout=60)
        stopped_after = time.monotonic() - woke
        code_b = b.wait(timeout=180)
    finally:
        for key in env:
            os.environ.pop(key, None)
    log_a, log_b = (tmp_path / "a.log").read_text(), (tmp_path / "b.log").read_text()
    assert code_a == 2, log_a
    errors = [line for line in log_a.splitlines() if line.startswith("archsearch: error:")]
    assert len(errors) == 1 and "lost the run directory's lease to owner" in errors[0], log_a
    assert "Traceback" not in log_a
    assert code_b == 0, log_b
    assert "already records another trial" not in log_a + log_b
    after = _digests(run_dir)
    assert len(after) == 2000
    assert all(after[name] == digest for name, digest in before.items())
    records = [json.loads(p.read_text()) for p in (run_dir / "trials").glob("*.json")]
    assert sorted(int(r["trial_id"]) for r in records) == list(range(2000))
    print(f"A stopped {stopped_after:.1f} s after SIGCONT")
    assert stopped_after < 30


# --- storage failures ------------------------------------------------------------


def test_a_driver_whose_storage_fails_stops_with_one_message(tmp_path, ray_session, monkeypatch):
    import errno

    from archsearch.search.executor import StorageError

    real, calls = RunStore.write_text, {"n": 0}

    def full_disk(self, rel, text):
        if rel == "oracle.json":
            calls["n"] += 1
            if calls["n"] > 20:
                raise OSError(errno.ENOSPC, "No space left on device", self.path(rel))
        return real(self, rel, text)

    monkeypatch.setattr(RunStore, "write_text", full_disk)
    run_dir = tmp_path / "run"
    with pytest.raises(StorageError) as info:
        _search(run_dir, 500)
    message = str(info.value)
    assert "oracle.json: cannot write the run directory: No space left on device" in message
    assert "\n" not in message and "rerun the same command" in message
    kept = _digests(run_dir)
    monkeypatch.setattr(RunStore, "write_text", real)
    summary, _ = _search(run_dir, 500)  # the cause fixed: the same command resumes
    after = _digests(run_dir)
    assert summary.finished and len(after) == 500
    assert all(after[name] == digest for name, digest in kept.items())
    assert not [p for p in run_dir.rglob(".*") if p.is_file() and "ray" not in p.parts]


def _tmpfs(path: Path, size: str) -> bool:
    import subprocess

    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)
    return done.returncode == 0


@pytest.mark.slow
def test_a_full_disk_mid_search_exits_2_and_the_rerun_resumes(tmp_path, subprocesses):
    import subprocess

    disk = tmp_path / "disk"
    if not _tmpfs(disk, "400k"):
        pytest.skip("cannot mount a tmpfs here (not root, or no mount namespace)")
    try:
        run_dir, log = disk / "run", tmp_path / "a.log"
        args = ["-m", "archsearch", "search", SPACE, "--simulate", "--max-trials", "2000",
                "--run-dir", run_dir, "--no-progress"]
        code = subprocesses.start(args, log).wait(timeout=300)
        text = log.read_text()
        assert code == 2, text
        errors = [line for line in text.splitlines() if line.startswith("archsearch: error:")]
        assert len(errors) == 1 and "No space left on device" in errors[0], text
        assert "Traceback" not in text
        kept = _digests(run_dir)
        assert kept
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        code = subprocesses.start(args, tmp_path / "b.log").wait(timeout=300)
        assert code == 0, (tmp_path / "b.log").read_text()
        after = _digests(run_dir)
        assert len(after) == 2000
        assert all(after[name] == digest for name, digest in kept.items())
        assert not [p for p in run_dir.rglob(".*") if p.is_file() and "ray" not in p.parts]
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_run_directory_whose_creation_failed_is_reused(tmp_path):
    from archsearch.cli import _check_not_foreign
    from archsearch.search.run_setup import open_run

    run_dir = tmp_path / "run"
    (run_dir / "trials").mkdir(parents=True)
    stale = run_dir / f".run.json.{'a' * 32}"
    stale.write_text('{"half": ')
    _check_not_foreign(str(run_dir))  # not refused as someone else's directory
    space = archsearch.load_search_space(SPACE)
    storage, resumed = open_run(space, str(run_dir), space.strategy.name)
    assert not resumed and (run_dir / "run.json").exists() and not stale.exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    from archsearch.cli import CliError

    with pytest.raises(CliError, match="not an archsearch run directory"):
        _check_not_foreign(str(tmp_path / "other"))


def test_a_run_directory_ray_workers_cannot_share_is_refused(tmp_path, capsys):
    from archsearch.cli import main

    code = main(["search", str(SPACE), "--run-dir", "memory://x", "--simulate"])
    err = capsys.readouterr().err
    assert code == 2 and "memory:// cannot hold a search" in err and err.count("\n") == 1


def test_finished_runs_print_next_commands_a_shell_can_paste(tmp_path, ray_session, capsys):
    import shlex

    from archsearch.cli import main

    run_dir = tmp_path / "my runs" / "x"
    args = ["search", str(SPACE), "--run-dir", str(run_dir), "--simulate", "--max-trials", "20",
            "--no-progress"]
    assert main(args) == 0
    assert main(args) == 0  # already finished
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("next:")]
    assert len(lines) == 2
    for line in lines:
        words = shlex.split(line.removeprefix("next: "))
        assert words[:3] == ["archsearch", "report", str(run_dir)]
