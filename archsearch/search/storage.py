"""Kept for the public name `archsearch.search.RunStorage`: the store is `archsearch.rundir`."""

from archsearch.rundir.store import RunDirError
from archsearch.rundir.store import RunStore as RunStorage

__all__ = ["RunDirError", "RunStorage"]
