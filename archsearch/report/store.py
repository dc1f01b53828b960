"""Opening a run directory for reading: `open_store` checks that a source is one.

The files are read through `archsearch.rundir.RunStore`, the store the search
writes with (local paths, `file://`, and any URI fsspec or pyarrow opens).
"""

from __future__ import annotations

import os

from archsearch.rundir import RunDirError, RunStore

__all__ = ["RunDirError", "RunStore", "open_store"]


def open_store(source: str | os.PathLike) -> RunStore:
    """Returns a store for `source`; `RunDirError` if it is not a run directory.

    A run directory has a `run.json` or a `trials/` folder (a search that has
    just started may have only one of them).

    Args:
        source: Local path, `file://` URI, or any URI fsspec (or pyarrow) can open.

    Raises:
        RunDirError: naming the source, when it does not exist, cannot be read
            or holds neither `run.json` nor `trials/`.
    """
    text = os.fspath(source)
    expected = "expected a run directory written by `archsearch search`"
    try:
        store = RunStore(text)
        if not store.exists():
            raise RunDirError(f"{text}: no such directory ({expected})")
        if not store.is_dir():
            raise RunDirError(f"{text}: not a directory ({expected})")
        found = store.exists("run.json") or store.exists("trials")
    except OSError as err:
        raise RunDirError(f"{text}: cannot read: {err}") from None
    if not found:
        raise RunDirError(f"{text}: not a run directory (it has no run.json and no trials/ "
                          f"folder)")
    return store
