"""`load_runs`: run directories -> `RunSet` (typed trial records + warnings).

Reading never stops at a bad file. A corrupt trial record (bad JSON, a missing
key, a value of the wrong type) or a record from another format version is
reported as a warning naming the file and what is wrong, and the rest is read.
Only a source that is not a run directory at all raises `RunDirError`.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from archsearch.report.records import RunInfo, RunSet, TrialRecord
from archsearch.report.store import RunDirError, RunStore, open_store

__all__ = ["RUN_FORMAT", "TRIAL_FORMAT", "VERSION", "ReportWarning", "load_runs"]

RUN_FORMAT = "archsearch.run"
TRIAL_FORMAT = "archsearch.trial"
VERSION = 1
STATUSES = ("completed", "failed")
# Stages: "prefilter" (a gate), "search" (scored), "report" (shown, not scored).
STAGE_ALIASES = {None: "search", "task": "search"}
_MAX_FILE_WARNINGS = 12  # per run; the rest are counted in one line


class ReportWarning(UserWarning):
    """A problem in a run directory that the report worked around."""


class _Bad(Exception):
    """A trial record that cannot be used; the message says why."""


def load_runs(sources: Iterable[str | os.PathLike]) -> RunSet:
    """Reads run directories into typed records.

    Every problem found (corrupt or foreign-version files) becomes one line in
    `RunSet.warnings` and is also issued with `warnings.warn(..., ReportWarning)`.

    Args:
        sources: Run directories: local paths or URIs (`s3://...`, needs fsspec).
            A search still in progress is read as far as it has got.

    Returns:
        A `RunSet` with one `RunInfo` per source and all valid trials.

    Raises:
        RunDirError: when a source is not a run directory (checked for all
            sources before any trial is read).
    """
    sources = [os.fspath(s) for s in sources]
    if not sources:
        raise RunDirError("no run directory given")
    stores = [open_store(s) for s in sources]
    runs, trials, problems = [], [], []
    genomes: dict[str, Mapping[str, Any]] = {}
    labels: Counter = Counter()
    for store in stores:
        info, run_trials, run_problems = _read_run(store, labels, genomes)
        runs.append(info)
        trials.extend(run_trials)
        problems.extend(run_problems)
    for line in problems:
        warnings.warn(line, ReportWarning, stacklevel=2)
    return RunSet(tuple(runs), tuple(trials), genomes, tuple(problems))


def _read_run(store: RunStore, labels: Counter, genomes: dict):
    source = store.source
    problems: list[str] = []
    meta: dict = {}
    if store.exists("run.json"):
        try:
            meta = json.loads(store.read_text("run.json"))
            if not isinstance(meta, dict):
                raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
        except (ValueError, UnicodeDecodeError, OSError) as err:
            problems.append(f"{_join(source, 'run.json')}: unreadable ({_short(err)}); "
                            f"run details unknown, trials read anyway")
            meta = {}
    else:
        problems.append(f"{_join(source, 'run.json')}: missing (search just started, or not "
                        f"written by archsearch); trials read anyway")
    version = meta.get("version") if isinstance(meta.get("version"), int) else None
    if meta:
        fmt = meta.get("format")
        if fmt != RUN_FORMAT:
            problems.append(f"{_join(source, 'run.json')}: format {fmt!r}, expected "
                            f"{RUN_FORMAT!r}; read with best effort")
        elif version != VERSION:
            problems.append(f"{_join(source, 'run.json')}: run format version "
                            f"{meta.get('version')!r}, this archsearch reads version {VERSION}; "
                            f"read with best effort")
    dir_name = PurePosixPath(source.rstrip("/").replace("\\", "/")).name or source
    name = meta.get("name") if isinstance(meta.get("name"), str) else dir_name
    labels[name] += 1
    label = name if labels[name] == 1 else f"{name}#{labels[name]}"
    strategy = meta.get("strategy") if isinstance(meta.get("strategy"), str) else "unknown"
    run_defaults = {"strategy": strategy}

    trials, file_problems, other_versions = [], [], Counter()
    run_genomes: dict[str, dict] = {}
    names = store.list_json("trials")
    for fname in names:
        rel = f"trials/{fname}"
        try:
            data = json.loads(store.read_text(rel))
            if not isinstance(data, dict):
                raise _Bad(f"expected a JSON object, got {type(data).__name__}")
            if data.get("format", TRIAL_FORMAT) != TRIAL_FORMAT:
                raise _Bad(f"format {data.get('format')!r}, expected {TRIAL_FORMAT!r}")
            if data.get("version", VERSION) != VERSION:
                other_versions[repr(data.get("version"))] += 1
            record, genome = _parse_trial(data, label, fname, run_defaults)
        except (ValueError, UnicodeDecodeError, OSError, _Bad) as err:
            what = "not valid JSON" if isinstance(err, json.JSONDecodeError) else "skipped"
            file_problems.append(f"{_join(source, rel)}: {what}: {_short(err)}")
            continue
        trials.append(record)
        if genome is not None:
            run_genomes.setdefault(record.fingerprint, genome)
    trials, renamed = _refingerprint(trials, run_genomes)
    if renamed:
        problems.append(f"{_join(source, 'trials/')}: {len(renamed)} cell fingerprint(s) were "
                        f"recorded by another archsearch version; cells are keyed by this "
                        f"version's fingerprint of their genome")
    for fp, genome in run_genomes.items():
        genomes.setdefault(renamed.get(fp, fp), genome)
    for ver, count in other_versions.items():
        problems.append(f"{_join(source, 'trials/')}: {count} trial record(s) have format version "
                        f"{ver}, this archsearch reads version {VERSION}; read with best effort")
    if len(file_problems) > _MAX_FILE_WARNINGS:
        more = len(file_problems) - _MAX_FILE_WARNINGS
        file_problems = file_problems[:_MAX_FILE_WARNINGS] + [
            f"{_join(source, 'trials/')}: ... and {more} more unreadable trial record(s)"]
    problems.extend(file_problems)
    trials.sort(key=lambda t: (t.sequence is None, t.sequence if t.sequence is not None else 0,
                               t.finished_at or datetime.max, t.trial_id))
    tasks = meta.get("tasks")
    tasks = tuple(t for t in tasks if isinstance(t, str)) if isinstance(tasks, list) else ()
    seed = meta.get("seed") if isinstance(meta.get("seed"), int) else None
    baseline = meta.get("baseline") if isinstance(meta.get("baseline"), str) else None
    space = meta.get("space") if isinstance(meta.get("space"), dict) else {}
    skipped = len(names) - len(trials)
    if strategy == "unknown" and trials:  # no run.json: the trials say
        strategy = Counter(t.strategy for t in trials).most_common(1)[0][0]
    info = RunInfo(label, source, name, strategy, seed, baseline, tasks,
                   _time(meta.get("created_at")), version, space, len(trials), skipped)
    return info, trials, problems


def _parse_trial(data: dict, run: str, fname: str, defaults: dict):
    cell = _field(data, "cell", dict)
    genome = cell.get("genome")
    if genome is not None and not isinstance(genome, dict):
        raise _Bad(f"field 'cell.genome' should be an object, got {_type(genome)}")
    fingerprint = cell.get("fingerprint")
    if fingerprint is None and genome is not None:
        fingerprint = _fingerprint_of(genome)
    if not isinstance(fingerprint, str) or not fingerprint:
        raise _Bad("field 'cell.fingerprint' missing (and no valid 'cell.genome' to compute it)")
    status = _field(data, "status", str)
    if status not in STATUSES:
        raise _Bad(f"field 'status' should be one of {list(STATUSES)}, got {status!r}")
    score = _opt(data, "score", (int, float))
    if score is not None and not math.isfinite(score):
        score = None
    metric = _opt(data, "score_metric", str)
    mode = _opt(data, "score_mode", str)
    if mode not in ("max", "min", None):
        raise _Bad(f"field 'score_mode' should be 'max' or 'min', got {mode!r}")
    metrics = _opt(data, "metrics", dict) or {}
    if score is None and status == "completed" and metric:  # older records: no 'score'
        valid = metrics.get("valid")
        value = valid.get(metric) if isinstance(valid, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            score = float(value)
    hparams = _opt(data, "hparams", dict) or {}
    curve = _opt(data, "curve", list) or []
    timings = _opt(data, "timings", dict) or {}
    worker = _opt(data, "worker", dict) or {}
    seconds = timings.get("total")
    seconds = float(seconds) if isinstance(seconds, int | float) and \
        not isinstance(seconds, bool) else None
    node = worker.get("node") or worker.get("hostname")
    record = TrialRecord(
        run=run,
        trial_id=str(_opt(data, "trial_id", (str, int)) or fname.removesuffix(".json")),
        sequence=_opt(data, "sequence", int),
        strategy=_opt(data, "strategy", str) or defaults["strategy"],
        status=status,
        failure=_opt(data, "failure", str),
        fingerprint=fingerprint,
        cell_name=_opt(cell, "name", str, "cell.name"),
        parent=_opt(cell, "parent", str, "cell.parent"),
        origin=_opt(cell, "origin", str, "cell.origin"),
        task=_field(data, "task", str),
        stage=STAGE_ALIASES.get(_opt(data, "stage", str), _opt(data, "stage", str)),
        hparams=hparams,
        seed=_opt(data, "seed", int),
        score=None if score is None else float(score),
        score_metric=metric,
        score_mode=mode,
        metrics=metrics,
        curve=tuple(p for p in curve if isinstance(p, dict)),
        params=_opt(data, "params", int),
        units=_opt(data, "units", int),
        steps=_opt(data, "steps", int),
        seconds=seconds,
        started_at=_time(data.get("started_at")),
        finished_at=_time(data.get("finished_at")),
        node=str(node) if node is not None else None,
        file=fname,
    )
    return record, genome


def _refingerprint(trials: list[TrialRecord], genomes: dict[str, dict],
                   sample: int = 4) -> tuple[list[TrialRecord], dict[str, str]]:
    """Re-keys trials whose recorded fingerprint is not this version's (an older run).

    A few genomes are checked; only if one disagrees are all recomputed.
    Returns the trials and the changed fingerprints (recorded -> this version's).
    """
    from dataclasses import replace

    checked = {fp: _fingerprint_of(g) for fp, g in list(genomes.items())[:sample]}
    if all(new in (None, fp) for fp, new in checked.items()):
        return trials, {}
    renamed = {fp: new for fp, g in genomes.items()
               if (new := _fingerprint_of(g)) is not None and new != fp}
    out = [replace(t, fingerprint=renamed.get(t.fingerprint, t.fingerprint),
                   parent=renamed.get(t.parent, t.parent)) for t in trials]
    return out, renamed


def _fingerprint_of(genome: dict) -> str | None:
    from archsearch.genome import Genome, GenomeError

    try:
        return Genome.from_dict(genome).fingerprint()
    except GenomeError:
        return None


def _field(data: dict, key: str, kind, path: str | None = None):
    if key not in data:
        raise _Bad(f"missing field {path or key!r}")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Bad(f"field {path or key!r} should be {_kind(kind)}, got {_type(value)}")
    return value


def _opt(data: dict, key: str, kind, path: str | None = None):
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Bad(f"field {path or key!r} should be {_kind(kind)} or null, got {_type(value)}")
    return value


def _kind(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", float: "a number", dict: "an object",
             list: "a list"}
    if set(kinds) == {int, float}:
        return "a number"
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _type(value) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


def _time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is not None:  # compare everything as naive UTC
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


def _short(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _join(source: str, rel: str) -> str:
    return f"{source.rstrip('/')}/{rel}"

