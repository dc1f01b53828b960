"""Opening a run directory: create it for a new search, or check it to resume."""

from __future__ import annotations

from pydantic import ValidationError

from archsearch.rundir import (
    LEASE_FILE,
    RUN_FORMAT,
    RUN_VERSION,
    RunDirError,
    RunRecord,
    RunStore,
    explain,
)
from archsearch.search.records import now

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
             ) -> tuple[RunStore, bool]:
    """Returns the run's storage and whether it resumes an existing run.

    With `create=False` it only checks (nothing is written).

    Raises:
        RunDirError: the directory holds something else, another search space,
            or a run of an unknown format. Nothing is written then.
    """
    storage = RunStore(location)
    existing = storage.read_json("run.json")
    record = RunRecord(name=space.name, strategy=strategy, seed=space.seed,
                       baseline=space.baseline.label, tasks=[t.name for t in space.tasks],
                       created_at=now(), space=space_record(space))
    if existing is None:
        # A lease alone is what a driver that has just started leaves behind.
        if storage.exists() and set(storage.list("")) - {LEASE_FILE}:
            raise RunDirError(f"{storage.uri}: exists and is not an archsearch run directory "
                              f"(no run.json); choose an empty or new --run-dir")
        if not create:
            return storage, False
        storage.makedirs("trials")
        storage.write_json("run.json", record.model_dump(mode="json"))
        return storage, False
    if not isinstance(existing, dict) or existing.get("format") != RUN_FORMAT:
        raise RunDirError(f"{storage.path('run.json')}: not an archsearch run file")
    if existing.get("version") != RUN_VERSION:
        raise RunDirError(f"{storage.path('run.json')}: run format version "
                          f"{existing.get('version')!r}, this archsearch writes {RUN_VERSION}")
    try:
        old = RunRecord.model_validate(existing)
    except ValidationError as err:
        raise RunDirError(f"{storage.path('run.json')}: not a valid run file: {explain(err)}") \
            from None
    if old.strategy != strategy:
        raise RunDirError(f"{storage.uri}: holds a {old.strategy!r} run, not "
                          f"{strategy!r}; use another --run-dir")
    diff = _first_difference(old.space, record.space)
    if diff:
        raise RunDirError(f"{storage.uri}: was started from a different search space "
                          f"({diff!r} differs); rerun with the same space (and --seed), or "
                          f"use another --run-dir")
    if create and old.space.get("max_trials") != record.space.get("max_trials"):
        space = {**old.space, "max_trials": record.space["max_trials"]}
        storage.write_json("run.json", old.model_copy(update={"space": space})
                           .model_dump(mode="json"))
    return storage, True
