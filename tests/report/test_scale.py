"""Reading at paper scale: store reads are O(1) + O(unindexed records), memory grows linearly.

The run directories are written directly by the benchmark's generator
(`benchmarks/driver_scale.py::write_records`: records and index lines as
`write_trial` writes them, no search). Reads are counted by wrapping
`RunStore.read_bytes` (every file read goes through it) and the listings.
"""

import dataclasses
import importlib.util
import tracemalloc
import uuid
from pathlib import Path

import pytest

from archsearch.report import ReportWarning, load_runs
from archsearch.rundir import RunStore, compact, read_trial, read_trials

_SPEC = importlib.util.spec_from_file_location(
    "driver_scale", Path(__file__).resolve().parents[2] / "benchmarks" / "driver_scale.py")
driver_scale = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(driver_scale)
CountingReads = driver_scale.CountingReads


def _run(path: Path, n: int, unindexed: int = 0) -> str:
    driver_scale.write_records(str(path), n, unindexed=unindexed)
    return str(path)


def _rows(runs) -> list:
    return [dataclasses.replace(t, curve=()) for t in runs.trials]


def _reduced(record):
    return record.model_copy(update={"curve": [], "timings": {"total": record.timings["total"]},
                                     "worker": {"node": record.worker["node"]}})


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> str:
    return _run(tmp_path_factory.mktemp("scale") / "run", 20_000, unindexed=200)


def test_index_and_records_give_the_same_trials(tmp_path):
    run = _run(tmp_path / "run", 600, unindexed=30)
    with CountingReads() as counted:
        indexed = load_runs([run])
    segments = len(RunStore(run).list("index"))
    assert counted.reads == 1 + segments + 30  # run.json, the segments, the unindexed records
    assert counted.listings <= 4 and len(indexed.trials) == 600
    store = RunStore(run)
    # the resume's records too: as read one by one, less what the index leaves out
    one_by_one = [read_trial(store, name[:-5]) for name in store.list_json("trials")]
    assert [_reduced(r) for r in read_trials(store)] == [_reduced(r) for r in one_by_one]
    for name in RunStore(run).list("index"):
        RunStore(run).delete(f"index/{name}")
    with CountingReads() as counted:
        plain = load_runs([run])
    assert counted.reads == 1 + 600
    assert _rows(indexed) == _rows(plain) and indexed.genomes == plain.genomes
    assert indexed.runs == plain.runs and indexed.warnings == plain.warnings == ()


def test_index_problems_are_report_warnings(tmp_path):
    run = _run(tmp_path / "run", 100)
    store = RunStore(run)
    segment = f"index/{store.list('index')[0]}"
    lines = store.read_text(segment).splitlines()
    store.write_text(segment, "\n".join([*lines[:-1], lines[-1][:40]]) + "\n")  # cut short
    store.delete("trials/000003.json")
    with pytest.warns(ReportWarning):
        runs = load_runs([run])
    text = "\n".join(runs.warnings)
    assert f"{segment} line 100: corrupt or truncated index line" in text
    assert "1 index line(s) name trial records that do not exist (e.g. trials/000003.json)" \
        in text
    assert len(runs.trials) == 99 and runs.runs[0].skipped == 0  # 000099 read on its own


def test_a_memory_uri_reads_the_index_too():
    run = _run(f"memory://scale-{uuid.uuid4().hex}", 500, unindexed=12)
    with CountingReads() as counted:
        runs = load_runs([run])
    assert len(runs.trials) == 500 and counted.reads == 1 + 1 + 12
    compact(RunStore(run))
    with CountingReads() as counted:
        assert len(read_trials(RunStore(run))) == 500
    assert counted.reads == 1


@pytest.mark.slow
def test_a_20k_record_report_reads_o1_plus_unindexed(big):
    segments = len(RunStore(big).list("index"))
    assert segments == 20  # 19,800 lines, 1,000 a segment
    with CountingReads() as counted:
        runs = load_runs([big])
    assert len(runs.trials) == 20_000 and runs.runs[0].skipped == 0 and runs.warnings == ()
    assert counted.reads == 1 + segments + 200 and counted.listings <= 4
    with CountingReads() as counted:
        assert len(read_trials(RunStore(big))) == 20_000  # the resume's enumeration
    assert counted.reads == segments + 200
    assert compact(RunStore(big)) == 20_000
    with CountingReads() as counted:
        compacted = load_runs([big])
    assert counted.reads == 2 and _rows(compacted) == _rows(runs)


def _peak_mib(run: str) -> float:
    tracemalloc.start()
    try:
        load_runs([run])
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_grows_linearly(tmp_path, big):
    small = _run(tmp_path / "small", 2_000)
    compact(RunStore(small))
    compact(RunStore(big))
    per_small, per_big = _peak_mib(small) / 2_000, _peak_mib(big) / 20_000
    assert per_big <= 1.3 * per_small  # 10x the records, at most 13x the memory
