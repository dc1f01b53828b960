"""Opening a run directory: create it for a new search, or check it to resume."""

from __future__ import annotations

from archsearch.search.records import RUN_FORMAT, VERSION, now
from archsearch.search.storage import RunDirError, RunStorage

__all__ = ["open_run", "space_record"]

# Keys a resumed search may change: how long it runs, not what it searches.
_RESUMABLE_CHANGES = {"max_trials"}


def space_record(space) -> dict:
    """The resolved search space as JSON data, cells as genomes."""
    data = space.model_dump(mode="json")
    data["resolved_cells"] = {g.name: g.to_dict() for g in space.cells()}
    data["resolved_baseline"] = space.baseline_genome().to_dict()
    return data


def _first_difference(old: dict, new: dict, prefix: str = "") -> str | None:
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        if key in _RESUMABLE_CHANGES and not prefix:
            continue
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, path + ".")
            if found:
                return found
        elif a != b:
            return path
    return None


def open_run(space, location: str, strategy: str, create: bool = True
             ) -> tuple[RunStorage, bool]:
    """Returns the run's storage and whether it resumes an existing run.

    With `create=False` it only checks (nothing is written).

    Raises:
        RunDirError: the directory holds something else, another search space,
            or a run of an unknown format. Nothing is written then.
    """
    storage = RunStorage(location)
    existing = storage.read_json("run.json") if storage.exists("run.json") else None
    record = {"format": RUN_FORMAT, "version": VERSION, "name": space.name,
              "strategy": strategy, "seed": space.seed, "baseline": space.baseline.label,
              "tasks": [t.name for t in space.tasks], "created_at": now(),
              "space": space_record(space)}
    if existing is None:
        if storage.exists() and storage.list(""):
            raise RunDirError(f"{storage.uri}: exists and is not an archsearch run directory "
                              f"(no run.json); choose an empty or new --run-dir")
        if not create:
            return storage, False
        storage.makedirs("trials")
        storage.write_json("run.json", record)
        return storage, False
    if not isinstance(existing, dict) or existing.get("format") != RUN_FORMAT:
        raise RunDirError(f"{storage.path('run.json')}: not an archsearch run file")
    if existing.get("version") != VERSION:
        raise RunDirError(f"{storage.path('run.json')}: run format version "
                          f"{existing.get('version')!r}, this archsearch writes {VERSION}")
    if existing.get("strategy") != strategy:
        raise RunDirError(f"{storage.uri}: holds a {existing.get('strategy')!r} run, not "
                          f"{strategy!r}; use another --run-dir")
    diff = _first_difference(existing.get("space", {}), record["space"])
    if diff:
        raise RunDirError(f"{storage.uri}: was started from a different search space "
                          f"({diff!r} differs); rerun with the same space (and --seed), or "
                          f"use another --run-dir")
    if create and existing["space"].get("max_trials") != record["space"].get("max_trials"):
        existing["space"]["max_trials"] = record["space"]["max_trials"]
        storage.write_json("run.json", existing)
    return storage, True
