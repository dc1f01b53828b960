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

This module writes the index (`append`, `compact`); the rows and the reading
side (`summary`, `record_data`, `scan`, `read_trials`) are in
`archsearch.rundir.index_scan` and importable from here too.

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

import io
import itertools
import json
import logging
import os
import re
import socket
import threading
import uuid

from archsearch.rundir.index_scan import (
    INDEX_DIR,
    JSON_COLUMNS,
    Scan,
    gc_paused,
    read_record,
    read_trials,
    record_data,
    scan,
    summary,
)
from archsearch.rundir.records import TrialRecord
from archsearch.rundir.store import RunStore

__all__ = ["INDEX_DIR", "SEGMENT_LINES", "Scan", "append", "compact", "gc_paused",
           "read_trials", "record_data", "scan", "summary"]

#: Lines per segment; bounds what a writer on an object store rewrites per append.
SEGMENT_LINES = 1000
# The Parquet schema: `JSON_COLUMNS` columns hold JSON text.
_STRINGS = ("file", "trial_id", "format", "strategy", "status", "failure", "name",
            "fingerprint", "parent", "origin", "task", "stage", "score_metric", "score_mode",
            "node", "started_at", "finished_at", "phase")
_INTS = ("bytes", "version", "sequence", "seed", "sample", "params", "units", "steps")
_FLOATS = ("score", "seconds")
log = logging.getLogger("archsearch.rundir")


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


#: Rows per Parquet row group: a compaction holds one group's columns at a time.
ROW_GROUP = 10_000


def _schema():
    import pyarrow as pa

    return pa.schema([*((k, pa.string()) for k in _STRINGS + JSON_COLUMNS),
                      *((k, pa.int64()) for k in _INTS),
                      *((k, pa.float64()) for k in _FLOATS), ("simulated", pa.bool_())])


def _table(rows) -> bytes:
    """The rows (an iterable, consumed once) as Parquet bytes, `ROW_GROUP` rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, sink, rows = _schema(), io.BytesIO(), iter(rows)
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        while True:  # at least one group: a file of no rows still has the schema
            group = list(itertools.islice(rows, ROW_GROUP))
            cols = {k: [r.get(k) for r in group] for k in schema.names}
            for key in JSON_COLUMNS:
                cols[key] = [None if v is None else json.dumps(v, separators=(",", ":"))
                             for v in cols[key]]
            writer.write_table(pa.table(cols, schema=schema))
            if len(group) < ROW_GROUP:
                break
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
    rows, sources = found.rows, found.sources
    for name in found.unindexed:
        record, raw, _ = read_record(store, name)
        if record is not None:
            sequence = raw.get("sequence") if type(raw.get("sequence")) is int else None
            rows[name] = summary(json.loads(record.to_json()), name, raw["bytes"], sequence)
    del found
    count = len(rows)
    # Each row is dropped once its group is written: at 100k rows the rows
    # themselves, not the table, are most of a compaction's memory.
    store.write_bytes(f"{INDEX_DIR}/compact-{uuid.uuid4().hex[:16]}.parquet",
                      _table(rows.pop(name) for name in sorted(rows)))
    for name in sources:
        store.delete(f"{INDEX_DIR}/{name}")
    return count
