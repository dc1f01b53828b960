"""An adversarial user at the command line: bad arguments, bad paths, special files.

Every case must end with exit code 2 and one line on stderr (no traceback,
no hang), and write nothing. Also: a local Ray started by `archsearch search`
listens on loopback only; a finished search rerun writes nothing.
"""

import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archsearch.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = "max_trials: 2\nstrategy: {name: fixed, cells: [gru]}\n" \
       "tasks: [{name: memorization, budget: {steps: 2}, hyperparameter_samples: 2}]\n"


@pytest.fixture(autouse=True)
def _clear_keras_session():
    """Overrides the root conftest's Keras reset (~2 s a test): these tests build no model."""
    yield


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A sandbox: cwd, a good space, a genome, a file, a FIFO, an empty dir, a run dir."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    (tmp_path / "space.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "file.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    return tmp_path


def _snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _run(argv) -> tuple[int, str, str, float]:
    """Runs `main(argv)` in-process: (exit code, stdout, stderr, seconds)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse
            code = stop.code
    return code, out.getvalue(), err.getvalue(), time.monotonic() - start


def _bad_command_lines(t: Path) -> list[tuple[str, list[str], str]]:
    """(id, argv, text the error line must hold); `{t}` is the sandbox."""
    space, run = str(t / "space.yaml"), str(t / "run")
    return [
        # arguments
        ("no-command", [], "required"),
        ("unknown-command", ["frobnicate"], "frobnicate"),
        ("unknown-option", ["cells", "list", "--nope"], "--nope"),
        ("cells-no-sub", ["cells"], "required"),
        ("cells-show-no-arg", ["cells", "show"], "required"),
        ("units-negative", ["cells", "list", "--units", "-3"], "--units"),
        ("units-zero", ["cells", "list", "--units", "0"], "--units"),
        ("units-float", ["cells", "list", "--units", "1e3"], "--units"),
        ("units-huge", ["cells", "list", "--units", "9" * 5000], "--units"),
        ("units-over-limit", ["cells", "show", "lstm", "--units", "10000000"], "--units"),
        ("width-text", ["tasks", "list", "--width", "wide"], "--width"),
        ("mutate-no-seed", ["cells", "mutate", "lstm"], "--seed"),
        ("mutate-seed-text", ["cells", "mutate", "lstm", "--seed", "x"], "--seed"),
        ("mutate-n-zero", ["cells", "mutate", "lstm", "--seed", "0", "-n", "0"], "-n"),
        ("mutate-n-huge", ["cells", "mutate", "lstm", "--seed", "0", "-n", "10000000"], "-n"),
        ("spaces-no-sub", ["spaces"], "required"),
        ("spaces-unknown-sub", ["spaces", "lint", space], "lint"),
        ("search-no-run-dir", ["search", space], "--run-dir"),
        ("search-max-trials-zero", ["search", space, "--run-dir", run, "--max-trials", "0"],
         "--max-trials"),
        ("search-max-trials-bool", ["search", space, "--run-dir", run, "--max-trials", "true"],
         "--max-trials"),
        ("search-workers-negative", ["search", space, "--run-dir", run, "--workers", "-1"],
         "--workers"),
        ("search-seed-float", ["search", space, "--run-dir", run, "--seed", "1.5"], "--seed"),
        ("search-seed-over", ["search", space, "--run-dir", run, "--seed", str(2**40)],
         "--seed"),
        ("search-address-garbage", ["search", space, "--run-dir", run, "--address",
                                    "not an address"], "--address"),
        ("search-address-bad-port", ["search", space, "--run-dir", run, "--address",
                                     "ray://head:99999"], "--address"),
        ("report-no-out", ["report", str(t / "empty")], "--out"),
        ("report-top-zero", ["report", str(t / "empty"), "--out", str(t / "o"), "--top", "0"],
         "--top"),
        # input files
        ("space-missing", ["spaces", "check", str(t / "none.yaml")], "no such file"),
        ("space-dev-zero", ["spaces", "check", "/dev/zero"], "character device"),
        ("space-fifo", ["spaces", "check", str(t / "fifo")], "FIFO"),
        ("space-directory", ["spaces", "check", str(t)], "directory"),
        ("space-proc", ["spaces", "check", "/proc/self/status"], "kernel"),
        ("space-symlink-loop", ["spaces", "check", str(t / "loop")], "symbolic links"),
        ("space-nul-in-path", ["spaces", "check", "a\0b.yaml"], "a\\x00b.yaml"),
        ("space-empty-path", ["spaces", "check", ""], "directory"),
        ("mutate-space-fifo", ["cells", "mutate", "lstm", "--seed", "0", "--space",
                               str(t / "fifo")], "FIFO"),
        ("genome-dev-zero", ["cells", "show", "/dev/zero"], "character device"),
        ("genome-fifo", ["cells", "show", str(t / "fifo")], "FIFO"),
        ("genome-proc", ["cells", "show", "/proc/self/environ"], "kernel"),
        ("genome-directory", ["cells", "show", str(t)], "directory"),
        ("genome-malformed", ["cells", "show", str(t / "bad.json")], "bad.json"),
        ("genome-missing", ["cells", "show", str(t / "none.json")], "no such file"),
        ("genome-unknown-name", ["cells", "mutate", "lstm_zz", "--seed", "0"], "lstm_zz"),
        # run directories and output folders
        ("run-dir-is-file", ["search", space, "--run-dir", str(t / "file.txt")], "is a file"),
        ("run-dir-is-fifo", ["search", space, "--run-dir", str(t / "fifo")], "FIFO"),
        ("run-dir-under-file", ["search", space, "--run-dir", str(t / "file.txt" / "x")],
         "not a directory"),
        ("run-dir-proc", ["search", space, "--run-dir", "/proc/self/x"], "/proc"),
        ("run-dir-dev", ["search", space, "--run-dir", "/dev/shm/../null"], "/dev"),
        ("run-dir-unknown-scheme", ["search", space, "--run-dir", "foo://bucket/run"],
         "unknown URI scheme"),
        ("run-dir-read-only-scheme", ["search", space, "--run-dir", "https://x.invalid/r"],
         "cannot be written"),
        ("run-dir-not-a-run", ["search", space, "--run-dir", str(t)], "not an archsearch run"),
        ("run-dir-nul", ["search", space, "--run-dir", "r\0n"], "--run-dir"),
        ("report-missing-dir", ["report", str(t / "none"), "--out", str(t / "o")],
         "no such directory"),
        ("report-dir-is-file", ["report", str(t / "file.txt"), "--out", str(t / "o")],
         "is a file"),
        ("report-dir-fifo", ["report", str(t / "fifo"), "--out", str(t / "o")], "FIFO"),
        ("report-dir-unknown-scheme", ["report", "nope://x", "--out", str(t / "o")],
         "unknown URI scheme"),
        ("report-dir-proc", ["report", "/proc/self", "--out", str(t / "o")], "/proc"),
        ("report-out-is-file", ["report", str(t / "empty"), "--out", str(t / "file.txt")],
         "is a file"),
        ("report-out-dev", ["report", str(t / "empty"), "--out", "/dev/null"], "/dev"),
        ("report-out-unknown-scheme", ["report", str(t / "empty"), "--out", "zz://o"],
         "unknown URI scheme"),
        ("report-not-a-run", ["report", str(t / "empty"), "--out", str(t / "o")], "empty"),
    ]


CASE_IDS = [c[0] for c in _bad_command_lines(Path("/t"))]


@pytest.mark.parametrize("case", CASE_IDS)
def test_bad_command_line_exits_2_with_one_line(env, case):
    name, argv, expected = next(c for c in _bad_command_lines(env) if c[0] == case)
    before = _snapshot(env)
    code, out, err, seconds = _run(argv)
    assert code == 2, (code, out[-300:], err[-300:])
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err[-2000:]
    assert "error:" in lines[0] and expected in lines[0], (expected, lines[0])
    assert out == "" and seconds < 5
    assert _snapshot(env) == before


def test_there_are_at_least_40_bad_command_lines():
    assert len(CASE_IDS) >= 40 and len(set(CASE_IDS)) == len(CASE_IDS)


@pytest.mark.skipif(shutil.which("chattr") is None or os.geteuid() != 0,
                    reason="needs chattr and root")
@pytest.mark.parametrize("command", ["search", "report"])
def test_immutable_directory_exits_2(env, command):
    locked = env / "locked"
    locked.mkdir()
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode:
        pytest.skip("this filesystem has no immutable flag")
    try:
        target = str(locked / "run")
        argv = (["search", str(env / "space.yaml"), "--run-dir", target] if command == "search"
                else ["report", str(env / "empty"), "--out", target])
        code, out, err, _ = _run(argv)
        assert code == 2 and len(err.splitlines()) == 1, err
        assert "not writable" in err and "Traceback" not in err
        code, out, err, _ = _run(["search", str(env / "space.yaml"), "--run-dir", str(locked)])
        assert code == 2 and "not writable" in err and len(err.splitlines()) == 1, err
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=False)
    assert not os.listdir(locked)


def test_control_characters_in_errors_are_escaped(env):
    path = env / "x.yaml"
    path.write_text(GOOD + '"evil\\nkey\\u001b[2J": 1\n', encoding="utf-8")
    code, _, err, _ = _run(["spaces", "check", str(path)])
    assert code == 2 and len(err.splitlines()) == 1 and "\x1b" not in err, err


# --- genomes: the corpus of malformed genome files -----------------------------------

def _genome_corpus():
    corpus = ROOT / "tests" / "genome" / "corpus.py"
    if not corpus.exists():
        return []
    import importlib.util

    spec = importlib.util.spec_from_file_location("genome_corpus", corpus)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "malformed_cases"):  # (name, text, a word the error names)
        return list(module.malformed_cases())
    return [(name, text, "") for name, text in module.malformed_genomes()]


GENOMES = _genome_corpus()


@pytest.mark.skipif(not GENOMES, reason="tests/genome/corpus.py is not there yet")
def test_cells_show_refuses_every_malformed_genome(tmp_path):
    failures = []
    for k, (name, text, fragment) in enumerate(GENOMES):
        path = tmp_path / f"g{k}.json"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        code, out, err, seconds = _run(["cells", "show", str(path)])
        if code != 2 or len(err.splitlines()) != 1 or "Traceback" in err or out \
                or seconds >= 5 or str(path) not in err or fragment not in err:
            failures.append((name, code, err[-300:], round(seconds, 2)))
    assert not failures, (len(failures), failures[:5])
    assert len(GENOMES) >= 100


# --- a search: the effective settings, a finished rerun, loopback Ray ----------------

@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_finished_search_rerun_writes_nothing_and_summary_shows_override(env):
    run = env / "run"
    argv = ["search", str(env / "space.yaml"), "--run-dir", str(run), "--max-trials", "1",
            "--simulate", "--no-progress", "--workers", "1"]
    code, out, err, _ = _run(argv)
    assert code == 0, err[-2000:]
    assert "max trials:  1" in err and "max trials:  2" not in err
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    code, out, err, seconds = _run(argv)
    assert code == 0 and "already finished" in out, (out, err[-2000:])
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*")} == before
    assert seconds < 60


def _listening() -> dict[int, tuple[str, int]]:
    """Socket inode -> (address, port) of every listening TCP / bound UDP socket (Linux)."""
    found = {}
    for table, state in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        with contextlib.suppress(OSError), open(f"/proc/net/{table}") as f:
            for line in f.read().splitlines()[1:]:
                fields = line.split()
                if fields[3] != state:
                    continue
                host, port = fields[1].split(":")
                raw = bytes.fromhex(host)
                if len(raw) == 4:
                    address = socket.inet_ntop(socket.AF_INET, raw[::-1])
                else:
                    address = socket.inet_ntop(socket.AF_INET6,
                                               struct.pack(">4I", *struct.unpack("<4I", raw)))
                found[int(fields[9])] = (address, int(port, 16))
    return found


def listening_sockets(root_pid: int) -> list[tuple[str, str, int]]:
    """(process name, address, port) of sockets listened on by `root_pid` and descendants."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
                parents.setdefault(parent, []).append(int(entry))
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(parents.get(pid, []))
    table, out = _listening(), []
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and int(link[8:-1]) in table:
                        with open(f"/proc/{pid}/comm") as f:
                            out.append((f.read().strip(), *table[int(link[8:-1])]))
    return out


