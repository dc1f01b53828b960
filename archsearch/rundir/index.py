"""The trial index: one summary line per trial record, so 100k trials read in a few requests.

Layout, under `index/` in the run directory:

* `<writer>-<n>.jsonl`: append-only segments. Each process that writes trial
  records appends one line per record it creates to a segment of its own
  (`writer` = host, process id and a random suffix, so concurrent writers
  never share a file); after `SEGMENT_LINES` lines it starts segment `n + 1`.
* `compact-<random>.parquet`: a compaction (`compact`): every line known when
  it was made, plus the records that had none, in one Parquet table.

A line holds what a report row and a resume need: the record's fields except
its curve, with `timings` reduced to `total` and `worker` to `node` (see
`record_data`) and the size of its file. The record files stay the source
of truth: a record is written before its line, and a reader (`scan`) checks
the index against the listing of `trials/` (names and sizes, one listing; a
record rewritten in place to the very same size would go unnoticed, but
records are write-once). A record without a line (its writer died in between, or
a compaction raced the append) is read on its own and indexed by the next
compaction; a line without a record, a corrupt line or an unreadable index
file is skipped with a warning naming it. Compactions only add a file, then
delete the files they merged, so concurrent writers and compactions never lose
a line that the listing cannot bring back. A run directory without `index/`
(older archsearch) is read record by record.

Example:
    >>> import tempfile
    >>> from archsearch.rundir import CellRef, RunStore, TrialRecord, write_trial
    >>> store = RunStore(tempfile.mkdtemp())
    >>> _ = write_trial(store, TrialRecord(trial_id="7", strategy="fixed", status="failed",
    ...                 task="xml", cell=CellRef(fingerprint="ab" * 16)))
    >>> found = scan(store)
    >>> found.files, found.rows["7.json"]["status"], found.unindexed
    (['7.json'], 'failed', [])
    >>> compact(store), [n.endswith(".parquet") for n in store.list("index")]
    (1, [True])
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import math
import os
import re
import socket
import threading
import uuid
from dataclasses import dataclass, field

from pydantic import ValidationError

from archsearch.rundir.records import TrialRecord
from archsearch.rundir.store import RunStore

__all__ = ["INDEX_DIR", "SEGMENT_LINES", "Scan", "append", "compact", "gc_paused",
           "read_trials", "record_data", "scan", "summary"]

INDEX_DIR = "index"
TRIALS_DIR = "trials"
#: Lines per segment; bounds what a writer on an object store rewrites per append.
SEGMENT_LINES = 1000
_STRINGS = ("file", "trial_id", "format", "strategy", "status", "failure", "name",
            "fingerprint", "parent", "origin", "task", "stage", "score_metric", "score_mode",
            "node", "started_at", "finished_at")
_INTS = ("bytes", "version", "sequence", "seed", "sample", "params", "units", "steps")
_FLOATS = ("score", "seconds")
_JSON = ("genome", "hparams", "metrics")  # nested: objects in a line, JSON text in Parquet
_TOP = ("format", "version", "trial_id", "strategy", "status", "failure", "task", "stage",
        "hparams", "seed", "sample", "score", "score_metric", "score_mode", "metrics",
        "params", "units", "steps", "started_at", "finished_at", "simulated")
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


class _Writer:
    """This process's segments in one run directory."""

    def __init__(self, store: RunStore):
        host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname())[:40] or "host"
        self.store, self.id = store, f"{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.segment, self.lines, self.text = 0, 0, ""
        self.lock = threading.Lock()

    def append(self, line: str) -> None:
        with self.lock:
            if self.lines >= SEGMENT_LINES:
                self.segment, self.lines, self.text = self.segment + 1, 0, ""
            rel = f"{INDEX_DIR}/{self.id}-{self.segment}.jsonl"
            if self.store.is_local:
                self.store.append_text(rel, line)
            else:  # no append on object stores: this writer's segment, written whole
                self.text += line
                self.store.write_text(rel, self.text)
            self.lines += 1


