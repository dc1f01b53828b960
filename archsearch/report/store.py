"""Read-only access to a run directory on a local disk or behind a URI.

Local paths (and `file://` URIs) use the standard library only. Other URIs
(`s3://`, `gs://`, `memory://`, ...) go through `fsspec` when it is installed
and knows the protocol, else through `pyarrow.fs` (what the search writes
with); both are imported lazily.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["RunDirError", "RunStore", "open_store"]


class RunDirError(ValueError):
    """A source is not a readable run directory (message names it)."""


class RunStore:
    """Reads files of one run directory: `exists`, `read_text`, `list_json`."""

    def __init__(self, source: str):
        self.source = source

    def exists(self, rel: str) -> bool:  # pragma: no cover - interface
        """True when `rel` (relative to the run directory) exists."""
        raise NotImplementedError

    def read_text(self, rel: str) -> str:  # pragma: no cover - interface
        """Returns the text of file `rel`."""
        raise NotImplementedError

    def list_json(self, rel: str) -> list[str]:  # pragma: no cover - interface
        """Returns the sorted names of the `.json` files in folder `rel`."""
        raise NotImplementedError


class _LocalStore(RunStore):
    def __init__(self, source: str, root: Path):
        super().__init__(source)
        self.root = root

    def exists(self, rel):
        return (self.root / rel).exists()

    def read_text(self, rel):
        return (self.root / rel).read_text(encoding="utf-8")

    def list_json(self, rel):
        folder = self.root / rel
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if p.suffix == ".json" and not p.name.startswith(".") and p.is_file())


class _FsspecStore(RunStore):
    def __init__(self, source: str, fs, root: str):
        super().__init__(source)
        self.fs = fs
        self.root = root.rstrip("/")

    def _path(self, rel):
        return f"{self.root}/{rel}"

    def exists(self, rel):
        return self.fs.exists(self._path(rel))

    def read_text(self, rel):
        return self.fs.cat_file(self._path(rel)).decode("utf-8")

    def list_json(self, rel):
        folder = self._path(rel)
        if not self.fs.isdir(folder):
            return []
        names = (str(p).rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(folder, detail=False))
        return sorted(n for n in names if n.endswith(".json") and not n.startswith("."))


class _ArrowStore(RunStore):
    def __init__(self, source: str, fs, root: str):
        super().__init__(source)
        self.fs = fs
        self.root = root.rstrip("/")

    def _path(self, rel):
        return f"{self.root}/{rel}"

    def _type(self, rel):
        import pyarrow.fs

        return self.fs.get_file_info(self._path(rel)).type, pyarrow.fs.FileType

    def exists(self, rel):
        kind, types = self._type(rel)
        return kind != types.NotFound

    def read_text(self, rel):
        with self.fs.open_input_stream(self._path(rel)) as f:
            return f.read().decode("utf-8")

    def list_json(self, rel):
        import pyarrow.fs

        kind, types = self._type(rel)
        if kind != types.Directory:
            return []
        infos = self.fs.get_file_info(pyarrow.fs.FileSelector(self._path(rel)))
        names = (i.path.rstrip("/").rsplit("/", 1)[-1] for i in infos)
        return sorted(n for n in names if n.endswith(".json") and not n.startswith("."))


def _remote_store(text: str) -> tuple[RunStore, bool]:
    """A store for a URI and whether its root is a folder: fsspec first, then pyarrow."""
    errors = []
    try:
        import fsspec

        fs, root = fsspec.core.url_to_fs(text)
        return _FsspecStore(text, fs, root), fs.isdir(root)
    except ImportError as err:  # fsspec, or the protocol's backend (s3fs, gcsfs), missing
        errors.append(str(err))
    except ValueError as err:  # a protocol fsspec does not know
        errors.append(str(err))
    try:
        import pyarrow.fs

        fs, root = pyarrow.fs.FileSystem.from_uri(text)
        store = _ArrowStore(text, fs, root)
        kind, types = store._type("")
        return store, kind == types.Directory
    except ImportError as err:
        errors.append(str(err))
    except (ValueError, pyarrow.lib.ArrowException) as err:
        errors.append(str(err))
    raise RunDirError(f"{text}: cannot open this URI ({'; '.join(errors)}); install fsspec "
                      f"with the protocol's backend (e.g. s3fs), or pyarrow")


def open_store(source: str | os.PathLike) -> RunStore:
    """Returns a store for `source`; `RunDirError` if it is not a run directory.

    A run directory has a `run.json` or a `trials/` folder (a search that has
    just started may have only one of them).

    Args:
        source: Local path, `file://` URI, or any URI fsspec can open.

    Raises:
        RunDirError: naming the source, when it does not exist, cannot be read
            or holds neither `run.json` nor `trials/`.
    """
    text = os.fspath(source)
    if "://" in text and not text.startswith("file://"):
        try:
            store, is_dir = _remote_store(text)
        except OSError as err:
            raise RunDirError(f"{text}: cannot read: {err}") from None
    else:
        path = Path(text.removeprefix("file://")).expanduser()
        store = _LocalStore(text, path)
        if not path.exists():
            raise RunDirError(f"{text}: no such directory (expected a run directory written "
                              f"by `archsearch search`)")
        is_dir = path.is_dir()
    if not is_dir:
        raise RunDirError(f"{text}: not a directory (expected a run directory written by "
                          f"`archsearch search`)")
    try:
        found = store.exists("run.json") or store.exists("trials")
    except OSError as err:
        raise RunDirError(f"{text}: cannot read: {err}") from None
    if not found:
        raise RunDirError(f"{text}: not a run directory (it has no run.json and no trials/ "
                          f"folder)")
    return store
