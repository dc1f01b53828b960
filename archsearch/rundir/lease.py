"""`Lease`: one search driver per run directory.

The driver creates `lease.json` (owner, host, pid, started, heartbeat, token)
with an exclusive create, refreshes its `heartbeat` every `HEARTBEAT_SECONDS`
from a daemon thread while the search runs, and deletes it at exit. A second
driver finds the file and gets a `RunDirError` naming the holder. A lease is
stale, and taken over with a `LeaseWarning`, when its holder is a dead process
on this host, or when its heartbeat is older than `STALE_SECONDS` (a driver on
another host that died, or whose storage is unreachable). `force=True` takes a
live lease too (the holder notices at its next heartbeat and stops refreshing).
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import socket
import threading
import uuid
import warnings

from archsearch.rundir.store import RunDirError, RunStore

__all__ = ["HEARTBEAT_SECONDS", "LEASE_FILE", "STALE_SECONDS", "Lease", "LeaseWarning"]

LEASE_FILE = "lease.json"
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0


class LeaseWarning(UserWarning):
    """A run directory's lease was taken over (stale, or forced)."""


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class Lease:
    """The right to drive the search in one run directory.

    Args:
        store: The run directory's `RunStore`.
        owner: Who holds it (default: the user name).
        force: Take the lease even if another live driver holds it.
        heartbeat: Seconds between heartbeats.
        stale_after: A lease whose heartbeat is older than this is stale.

    Example:
        >>> import tempfile
        >>> store = RunStore(tempfile.mkdtemp())
        >>> with Lease(store) as lease:
        ...     Lease(store).acquire()
        Traceback (most recent call last):
        ...
        archsearch.rundir.store.RunDirError: ...
        >>> store.exists("lease.json")
        False
    """

    def __init__(self, store: RunStore, owner: str | None = None, *, force: bool = False,
                 heartbeat: float = HEARTBEAT_SECONDS, stale_after: float = STALE_SECONDS):
        self.store, self.force = store, force
        self.heartbeat, self.stale_after = heartbeat, stale_after
        try:
            owner = owner or getpass.getuser()
        except (KeyError, OSError):
            owner = "unknown"
        started = _now().isoformat()
        self.data = {"owner": owner, "host": socket.gethostname(), "pid": os.getpid(),
                     "started": started, "heartbeat": started, "token": uuid.uuid4().hex}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def holder(self) -> dict | None:
        """The current lease file's content (None if there is none or it is unreadable)."""
        try:
            data = self.store.read_json(LEASE_FILE)
        except RunDirError:
            return None
        return data if isinstance(data, dict) else None

    def stale_reason(self, held: dict) -> str | None:
        """Why `held` is stale, or None if its holder may still be running."""
        if held.get("host") == socket.gethostname() and not _pid_alive(held.get("pid")):
            return f"its process {held.get('pid')} on this host is gone"
        try:
            beat = _dt.datetime.fromisoformat(str(held.get("heartbeat")))
            age = (_now() - beat).total_seconds()
        except (TypeError, ValueError):
            return "it has no readable heartbeat"
        if age > self.stale_after:
            return f"its last heartbeat was {age:.0f} s ago (stale after {self.stale_after:.0f} s)"
        return None

    def acquire(self) -> Lease:
        """Takes the lease and starts the heartbeat; returns self.

        Raises:
            RunDirError: another live driver holds it (the message names it).
        """
        text = json.dumps(self.data, indent=1)
        if not self.store.create_exclusive(LEASE_FILE, text):
            held = self.holder() or {}
            reason = self.stale_reason(held)
            if reason is None and not self.force:
                raise RunDirError(
                    f"{self.store.uri}: another search is running on this run directory "
                    f"(owner {held.get('owner')!r}, host {held.get('host')!r}, pid "
                    f"{held.get('pid')!r}, started {held.get('started')}, last heartbeat "
                    f"{held.get('heartbeat')}); wait for it to end, or force it if it is dead "
                    f"(--force)")
            why = reason or "forced"
            warnings.warn(f"{self.store.uri}: taking over the lease of owner "
                          f"{held.get('owner')!r} (host {held.get('host')!r}, pid "
                          f"{held.get('pid')!r}): {why}", LeaseWarning, stacklevel=2)
            self.store.write_text(LEASE_FILE, text)
        self._thread = threading.Thread(target=self._beat, name="archsearch-lease", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            held = self.holder()
            if not held or held.get("token") != self.data["token"]:
                self.lost = True  # taken over (forced): stop touching it
                return
            self.data["heartbeat"] = _now().isoformat()
            try:
                self.store.write_text(LEASE_FILE, json.dumps(self.data, indent=1))
            except OSError:  # storage briefly unreachable: try again next beat
                continue

    def release(self) -> None:
        """Stops the heartbeat and removes the lease file if it is still this lease's."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        held = self.holder()
        if held and held.get("token") == self.data["token"]:
            self.store.delete(LEASE_FILE)

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
