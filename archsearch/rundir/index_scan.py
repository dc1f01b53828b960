"""Reading the trial index: its rows, checked against the listing of `trials/`.

The format and the rules are described in `archsearch.rundir.index`, which
writes the index (`append`, `compact`) and re-exports what is here:

* `summary`, `record_data`: a record's index row, and the record data rebuilt
  from it (no curve; timings and worker reduced).
* `scan`: every index file read once, then `trials/` listed once; rows whose
  record is missing or has another size are dropped (`Scan`).
* `read_trials`: every valid trial record, from the index where it has them,
  the others read on their own.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from pydantic import ValidationError

from archsearch.rundir.records import TRIAL_VERSION, TrialRecord, explain
from archsearch.rundir.store import RunStore

__all__ = ["INDEX_DIR", "JSON_COLUMNS", "TRIALS_DIR", "Scan", "gc_paused", "read_record",
           "read_trials", "record_data", "scan", "summary"]

INDEX_DIR = "index"
TRIALS_DIR = "trials"
JSON_COLUMNS = ("genome", "hparams", "metrics")  # nested: objects in a line, JSON text in Parquet
_TOP = ("format", "version", "trial_id", "strategy", "status", "failure", "task", "stage",
        "hparams", "seed", "sample", "score", "score_metric", "score_mode", "metrics",
        "params", "units", "steps", "started_at", "finished_at", "simulated", "phase")
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.json")
log = logging.getLogger("archsearch.rundir")


def summary(data: dict, file: str, size: int, sequence: int | None = None) -> dict:
    """The index row of a record: its file's JSON data, name and size in bytes."""
    cell, timings, worker = data["cell"], data.get("timings") or {}, data.get("worker") or {}
    seconds = timings.get("total")
    number = isinstance(seconds, int | float) and not isinstance(seconds, bool)
    node = worker.get("node") or worker.get("hostname")
    row = {k: data.get(k) for k in _TOP}
    score = row["score"]
    row["score"] = score if isinstance(score, float | int) and math.isfinite(score) else None
    row.update(file=file, bytes=size, sequence=sequence, name=cell.get("name"),
               fingerprint=cell["fingerprint"], genome=cell.get("genome"),
               parent=cell.get("parent"), origin=cell.get("origin"),
               seconds=float(seconds) if number and math.isfinite(seconds) else None,
               node=None if node is None else str(node))
    return row


def record_data(row: dict) -> dict:
    """A record's JSON data rebuilt from its index row (no curve; timings and worker reduced)."""
    data = {k: row.get(k) for k in _TOP}
    data["hparams"], data["metrics"] = data["hparams"] or {}, data["metrics"] or {}
    data["simulated"] = bool(data["simulated"])
    data["phase"] = data["phase"] or "search"  # an index written before phases existed
    data["cell"] = {k: row.get(k) for k in ("name", "fingerprint", "genome", "parent", "origin")}
    data["timings"] = {} if row.get("seconds") is None else {"total": row["seconds"]}
    data["worker"] = {} if row.get("node") is None else {"node": row["node"]}
    if row.get("sequence") is not None:
        data["sequence"] = row["sequence"]
    return data


@contextlib.contextmanager
def gc_paused():
    """Pauses Python's cyclic garbage collector while 100k records are built.

    They allocate millions of containers and no cycles, and each automatic
    full collection walks every one of them: reading 20k records takes 2-3x
    longer with it on. Refcounting still frees what is dropped.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Scan:
    """What `scan` found: the listed record files and the index rows of those it indexes.

    Args:
        files: Record file names under `trials/` (sorted).
        rows: Index row by record file name, for listed files only.
        problems: One line per skipped index line or file, naming it.
        sources: The index files read (what a compaction replaces).
    """

    files: list[str]
    rows: dict[str, dict]
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def unindexed(self) -> list[str]:
        """Listed record files without an index row: to read one by one."""
        return [f for f in self.files if f not in self.rows]


# Index fields whose values repeat across rows: kept once per scan (`_lean`).
_REPEATED = frozenset(("format", "strategy", "status", "task", "stage", "score_metric",
                       "score_mode", "name", "fingerprint", "parent", "origin", "node"))


def _lean(row: dict, strings: dict[str, str]) -> dict:
    """`row` with its keys and repeated values as one string object each per scan.

    A parsed line has its own copy of every key; at 100k rows the copies are
    a third of a scan's memory.
    """
    return {strings.setdefault(k, k): strings.setdefault(v, v)
            if k in _REPEATED and type(v) is str else v for k, v in row.items()}


def _lines(text: str, where: str, problems: list[str]):
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not _FILE.fullmatch(str(row.get("file"))):
                raise ValueError("expected a JSON object with a record file name")
        except (ValueError, RecursionError) as err:
            problems.append(f"{where} line {number}: corrupt or truncated index line "
                            f"({str(err).splitlines()[0][:80]}); skipped")
            continue
        yield row


_FOREIGN = "not an archsearch trial index"


def _table_rows(data: bytes):
    import pyarrow.parquet as pq

    genomes: dict[str, object] = {}  # one dict per distinct genome text
    table = pq.read_table(io.BytesIO(data))
    missing = [c for c in ("file", "bytes", *JSON_COLUMNS) if c not in table.column_names]
    if missing:  # a Parquet file of something else: not an index of this run
        raise ValueError(f"{_FOREIGN} (no column {missing[0]!r})")
    for row in table.to_pylist():
        if not _FILE.fullmatch(str(row.get("file"))):
            raise ValueError(f"{_FOREIGN} (file {str(row.get('file'))[:40]!r})")
        for key in JSON_COLUMNS:
            if row.get(key) is not None and not isinstance(row[key], str | bytes):
                raise ValueError(f"{_FOREIGN} (column {key!r} holds "
                                 f"{type(row[key]).__name__}, expected JSON text)")
            text = row.get(key)
            if key == "genome" and text is not None:
                row[key] = genomes[text] if text in genomes else \
                    genomes.setdefault(text, json.loads(text))
            else:
                row[key] = None if text is None else json.loads(text)
        yield row


def _shared(genomes: dict[str, list[dict]], row: dict) -> dict:
    """The row's genome, as the object already seen for an equal genome of its cell if any."""
    seen = genomes.setdefault(str(row.get("fingerprint")), [])
    found = next((g for g in seen if g == row["genome"]), None)
    if found is None:
        seen.append(found := row["genome"])
    return found


