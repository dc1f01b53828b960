"""`RunStore`: the files of one run directory, on a local disk or behind a URI.

Local paths (and `file://` URIs) use the standard library. Other URIs
(`s3://`, `gs://`, `memory://`, ...) go through `fsspec` when it knows the
protocol, else through `pyarrow.fs` (wrapped by fsspec's `ArrowFSWrapper`), so
the search and the report read and write through the same code.

Writes are atomic: a temporary file next to the target, then a rename
(`os.replace` locally, `mv` on other filesystems; a single object PUT is atomic
on object stores anyway), so a process killed mid-write leaves the old file or
the new one, never half of one. `create_exclusive` writes a file only if it
does not exist: `O_CREAT | O_EXCL` locally (atomic on local disks and NFSv3+);
on other filesystems fsspec's `pipe_file(..., mode="create")`, which s3fs and
gcsfs implement as a conditional PUT (`If-None-Match: *`, `ifGenerationMatch=0`)
and other backends as check-then-write (not atomic: two writers racing within
milliseconds may both succeed there).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path, PurePosixPath

__all__ = ["TEMP_NAME", "RunDirError", "RunStore"]

#: Names of temporary files: `.run.json.<hex>` (atomic writes) and
#: `.7.json.<hex>.tmp` (exclusive creates of trial records).
TEMP_NAME = re.compile(r"\.[A-Za-z0-9._-]+\.[0-9a-f]{32}(\.tmp)?")
TRIALS_TEMP_DIR = "trials"


class RunDirError(ValueError):
    """A run directory is missing, unreadable, held by another driver or holds something else."""


def _is_uri(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def _check_rel(rel: str) -> str:
    """`rel` if it is a plain relative path inside the run directory, else `RunDirError`."""
    parts = PurePosixPath(rel).parts
    if rel.startswith(("/", "\\")) or "\\" in rel or any(p in ("..", "") for p in parts):
        raise RunDirError(f"expected a relative path inside the run directory. Received: "
                          f"rel={rel!r}")
    return rel


def _remote(location: str):
    """(fsspec filesystem, root path) for a URI: fsspec first, then pyarrow."""
    errors = []
    try:
        import fsspec

        fs, root = fsspec.core.url_to_fs(location)
        return fs, root.rstrip("/")
    except (ImportError, ValueError) as err:  # unknown protocol, or its backend missing
        errors.append(str(err))
    try:
        import pyarrow.fs
        from fsspec.implementations.arrow import ArrowFSWrapper

        fs, root = pyarrow.fs.FileSystem.from_uri(location)
        return ArrowFSWrapper(fs), root.rstrip("/")
    except (ImportError, ValueError, OSError) as err:
        errors.append(str(err))
    raise RunDirError(f"{location}: cannot open this URI ({'; '.join(errors)}); install fsspec "
                      f"with the protocol's backend (e.g. s3fs), or pyarrow")


class RunStore:
    """Reads and atomically writes the files of one run directory.

    Args:
        location: A local path, a `file://` URI, or a URI fsspec or pyarrow can open.

    Example:
        >>> import tempfile
        >>> store = RunStore(tempfile.mkdtemp())
        >>> store.write_json("trials/0.json", {"a": 1})
        >>> store.create_exclusive("trials/0.json", "{}")
        False
        >>> store.read_json("trials/0.json"), store.list("trials")
        ({'a': 1}, ['0.json'])
    """

    def __init__(self, location: str | os.PathLike):
        self.source = os.fspath(location)
        location = self.source.removeprefix("file://")
        self._fs = None
        if _is_uri(location):
            self._fs, self._root = _remote(location)
        else:
            self._root = str(Path(location).expanduser().resolve())

    @property
    def is_local(self) -> bool:
        """Whether the run directory is a local path."""
        return self._fs is None

    @property
    def uri(self) -> str:
        """The location: an absolute path when local, else the URI as given."""
        return self._root if self.is_local else self.source

    def path(self, rel: str = "") -> str:
        """The full path (local) or filesystem path (URI) of `rel`."""
        return f"{self._root}/{_check_rel(rel)}" if rel else self._root

    def exists(self, rel: str = "") -> bool:
        """Whether `rel` (a file or folder) exists."""
        if self.is_local:
            return os.path.exists(self.path(rel))
        return self._fs.exists(self.path(rel))

    def is_dir(self, rel: str = "") -> bool:
        """Whether `rel` is a folder."""
        if self.is_local:
            return os.path.isdir(self.path(rel))
        return self._fs.isdir(self.path(rel))

    def makedirs(self, rel: str = "") -> None:
        """Creates folder `rel` and its parents."""
        if self.is_local:
            os.makedirs(self.path(rel), exist_ok=True)
        else:
            self._fs.makedirs(self.path(rel), exist_ok=True)

    def read_bytes(self, rel: str) -> bytes | None:
        """The content of file `rel` (one request), or None if it does not exist."""
        try:
            if self.is_local:
                with open(self.path(rel), "rb") as f:
                    return f.read()
            return self._fs.cat_file(self.path(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read_text(self, rel: str) -> str | None:
        """The text of file `rel`, or None if it does not exist."""
        data = self.read_bytes(rel)
        return None if data is None else data.decode("utf-8")

    def read_json(self, rel: str):
        """Parsed JSON of `rel`, None if missing; `RunDirError` naming it if corrupt."""
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as err:
            raise RunDirError(f"{self.path(rel)}: not valid JSON ({err})") from None

    def write_text(self, rel: str, text: str) -> None:
        """Writes `text` to `rel` atomically (a temporary file, then a rename)."""
        self.write_bytes(rel, text.encode("utf-8"))

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Writes `data` to `rel` atomically (a temporary file, then a rename)."""
        final = self.path(rel)
        parent, name = final.rsplit("/", 1)
        self.makedirs(os.path.dirname(rel))
        tmp = f"{parent}/.{name}.{uuid.uuid4().hex}"
        try:
            if self.is_local:
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, final)
            else:
                self._fs.pipe_file(tmp, data)
                self._fs.mv(tmp, final)
        except BaseException:  # a full disk, a signal: no temporary file left behind
            with contextlib.suppress(Exception):
                if self.is_local:
                    os.unlink(tmp)
                else:
                    self._fs.rm(tmp)
            raise

    def is_unused(self, ignore=()) -> bool:
        """Whether the directory holds only `ignore`d names, temporary files and empty folders.

        What a driver leaves while creating a run (its lease, the temporary
        file of an interrupted write, an empty `trials/` after a full disk):
        such a directory is reused, not refused as someone else's.
        """
        for name in self.list(""):
            if name in ignore or TEMP_NAME.fullmatch(name):
                continue
            if name in ("trials", "index") and self.is_dir(name) and not self.list(name):
                continue
            return False
        return True

    def remove_stale_temporaries(self, older_than: float = 300.0) -> list[str]:
        """Deletes temporary files an interrupted write left (local run directories).

        `.NAME.<hex>` beside the run's files and `trials/.N.json.<hex>.tmp`
        older than `older_than` seconds (a worker may be writing a young one).

        Returns:
            The paths deleted.
        """
        if not self.is_local:
            return []
        removed, now = [], time.time()
        for rel in ("", TRIALS_TEMP_DIR, "index"):
            folder = self.path(rel)
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if not TEMP_NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError):
                    if now - entry.stat(follow_symlinks=False).st_mtime >= older_than:
                        os.unlink(entry.path)
                        removed.append(entry.path)
        return removed

    def write_json(self, rel: str, data) -> None:
        """Writes `data` as JSON to `rel` atomically."""
        self.write_text(rel, json.dumps(data, indent=1, allow_nan=False))

    def create_exclusive(self, rel: str, text: str) -> bool:
        """Writes `text` to `rel` only if `rel` does not exist yet.

        Returns:
            True if this call created the file, False if it already existed
            (its content is left as it was).
        """
        self.makedirs(os.path.dirname(rel))
        data = text.encode("utf-8")
        if not self.is_local:
            try:
                self._fs.pipe_file(self.path(rel), data, mode="create")
            except FileExistsError:
                return False
            return True
        final = self.path(rel)
        # Write the content under a temporary name, then link it to the final
        # name: link() fails if the name exists, and a reader never sees a
        # created-but-empty file (as it could between O_EXCL and write()).
        tmp = f"{final}.{uuid.uuid4().hex}.tmp"
        parent, name = tmp.rsplit("/", 1)
        tmp = f"{parent}/.{name}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, final)
            except FileExistsError:
                return False
            except OSError:  # a filesystem without hard links: O_EXCL on the name itself
                return self._create_excl_direct(final, data)
            return True
        finally:
            os.unlink(tmp)

    @staticmethod
    def _create_excl_direct(final: str, data: bytes) -> bool:
        try:
            fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return True

    def append_text(self, rel: str, text: str) -> None:
        """Appends `text` to file `rel`, creating it if needed.

        Locally one `O_APPEND` write (whole lines from several writers never
        interleave). Object stores cannot append: the file is read and written
        back whole, so only one writer may append to a given file there.
        """
        self.makedirs(os.path.dirname(rel))
        if self.is_local:
            fd = os.open(self.path(rel), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode("utf-8"))
            return
        self.write_text(rel, (self.read_text(rel) or "") + text)

    def delete(self, rel: str) -> None:
        """Removes file `rel` (nothing happens if it does not exist)."""
        try:
            if self.is_local:
                os.unlink(self.path(rel))
            else:
                self._fs.rm_file(self.path(rel))
        except FileNotFoundError:
            pass

    def delete_tree(self, rel: str) -> None:
        """Removes folder `rel` and everything under it (nothing happens if it is missing)."""
        if not rel.strip("/"):
            raise ValueError("expected a folder inside the run directory. Received: the root")
        if self.is_local:
            shutil.rmtree(self.path(rel), ignore_errors=True)
        elif self._fs.exists(self.path(rel)):
            self._fs.rm(self.path(rel), recursive=True)

    def list(self, rel: str = "") -> list[str]:
        """Names directly under folder `rel`, hidden ones excluded (sorted; [] if missing)."""
        if not self.is_dir(rel):
            return []
        if self.is_local:
            names = os.listdir(self.path(rel))
        else:
            names = (str(p).rstrip("/").rsplit("/", 1)[-1]
                     for p in self._fs.ls(self.path(rel), detail=False))
        return sorted(n for n in names if not n.startswith("."))

    def list_sizes(self, rel: str = "") -> dict[str, int]:
        """Size in bytes of each file directly under folder `rel`, hidden ones excluded.

        One listing (with sizes) on object stores; one `stat` per file locally.
        """
        if not self.is_dir(rel):
            return {}
        if self.is_local:
            with os.scandir(self.path(rel)) as entries:
                found = {e.name: e.stat().st_size for e in entries if e.is_file()}
        else:
            found = {str(d["name"]).rstrip("/").rsplit("/", 1)[-1]: int(d.get("size") or 0)
                     for d in self._fs.ls(self.path(rel), detail=True)
                     if d.get("type") != "directory"}
        return {n: found[n] for n in sorted(found) if not n.startswith(".")}

    def list_json(self, rel: str) -> list[str]:
        """Names of the `.json` files directly under folder `rel` (sorted)."""
        return [n for n in self.list(rel) if n.endswith(".json")]
