"""RunStore: atomic writes, exclusive creates, paths kept inside the run directory.

One conformance suite over the three backends: a local path, fsspec's memory
filesystem, and pyarrow's mock filesystem (reached through the pyarrow
fallback, since fsspec knows no `mock` protocol).
"""

import os
import threading
import uuid

import pytest

from archsearch.rundir import RunDirError, RunStore


@pytest.fixture(params=["local", "memory", "arrow"])
def store(request, tmp_path):
    if request.param == "local":
        return RunStore(tmp_path / "run")
    if request.param == "memory":
        pytest.importorskip("fsspec")
        return RunStore(f"memory://run-{uuid.uuid4().hex}")
    pytest.importorskip("pyarrow.fs")
    return RunStore(f"mock:///run-{uuid.uuid4().hex}")


def test_write_read_list_delete(store):
    assert store.read_text("run.json") is None and store.read_json("run.json") is None
    assert store.list("trials") == []
    store.write_json("trials/1.json", {"a": 1})
    store.write_text("trials/0.json", '{"b": 2}')
    store.write_text("notes.txt", "x")
    assert store.read_json("trials/1.json") == {"a": 1}
    assert store.list("trials") == ["0.json", "1.json"]  # no temporary files left behind
    assert store.list_json("") == [] and store.list("") == ["notes.txt", "trials"]
    assert store.is_dir("trials") and not store.is_dir("notes.txt")
    store.write_json("trials/1.json", {"a": 3})  # replaced whole
    assert store.read_json("trials/1.json") == {"a": 3}
    store.delete("trials/1.json")
    store.delete("trials/1.json")  # already gone: nothing happens
    assert store.list("trials") == ["0.json"]


def test_create_exclusive_keeps_the_first_file(store):
    assert store.create_exclusive("trials/7.json", '{"first": true}') is True
    assert store.create_exclusive("trials/7.json", '{"second": true}') is False
    assert store.read_json("trials/7.json") == {"first": True}
    assert store.list("trials") == ["7.json"]


def test_corrupt_json_names_the_file(store):
    store.write_text("run.json", "{not json")
    with pytest.raises(RunDirError, match=r"run\.json: not valid JSON"):
        store.read_json("run.json")


@pytest.mark.parametrize("rel", ["../x.json", "trials/../../x", "/etc/passwd", "a\\b"])
def test_paths_outside_the_run_directory_are_refused(store, rel):
    with pytest.raises(RunDirError, match=r"relative path inside the run directory. Received: "):
        store.write_text(rel, "x")


def test_local_writes_are_atomic_under_concurrent_readers(tmp_path):
    # A reader polling while a writer replaces the file over and over only
    # ever sees a complete old or new version.
    store = RunStore(tmp_path)
    big = {"payload": "x" * 200_000}
    store.write_json("f.json", {**big, "n": 0})
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add(store.read_json("f.json")["n"])  # raises on a torn file

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 40):
            store.write_json("f.json", {**big, "n": n})
    finally:
        stop.set()
        reader.join()
    assert seen <= set(range(40)) and store.read_json("f.json")["n"] == 39


def test_local_exclusive_create_has_one_winner_among_racing_threads(tmp_path):
    store = RunStore(tmp_path)
    barrier = threading.Barrier(8)
    wins = []

    def race(k):
        barrier.wait()
        if store.create_exclusive("lease.json", f'{{"k": {k}}}'):
            wins.append(k)

    threads = [threading.Thread(target=race, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert store.read_json("lease.json") == {"k": wins[0]}
    assert [n for n in os.listdir(tmp_path) if n != "lease.json"] == []  # temporaries removed


def test_uri_and_path(tmp_path):
    local = RunStore(f"file://{tmp_path}")
    assert local.is_local and local.uri == str(tmp_path.resolve())
    assert local.path("trials/0.json") == f"{tmp_path.resolve()}/trials/0.json"
    remote = RunStore("memory://somewhere/run")
    assert not remote.is_local and remote.uri == "memory://somewhere/run"


def test_delete_tree_removes_a_folder_and_nothing_else(store):
    store.write_text("ray/tune-1/a/b.json", "{}")
    store.write_text("ray/tune-1/c.json", "{}")
    store.write_text("ray/tune-2/d.json", "{}")
    store.delete_tree("ray/tune-1")
    store.delete_tree("ray/tune-1")  # already gone: nothing happens
    assert store.list("ray") == ["tune-2"] and store.read_text("ray/tune-2/d.json") == "{}"
    with pytest.raises(ValueError, match="root"):
        store.delete_tree("/")


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    import errno
    import os

    from archsearch.rundir import RunStore

    store = RunStore(str(tmp_path))
    store.write_text("run.json", "old")

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError):
        store.write_text("run.json", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
    assert (tmp_path / "run.json").read_text() == "old"


def test_stale_temporaries_are_removed_young_ones_kept(tmp_path):
    import os
    import time

    from archsearch.rundir import RunStore

    store = RunStore(str(tmp_path))
    (tmp_path / "trials").mkdir()
    old = [tmp_path / f".oracle.json.{'b' * 32}", tmp_path / "trials" / f".7.json.{'c' * 32}.tmp"]
    young = tmp_path / "trials" / f".8.json.{'d' * 32}.tmp"
    keep = tmp_path / ".hidden-notes"
    for path in [*old, young, keep]:
        path.write_text("x")
    for path in old:
        os.utime(path, (time.time() - 600, time.time() - 600))
    removed = store.remove_stale_temporaries(older_than=300)
    assert sorted(removed) == sorted(str(p) for p in old)
    assert young.exists() and keep.exists()
    assert store.is_unused(ignore=("lease.json",))
    (tmp_path / "trials" / "0.json").write_text("{}")
    assert not store.is_unused(ignore=("lease.json",))