def scan(store: RunStore) -> Scan:
    """Reads the index (one request per index file), then lists `trials/`.

    Listing after reading means every line's record is listed unless it was
    deleted: a record is written before its line.
    """
    with gc_paused():
        return _scan(store)


def _scan(store: RunStore) -> Scan:
    rows, origin, problems, done, genomes, strings = {}, {}, [], [], {}, {}
    for _ in range(3):  # a compaction may replace files between the listing and the reads
        vanished = False
        for name in store.list(INDEX_DIR):
            if name in done or not name.endswith((".jsonl", ".parquet")):
                continue
            where = store.path(f"{INDEX_DIR}/{name}")
            data = store.read_bytes(f"{INDEX_DIR}/{name}")
            if data is None:
                vanished = True
                continue
            done.append(name)
            try:
                found = list(_table_rows(data) if name.endswith(".parquet") else
                             _lines(data.decode("utf-8", "replace"), where, problems))
            except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
                # pyarrow's errors are among these; a foreign file too
                problems.append(f"{where}: unreadable index file ({str(err)[:80]}); skipped")
                if str(err).startswith(_FOREIGN):  # not ours: a compaction leaves it alone
                    done.remove(name)
                continue
            for row in found:
                row = _lean(row, strings)
                if isinstance(row.get("genome"), dict):  # one object per genome, not per line
                    row["genome"] = _shared(genomes, row)
                if row["file"] not in rows:
                    rows[row["file"]], origin[row["file"]] = row, where
        if not vanished:
            break
    listed = {n: size for n, size in store.list_sizes(TRIALS_DIR).items() if n.endswith(".json")}
    orphans: dict[str, list[str]] = {}
    for name in list(rows):
        if name not in listed:
            orphans.setdefault(origin[name], []).append(name)
        if listed.get(name) != rows[name].get("bytes"):  # no record, or not the one indexed
            del rows[name]
    for where, names in orphans.items():
        problems.append(f"{where}: {len(names)} index line(s) name trial records that do not "
                        f"exist (e.g. trials/{names[0]}); ignored")
    return Scan(list(listed), rows, problems, done)


def read_record(store: RunStore, name: str) -> tuple[TrialRecord | None, dict, str | None]:
    """A record file read on its own: (record, its data, None) or (None, data, what is wrong)."""
    rel, data = f"{TRIALS_DIR}/{name}", {}
    try:
        raw = store.read_bytes(rel) or b"null"
        data = json.loads(raw)
        data = {**data, "bytes": len(raw)} if isinstance(data, dict) else data
        return TrialRecord.model_validate(data), data, None
    except ValidationError as err:
        return None, data, f"{store.path(rel)}: not a valid trial record: {explain(err)}"
    except (ValueError, OSError) as err:
        return None, data, f"{store.path(rel)}: not valid JSON ({str(err).splitlines()[0]})"


def read_trials(store: RunStore) -> list[TrialRecord]:
    """Every valid trial record, from the index where it has them (without their curves).

    Records without a line, or whose line does not validate, are read on
    their own; problems are logged as warnings on `archsearch.rundir`.
    """
    with gc_paused():
        found, records = scan(store), []
        for name in found.files:
            row = found.rows.pop(name, None)  # freed once its record is built
            if row is not None:
                try:
                    records.append(TrialRecord.model_validate(record_data(row)))
                    continue
                except ValidationError:  # a line that does not match its record: read that
                    pass
            record, _, problem = read_record(store, name)
            if record is None:
                found.problems.append(f"trial record {name} ignored: {problem}")
            else:
                records.append(record)
    older = Counter(r.version for r in records if r.version != TRIAL_VERSION)
    for version, count in sorted(older.items(), key=lambda item: str(item[0])):
        found.problems.append(f"{store.path(TRIALS_DIR)}: {count} trial record(s) have format "
                              f"version {version}, this archsearch writes version "
                              f"{TRIAL_VERSION}; read with best effort")
    for line in found.problems:
        log.warning("%s", line)
    return records