_writers: dict[tuple[str, int], _Writer] = {}
_writers_lock = threading.Lock()


def append(store: RunStore, record: TrialRecord) -> None:
    """Appends `record`'s line to this process's segment; a failure is logged, never raised.

    Called by `write_trial` after the record file is created: the record is
    safe whatever happens here (a record without a line is read on its own).
    """
    text = record.to_json()  # what its file holds
    row = summary(json.loads(text), f"{record.trial_id}.json", len(text.encode("utf-8")))
    line = json.dumps(row, separators=(",", ":")) + "\n"
    key = (store.uri, os.getpid())  # a forked child gets a writer of its own
    with _writers_lock:
        writer = _writers.get(key) or _writers.setdefault(key, _Writer(store))
    try:
        writer.append(line)
    except OSError as err:
        log.warning("trial %s: index line not written (%s); the record is read on its own",
                    record.trial_id, err)


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


def _table_rows(data: bytes):
    import pyarrow.parquet as pq

    genomes: dict[str, object] = {}  # one dict per distinct genome text
    for row in pq.read_table(io.BytesIO(data)).to_pylist():
        for key in _JSON:
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
    rows, origin, problems, done, genomes = {}, {}, [], [], {}
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
            except (OSError, ValueError, KeyError) as err:  # pyarrow's errors are among these
                problems.append(f"{where}: unreadable index file ({str(err)[:80]}); skipped")
                continue
            for row in found:
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


def _read_record(store: RunStore, name: str) -> tuple[TrialRecord | None, dict, str | None]:
    """A record file read on its own: (record, its data, None) or (None, data, what is wrong)."""
    from archsearch.rundir.trials import explain

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
            row = found.rows.get(name)
            if row is not None:
                try:
                    records.append(TrialRecord.model_validate(record_data(row)))
                    continue
                except ValidationError:  # a line that does not match its record: read that
                    pass
            record, _, problem = _read_record(store, name)
            if record is None:
                found.problems.append(f"trial record {name} ignored: {problem}")
            else:
                records.append(record)
    for line in found.problems:
        log.warning("%s", line)
    return records


def _table(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([*((k, pa.string()) for k in _STRINGS + _JSON),
                        *((k, pa.int64()) for k in _INTS),
                        *((k, pa.float64()) for k in _FLOATS), ("simulated", pa.bool_())])
    cols = {k: [r.get(k) for r in rows] for k in schema.names}
    for key in _JSON:
        cols[key] = [None if v is None else json.dumps(v, separators=(",", ":"))
                     for v in cols[key]]
    sink = io.BytesIO()
    pq.write_table(pa.table(cols, schema=schema), sink, compression="zstd")
    return sink.getvalue()


def compact(store: RunStore, min_files: int = 1) -> int | None:
    """Merges the index files and the unindexed records into one Parquet file.

    Safe to run while trials are written and alongside another compaction: the
    new file is written before the merged ones are deleted. Records that are
    not valid (or that `TrialRecord` cannot read, such as format 0 without a
    fingerprint) stay unindexed and are read on their own.

    Args:
        store: The run directory.
        min_files: Do nothing when no record is unindexed and there are fewer
            index files than this, or only one compaction (already compact).

    Returns:
        The rows of the new file, or None when nothing was done.
    """
    found = scan(store)
    compacted = [n for n in found.sources if n.endswith(".parquet")] == found.sources
    if not found.unindexed and (len(found.sources) < min_files
                                or compacted and len(found.sources) <= 1):
        return None
    rows = dict(found.rows)
    for name in found.unindexed:
        record, raw, _ = _read_record(store, name)
        if record is not None:
            sequence = raw.get("sequence") if type(raw.get("sequence")) is int else None
            rows[name] = summary(json.loads(record.to_json()), name, raw["bytes"], sequence)
    store.write_bytes(f"{INDEX_DIR}/compact-{uuid.uuid4().hex[:16]}.parquet",
                      _table([rows[name] for name in sorted(rows)]))
    for name in found.sources:
        store.delete(f"{INDEX_DIR}/{name}")
    return len(rows)
