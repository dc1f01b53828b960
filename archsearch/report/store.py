"""Read-only access to a run directory on a local disk or behind a URI.

Local paths (and `file://` URIs) use the standard library only. Other URIs
(`s3://`, `gs://`, `memory://`, ...) go through `fsspec`, imported lazily, as
the search's storage does.
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
            import fsspec
        except ImportError:
            raise RunDirError(f"{text}: reading a URI needs fsspec (pip install fsspec); "
                              f"local paths work without it") from None
        try:
            fs, root = fsspec.core.url_to_fs(text)
            store = _FsspecStore(text, fs, root)
            is_dir = fs.isdir(root)
        except (ImportError, ValueError) as err:  # unknown protocol, missing backend
            raise RunDirError(f"{text}: cannot open: {err}") from None
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
