"""Lease: one driver per run directory; stale leases are taken over, live ones refused."""

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from archsearch.rundir import LEASE_FILE, Lease, LeaseWarning, RunDirError, RunStore


def _held(store: RunStore, **changes) -> dict:
    data = {"owner": "alice", "host": "node-7", "pid": 4242, "token": "t" * 32,
            "started": dt.datetime.now(dt.UTC).isoformat(),
            "heartbeat": dt.datetime.now(dt.UTC).isoformat(), **changes}
    store.write_json(LEASE_FILE, data)
    return data


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_driver_is_refused_and_told_who_holds_it(tmp_path):
    store = RunStore(tmp_path)
    with Lease(store, owner="alice"):
        with pytest.raises(RunDirError) as caught:
            Lease(store, owner="bob").acquire()
        message = str(caught.value)
        assert "another search is running" in message and "'alice'" in message
        assert repr(socket.gethostname()) in message and str(os.getpid()) in message
        assert "--force" in message
        assert json.loads((tmp_path / LEASE_FILE).read_text())["owner"] == "alice"


def test_released_at_exit_even_on_error(tmp_path):
    store = RunStore(tmp_path)
    with Lease(store):
        assert (tmp_path / LEASE_FILE).exists()
    assert not (tmp_path / LEASE_FILE).exists()
    with pytest.raises(KeyError), Lease(store):
        raise KeyError("search crashed")
    assert not (tmp_path / LEASE_FILE).exists()
    Lease(store).acquire().release()  # free again


def test_a_dead_driver_on_this_host_is_taken_over(tmp_path):
    store = RunStore(tmp_path)
    pid = _dead_pid()
    _held(store, host=socket.gethostname(), pid=pid)
    with pytest.warns(LeaseWarning, match=f"process {pid} on this host is gone"), \
            Lease(store, owner="bob") as lease:
        assert json.loads((tmp_path / LEASE_FILE).read_text())["token"] == lease.data["token"]
    assert not (tmp_path / LEASE_FILE).exists()


def test_a_lease_without_heartbeat_for_longer_than_the_timeout_is_taken_over(tmp_path):
    store = RunStore(tmp_path)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=61)).isoformat()
    _held(store, heartbeat=old)  # another host: its pid cannot be checked
    with pytest.warns(LeaseWarning, match=r"last heartbeat was 6\d s ago \(stale after 60 s\)"):
        Lease(store, owner="bob").acquire().release()
    _held(store, heartbeat=(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)).isoformat())
    with pytest.raises(RunDirError, match="'node-7'"):  # 30 s: still alive
        Lease(store, owner="bob").acquire()


def test_force_takes_a_live_lease_and_the_old_holder_lets_go(tmp_path):
    store = RunStore(tmp_path)
    first = Lease(store, owner="alice", heartbeat=0.05).acquire()
    with pytest.warns(LeaseWarning, match="'alice'.*forced"):
        second = Lease(store, owner="bob", force=True, heartbeat=0.05).acquire()
    deadline = time.monotonic() + 5
    while not first.lost and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.lost  # saw someone else's token at its next heartbeat
    first.release()  # does not remove bob's lease
    assert json.loads((tmp_path / LEASE_FILE).read_text())["owner"] == "bob"
    second.release()
    assert not (tmp_path / LEASE_FILE).exists()


def test_the_heartbeat_is_refreshed_while_held(tmp_path):
    store = RunStore(tmp_path)
    with Lease(store, heartbeat=0.05) as lease:
        first = json.loads((tmp_path / LEASE_FILE).read_text())["heartbeat"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            beat = json.loads((tmp_path / LEASE_FILE).read_text())["heartbeat"]
            if beat > first:
                break
            time.sleep(0.02)
        assert beat > first and not lease.lost
        held = json.loads((tmp_path / LEASE_FILE).read_text())
        assert set(held) == {"owner", "host", "pid", "started", "heartbeat", "token"}
        assert held["pid"] == os.getpid() and held["host"] == socket.gethostname()


def test_a_driver_gone_without_releasing_leaves_a_lease_the_next_one_takes(tmp_path):
    script = ("import os, sys; from archsearch.rundir import Lease, RunStore; "
              "Lease(RunStore(sys.argv[1]), owner='victim').acquire(); os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    assert json.loads((tmp_path / LEASE_FILE).read_text())["owner"] == "victim"
    with pytest.warns(LeaseWarning, match="'victim'.*is gone"), Lease(RunStore(tmp_path)):
        pass
