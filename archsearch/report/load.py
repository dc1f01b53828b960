"""`load_runs`: run directories -> `RunSet` (typed trial records + warnings).

Trial files are validated by the schema the search writes them with
(`archsearch.rundir.TrialRecord`). The trials come from the run's index
(`archsearch.rundir.index`: a few requests for all of them) wherever it has a
valid line for a listed record file; the other records are read one by one
(an older run without an index is read entirely that way). Their curves are
not in the index, so trials read from it have none; with `curves=True`
(the report) those the learning-speed table can compare are read again
from their files (`archsearch.report.curves`). Reading never stops at a
bad file. A corrupt trial record (bad JSON, a missing key, a value of the
wrong type) or a record from another format version is reported as a warning
naming the file and what is wrong, and the rest is read; so is a corrupt
index line (file and line number) or an index line without a record. A run given twice (the same
directory, or a copy of it) is read once, with a warning. Only a source that
is not a run directory at all raises `RunDirError`.
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

from pydantic import ValidationError

from archsearch.report import curves
from archsearch.report.store import RunDirError, RunStore, open_store
from archsearch.report.summaries import RunInfo, RunningTrial, RunSet, TrialRecord
from archsearch.rundir import RUN_FORMAT, RUN_VERSION, TRIAL_FORMAT, TRIAL_VERSION, explain, index
from archsearch.rundir import TrialRecord as StoredTrial

__all__ = ["RUN_FORMAT", "TRIAL_FORMAT", "ReportWarning", "load_runs"]
# Stages: "prefilter" (a gate), "search" (scored), "report" (shown, not scored).
STAGE_ALIASES = {None: "search", "task": "search"}
_MAX_FILE_WARNINGS = 12  # per run; the rest are counted in one line


class ReportWarning(UserWarning):
    """A problem in a run directory that the report worked around."""


class _Bad(Exception):
    """A trial record that cannot be used; the message says why."""


def load_runs(sources: Iterable[str | os.PathLike], *, curves: bool = False) -> RunSet:
    """Reads run directories into typed records.

    Every problem found (corrupt or foreign-version files) becomes one line in
    `RunSet.warnings` and is also issued with `warnings.warn(..., ReportWarning)`.

    Args:
        sources: Run directories: local paths or URIs (`s3://...`, needs fsspec).
            A search still in progress is read as far as it has got.
        curves: Also read again, from their files, the learning curves the
            speed table compares (`archsearch.report.curves`; the index has
            none): one request per such trial, at most `curves.MAX_FILES`
            per run. The report does; `open_run` does not.

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
    runs, trials, problems, running = [], [], [], []
    genomes: dict[str, Mapping[str, Any]] = {}
    labels: Counter = Counter()
    seen_dirs: dict[str, str] = {}  # store location -> the source it was first read from
    seen_trials: dict[tuple, str] = {}  # a trial's identity -> label of the run that had it
    for store in stores:
        if store.uri in seen_dirs:
            problems.append(f"{store.source}: the same run directory as "
                            f"{seen_dirs[store.uri]}, given again; read once")
            continue
        seen_dirs[store.uri] = store.source
        with index.gc_paused():
            info, run_trials, run_problems = _read_run(store, labels, genomes, curves)
        kept = [t for t in run_trials if _identity(t) not in seen_trials]
        if len(kept) < len(run_trials):
            first = next(seen_trials[key] for t in run_trials
                         if (key := _identity(t)) in seen_trials)
            run_problems.append(f"{store.source}: {len(run_trials) - len(kept)} trial record(s) "
                                f"are the same trials as in run {first!r} (a copy of the same "
                                f"run?); counted once")
            from dataclasses import replace

            info = replace(info, trials=len(kept))
        seen_trials.update((_identity(t), info.label) for t in kept)
        runs.append(info)
        running.extend(_read_running(store, info.label))
        trials.extend(kept)
        problems.extend(run_problems)
    for line in problems:
        warnings.warn(line, ReportWarning, stacklevel=2)
    search = tuple(t for t in trials if t.phase != "confirm")
    confirmations = tuple(t for t in trials if t.phase == "confirm")
    return RunSet(tuple(runs), search, genomes, tuple(problems), tuple(running), confirmations)


