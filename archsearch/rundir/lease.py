"""`Lease`: one search driver per run directory.

The driver creates `lease.json` (owner, host, pid, started, heartbeat, token)
with an exclusive create, refreshes its `heartbeat` every `HEARTBEAT_SECONDS`
from a daemon thread while the search runs, and deletes it at exit. A second
driver finds the file and gets a `RunDirError` naming the holder. A lease is
stale, and taken over with a `LeaseWarning`, when its holder is a dead process
on this host, or when its heartbeat is older than `STALE_SECONDS` (a driver on
another host that died, or whose storage is unreachable). `force=True` takes a
live lease too.

The lease is a fence, not a flag: a driver that lost it (another driver took
it over while this one was paused, cut off from storage or forced out) must
stop. `Lease.held()` says whether it still holds it, and checks the file at
once when a heartbeat is overdue (the process was paused: SIGSTOP, a laptop's
sleep), so a driver that wakes up after a takeover stops before proposing
another trial. Workers fence their records too: `check_token` refuses a
record whose driver no longer holds the lease.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import socket
import threading
import time
import uuid
import warnings

from archsearch.rundir.store import RunDirError, RunStore

__all__ = ["HEARTBEAT_SECONDS", "LEASE_FILE", "STALE_SECONDS", "Lease", "LeaseLost",
           "LeaseWarning", "check_token", "describe_holder"]

LEASE_FILE = "lease.json"
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0


class LeaseWarning(UserWarning):
    """A run directory's lease was taken over (stale, or forced)."""


class LeaseLost(RunDirError):
    """This driver no longer holds the run directory's lease: another driver does."""


def describe_holder(held: dict | None) -> str:
    """`owner 'x', host 'y', pid 12` of a lease file's content."""
    if not held:
        return "nobody (the lease file is gone)"
    return f"owner {held.get('owner')!r}, host {held.get('host')!r}, pid {held.get('pid')!r}"


def check_token(store: RunStore, token: str | None) -> None:
    """Raises `LeaseLost` unless the lease file still carries `token` (None: no check)."""
    if token is None:
        return
    try:
        held = store.read_json(LEASE_FILE)
    except RunDirError:
        held = None
    if not isinstance(held, dict) or held.get("token") != token:
        raise LeaseLost(f"{store.uri}: the driver of this trial lost the run directory's lease "
                        f"to {describe_holder(held if isinstance(held, dict) else None)}; "
                        f"its record is not written")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _seconds_from_env(name: str, default: float) -> float:
    """A positive number of seconds from environment variable `name`, else `default`."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if 0 < value < 1e6 else default


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
            Both default to the constants above, or to the environment variables
            `ARCHSEARCH_LEASE_HEARTBEAT` / `ARCHSEARCH_LEASE_STALE` (seconds; for
            tests of paused drivers).

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
                 heartbeat: float | None = None, stale_after: float | None = None):
        self.store, self.force = store, force
        heartbeat = heartbeat or _seconds_from_env("ARCHSEARCH_LEASE_HEARTBEAT", HEARTBEAT_SECONDS)
        stale_after = stale_after or _seconds_from_env("ARCHSEARCH_LEASE_STALE", STALE_SECONDS)
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
        self.taken_by: dict | None = None  # the lease file's content when it was lost
        self._last_ok = time.monotonic()  # when the lease was last known to be ours

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
                raise self._busy(held)
            why = reason or "forced"
            warnings.warn(f"{self.store.uri}: taking over the lease of owner "
                          f"{held.get('owner')!r} (host {held.get('host')!r}, pid "
                          f"{held.get('pid')!r}): {why}", LeaseWarning, stacklevel=2)
            self.store.write_text(LEASE_FILE, text)
        self._last_ok = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="archsearch-lease", daemon=True)
        self._thread.start()
        return self

    @property
    def token(self) -> str:
        """This lease's token (workers write their records only while it holds)."""
        return self.data["token"]

    def _still_ours(self) -> bool:
        """Reads the lease file; marks the lease lost if it names another holder."""
        held = self.holder()
        if not held or held.get("token") != self.data["token"]:
            self.lost, self.taken_by = True, held  # taken over: stop touching it
            return False
        return True

    def held(self) -> bool:
        """Whether this driver still holds the lease.

        Cheap while heartbeats are on time; when one is overdue (the process
        was paused or storage was slow), reads the lease file at once.
        """
        if self.lost:
            return False
        if time.monotonic() - self._last_ok > 2 * self.heartbeat:
            return self._still_ours()
        return True

    def lost_message(self) -> str:
        """One line for a driver that lost the lease: who holds it now."""
        return (f"{self.store.uri}: this search lost the run directory's lease to "
                f"{describe_holder(self.taken_by)} (a driver that took over, or --force); "
                f"stopped without starting new trials. Finished trials are kept; the other "
                f"driver carries the search on")

    def _busy(self, held: dict) -> RunDirError:
        return RunDirError(
            f"{self.store.uri}: another search is running on this run directory "
            f"(owner {held.get('owner')!r}, host {held.get('host')!r}, pid "
            f"{held.get('pid')!r}, started {held.get('started')}, last heartbeat "
            f"{held.get('heartbeat')}); wait for it to end, or force it if it is dead "
            f"(--force)")

    def check_free(self) -> None:
        """Raises `acquire`'s error now if a live driver holds the lease; writes nothing.

        Lets a second driver fail before it starts Ray; `acquire` checks again.
        """
        held = self.holder()
        if held and not self.force and self.stale_reason(held) is None:
            raise self._busy(held)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            if not self._still_ours():
                return
            self.data["heartbeat"] = _now().isoformat()
            try:
                self.store.write_text(LEASE_FILE, json.dumps(self.data, indent=1))
            except OSError:  # storage briefly unreachable: try again next beat
                continue
            self._last_ok = time.monotonic()

    def release(self) -> None:
        """Stops the heartbeat and removes the lease file if it is still this lease's."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        held = self.holder()
        if held and held.get("token") == self.data["token"]:
            self.store.delete(LEASE_FILE)

    def __getstate__(self) -> dict:
        """Picklable (Ray Tune saves its run config): a copy without the heartbeat thread."""
        state = dict(self.__dict__)
        state["_stop"], state["_thread"] = None, None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._stop = threading.Event()

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