PROBE = """
import json, os, sys
sys.path.insert(0, {tests!r})
from test_cli_adversarial import listening_sockets
from archsearch.search.executor import _start_ray
import ray
assert _start_ray(None, 1, 1.0)
@ray.remote
class Probe:
    def pid(self):
        return os.getpid()
probe = Probe.remote()
ray.get(probe.pid.remote())
ray.get(ray.remote(lambda: 1).remote())
print(json.dumps(listening_sockets(os.getpid())))
ray.shutdown()
"""


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc (Linux)")
def test_local_ray_listens_on_loopback_only():
    env = {**os.environ, "RAY_ADDRESS": ""}
    env.pop("RAY_ADDRESS")
    done = subprocess.run([sys.executable, "-c", PROBE.format(tests=str(ROOT / "tests"))],
                          capture_output=True, text=True, timeout=170, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    sockets = json.loads(done.stdout.strip().splitlines()[-1])
    names = {name for name, _, _ in sockets}
    assert {"gcs_server", "raylet"} <= names, sockets  # the probe sees Ray's servers
    exposed = [s for s in sockets if s[1] not in ("127.0.0.1", "::1", "::ffff:127.0.0.1")]
    assert not exposed, exposed


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_ctrl_c_during_a_search_prints_the_archsearch_resume_command(tmp_path):
    import signal

    space = tmp_path / "long.yaml"
    space.write_text("max_trials: 5000\nstrategy: {name: fixed, cells: [gru], "
                     "hyperparameter_samples: 5000}\n"
                     "tasks: [{name: memorization, budget: {steps: 2}}]\n", encoding="utf-8")
    run = tmp_path / "run"
    command = [sys.executable, "-m", "archsearch", "search", str(space), "--run-dir", str(run),
               "--simulate", "--no-progress", "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and proc.poll() is None:
            if (run / "trials").is_dir() and len(os.listdir(run / "trials")) >= 2:
                break
            time.sleep(0.5)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (out[-2000:], err[-3000:])
    assert "Tuner.restore" not in out + err and "Traceback" not in err, err[-3000:]
    assert f"resume with: archsearch search {space} --run-dir {run}" in out + err, \
        (out[-2000:], err[-2000:])