def _read_running(store: RunStore, label: str) -> list[RunningTrial]:
    """Trials with a live curve (`curves/<id>.json`) and no record yet; unreadable ones skipped."""
    running = []
    for fname in store.list_json("curves"):
        if store.exists(f"trials/{fname}"):  # ended between the two writes
            continue
        try:
            data = json.loads(store.read_text(f"curves/{fname}"))
            curve = tuple(p for p in data.get("curve", []) if isinstance(p, dict))
            text = {k: data.get(k) if isinstance(data.get(k), str) else None
                    for k in ("name", "fingerprint", "task", "score_metric", "score_mode",
                              "updated_at")}
        except (ValueError, UnicodeDecodeError, OSError, AttributeError):
            continue
        running.append(RunningTrial(label, fname[:-len(".json")], text["name"],
                                    text["fingerprint"], text["task"], text["score_metric"],
                                    text["score_mode"], curve, text["updated_at"]))
    return running


def _identity(trial: TrialRecord) -> tuple:
    """What makes two trial records the same trial, wherever they were read from."""
    return (trial.trial_id, trial.fingerprint, trial.task, trial.stage, trial.seed,
            trial.started_at, trial.finished_at, trial.status)


def _run_meta(store: RunStore, problems: list[str]) -> tuple[dict, int | None]:
    """`run.json` as a dict (empty if missing or unreadable) and its version; problems noted."""
    source = store.source
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
        elif version != RUN_VERSION:
            problems.append(f"{_join(source, 'run.json')}: run format version "
                            f"{meta.get('version')!r}, this archsearch reads version "
                            f"{RUN_VERSION}; read with best effort")
    return meta, version


def _read_run(store: RunStore, labels: Counter, genomes: dict, with_curves: bool = False):
    source = store.source
    problems: list[str] = []
    meta, version = _run_meta(store, problems)
    dir_name = PurePosixPath(source.rstrip("/").replace("\\", "/")).name or source
    name = meta.get("name") if isinstance(meta.get("name"), str) else dir_name
    labels[name] += 1
    label = name if labels[name] == 1 else f"{name}#{labels[name]}"
    strategy = meta.get("strategy") if isinstance(meta.get("strategy"), str) else "unknown"
    run_defaults = {"strategy": strategy}

    trials, file_problems, other_versions = [], [], Counter()
    run_genomes: dict[str, dict] = {}
    found = index.scan(store)
    names = found.files
    for fname in names:
        rel = f"trials/{fname}"
        try:
            record, genome, version = _from_index(found.rows.pop(fname, None), label, fname,
                                                  run_defaults)
            if record is None:  # not indexed (or its line is not valid): read the file
                data = json.loads(store.read_text(rel))
                if not isinstance(data, dict):
                    raise _Bad(f"expected a JSON object, got {type(data).__name__}")
                if data.get("format", TRIAL_FORMAT) != TRIAL_FORMAT:
                    raise _Bad(f"format {data.get('format')!r}, expected {TRIAL_FORMAT!r}")
                record, genome = _parse_trial(data, label, fname, run_defaults)
                version = data.get("version")
            if version != TRIAL_VERSION:
                other_versions[repr(version)] += 1
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
                        f"{ver}, this archsearch writes version {TRIAL_VERSION}; read with "
                        f"best effort")
    if len(found.problems) > _MAX_FILE_WARNINGS:
        more = len(found.problems) - _MAX_FILE_WARNINGS
        found.problems[_MAX_FILE_WARNINGS:] = [
            f"{_join(source, 'index/')}: ... and {more} more skipped index line(s) or file(s)"]
    problems.extend(found.problems)
    if len(file_problems) > _MAX_FILE_WARNINGS:
        more = len(file_problems) - _MAX_FILE_WARNINGS
        file_problems = file_problems[:_MAX_FILE_WARNINGS] + [
            f"{_join(source, 'trials/')}: ... and {more} more unreadable trial record(s)"]
    problems.extend(file_problems)
    trials = _numbered(trials)
    if with_curves:
        trials = curves.with_curves(store, trials, problems)
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


