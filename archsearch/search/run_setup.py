"""Opening a run directory: create it for a new search, or check it to resume.

Resuming compacts the run's trial index (`archsearch.rundir.index.compact`):
the records a previous driver left unindexed (it died between a record and
its line, or the run predates the index) are indexed once, so the oracle's
rebuild and later reports read all trials in a few requests.
"""

from __future__ import annotations

import logging
import typing

from pydantic import AliasChoices, BaseModel, ValidationError

from archsearch.rundir import (
    LEASE_FILE,
    RUN_FORMAT,
    RUN_VERSION,
    RunDirError,
    RunRecord,
    RunStore,
    compact,
    explain,
)
from archsearch.search.trial_records import now

__all__ = ["open_run", "space_from_run", "space_record"]

log = logging.getLogger("archsearch.search")

#: Top-level keys a resumed search may change: how long it runs and on what
#: (CPUs, GPUs, populations), not what it searches.
_RESUMABLE_CHANGES = {"max_trials", "resources"}


def space_record(space) -> dict:
    """The resolved search space as JSON data, cells as genomes."""
    data = space.model_dump(mode="json")
    data["resolved_cells"] = {g.name: g.to_dict() for g in space.cells()}
    data["resolved_baseline"] = space.baseline_genome().to_dict()
    return data


def _models(annotation) -> list:
    """The pydantic models a field's annotation holds (itself, list items, union members)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _model_for(annotation, value):
    """The model describing `value` under `annotation` (a tagged union picks by `name`)."""
    models = _models(annotation)
    if len(models) > 1 and isinstance(value, dict):
        for model in models:
            tag = model.model_fields.get("name")
            if tag is not None and value.get("name") in typing.get_args(tag.annotation):
                return model
        return None
    return models[0] if models else None


def _is_default(model, key: str, value) -> bool:
    """Whether `value` (JSON data) is the schema default of `model`'s field `key`."""
    field = getattr(model, "model_fields", {}).get(key)
    if field is None or field.is_required():
        return False
    default = field.get_default(call_default_factory=True)
    if isinstance(default, BaseModel):
        default = default.model_dump(mode="json")
    return default == value


def _current_keys(model, data: dict) -> dict:
    """`data` with keys written under a field's former name (a validation alias) renamed.

    A run recorded before a key was renamed (`hyperparameters.layers`, now
    `num_layers`) compares equal to the same space written today.
    """
    names = {}
    for name, field in getattr(model, "model_fields", {}).items():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names.update({c: name for c in choices if isinstance(c, str) and c != name})
    return {names.get(key, key): value for key, value in data.items()} if names else data


def _first_difference(old, new, model=None, prefix: str = "") -> str | None:
    """The path of the first value that differs between two space records, or `None`.

    A key absent from `old` whose value in `new` is the schema's default (per
    `model`, the pydantic model of this level) is no difference: the run was
    recorded before that key existed, and meant the same thing.
    """
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for k, (a, b) in enumerate(zip(old, new, strict=True)):
            found = _first_difference(a, b, model, f"{prefix.rstrip('.')}[{k}].")
            if found:
                return found
        return None
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return None if old == new else prefix.rstrip(".")
    fields = getattr(model, "model_fields", {})
    old, new = _current_keys(model, old), _current_keys(model, new)
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        if key in _RESUMABLE_CHANGES and not prefix:
            continue
        if key not in old and _is_default(model, key, new[key]):
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict | list) and type(a) is type(b):
            sub = _model_for(fields[key].annotation, b) if key in fields else None
            found = _first_difference(a, b, sub, path + ".")
            if found:
                return found
        else:
            return path
    return None


def space_from_run(storage: RunStore):
    """The `SearchSpace` a run was started with, rebuilt from its `run.json`.

    Raises:
        RunDirError: no run.json, or its space cannot be rebuilt here (a cell
            file that moved, a newer archsearch): the message says to pass the
            space file instead.
    """
    from archsearch.space.search_space import SearchSpace

    data = storage.read_json("run.json")
    if not isinstance(data, dict) or not isinstance(data.get("space"), dict):
        raise RunDirError(f"{storage.uri}: not an archsearch run directory (no run.json with "
                          f"a space)")
    fields = {k: v for k, v in data["space"].items() if not k.startswith("resolved_")}
    try:
        return SearchSpace.model_validate(fields)
    except (ValidationError, ValueError, OSError) as err:
        raise RunDirError(f"{storage.path('run.json')}: cannot rebuild the run's search space "
                          f"({str(err).splitlines()[0][:120]}); pass it with --space "
                          f"SPACE.yaml") from None


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
        if storage.exists() and not storage.is_unused(ignore=(LEASE_FILE,)):
            raise RunDirError(f"{storage.uri}: exists and is not an archsearch run directory "
                              f"(no run.json); choose an empty or new --run-dir")
        if not create:
            return storage, False
        storage.remove_stale_temporaries(older_than=0)  # a creation that failed before
        storage.write_json("run.json", record.model_dump(mode="json"))
        storage.makedirs("trials")
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
    diff = _first_difference(old.space, record.space, type(space))
    if diff:
        raise RunDirError(f"{storage.uri}: was started from a different search space "
                          f"({diff!r} differs); rerun with the same space (and --seed), or "
                          f"use another --run-dir")
    changed = {k: record.space[k] for k in _RESUMABLE_CHANGES
               if k in record.space and old.space.get(k) != record.space[k]}
    if create and changed:  # how long and on what it runs now (--max-trials, --*-per-trial)
        storage.write_json("run.json", old.model_copy(update={"space": {**old.space, **changed}})
                           .model_dump(mode="json"))
    if create:
        storage.remove_stale_temporaries()
        try:
            compact(storage)
        except OSError as err:  # the index is a cache: the records are read one by one
            log.warning("%s: trial index not compacted (%s)", storage.uri, err)
    return storage, True