def _from_index(row: dict | None, run: str, fname: str, defaults: dict):
    """(record, genome, version) from an index row; Nones if there is none or it is not valid."""
    if row is None:
        return None, None, None
    try:
        record, genome = _parse_trial(index.record_data(row), run, fname, defaults)
    except _Bad:
        return None, None, None
    return record, genome, row.get("version")


def _parse_trial(data: dict, run: str, fname: str, defaults: dict):
    """A report `TrialRecord` (and the genome) from a trial file's JSON data."""
    sequence = data.get("sequence")  # version 1 only: the driver's numbering
    if sequence is not None and (not isinstance(sequence, int) or isinstance(sequence, bool)):
        raise _Bad(f"field 'sequence' should be an integer or null, got {_type(sequence)}")
    data = dict(data)
    if data.get("strategy") is None:
        data["strategy"] = defaults["strategy"]
    if data.get("trial_id") is None:
        data["trial_id"] = fname.removesuffix(".json")
    cell = data.get("cell")
    if isinstance(cell, dict) and cell.get("fingerprint") is None:  # older records
        fingerprint = _fingerprint_of(cell["genome"]) if isinstance(cell.get("genome"), dict) \
            else None
        if fingerprint is None:
            raise _Bad("field 'cell.fingerprint' missing (and no valid 'cell.genome' to "
                       "compute it)")
        data["cell"] = {**cell, "fingerprint": fingerprint}
    try:
        rec = StoredTrial.model_validate(data)
    except ValidationError as err:
        raise _Bad(explain(err)) from None
    score = rec.score if rec.score is not None and math.isfinite(rec.score) else None
    if score is None and rec.status == "completed" and rec.score_metric:  # version 0: no score
        valid = rec.metrics.get("valid")
        value = valid.get(rec.score_metric) if isinstance(valid, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            score = float(value)
    seconds = rec.timings.get("total")
    seconds = float(seconds) if isinstance(seconds, int | float) and \
        not isinstance(seconds, bool) else None
    node = rec.worker.get("node") or rec.worker.get("hostname")
    record = TrialRecord(
        run=run, trial_id=rec.trial_id, sequence=sequence, strategy=rec.strategy,
        status=rec.status, failure=rec.failure, fingerprint=rec.cell.fingerprint,
        cell_name=rec.cell.name, parent=rec.cell.parent, origin=rec.cell.origin,
        task=rec.task, stage=STAGE_ALIASES.get(rec.stage, rec.stage), hparams=rec.hparams,
        seed=rec.seed, score=score, score_metric=rec.score_metric, score_mode=rec.score_mode,
        metrics=rec.metrics, curve=tuple(rec.curve), params=rec.params, units=rec.units,
        steps=rec.steps, seconds=seconds, started_at=_time(rec.started_at),
        finished_at=_time(rec.finished_at), node=str(node) if node is not None else None,
        file=fname, sample=rec.sample, simulated=rec.simulated, phase=rec.phase)
    return record, rec.cell.genome


def _numbered(trials: list[TrialRecord]) -> list[TrialRecord]:
    """Trials in finishing order, each with a sequence number.

    Version-1 records carry the driver's number; the others (version 2, or a
    version-1 record its driver never numbered) are numbered after the highest
    recorded one, in the order they finished.
    """
    from dataclasses import replace

    def order(t):
        return (t.finished_at or datetime.max, t.trial_id)

    numbered = [t for t in trials if t.sequence is not None]
    top = max((t.sequence for t in numbered), default=0)
    rest = sorted((t for t in trials if t.sequence is None), key=order)
    numbered += [replace(t, sequence=top + k) for k, t in enumerate(rest, 1)]
    return sorted(numbered, key=lambda t: (t.sequence, *order(t)))


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

