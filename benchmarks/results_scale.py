"""`archsearch.open_run(...).trials()` on a 100k-record run: seconds and peak memory.

The run directory is written directly, without a search, by
`driver_scale.write_records` (records and index lines as `write_trial`
writes them; about 48 trials a cell, 5% failed). Each measurement runs in a
child process of its own, so its peak resident memory (`resource.getrusage`,
`ru_maxrss`) is the reader's alone: `open_run(d).trials()` with the index as
the writers leave it (segments of 1,000 lines), the same after `compact`
(one Parquet file), and with `--best`, `trials()` then `best(k=10)` (the
report's whole aggregation; the peak is then that of both). Targets for
`trials()`: <= 30 s and <= 2 GiB.

Measured (2 cores shared with other work, load average ~3.5, `--records
100000 --best`, run directory on local disk): 100,000 rows x 29 columns;
segments: `trials()` 14.7 s, `best(k=10)` 29.7 s more, peak RSS 830 MiB;
compacted: `trials()` 11.4 s, `best` 43.3 s, peak 887 MiB; no TensorFlow
imported. Writing the records took 25.7 s.

Usage:
    python benchmarks/results_scale.py --records 100000 [--dir /dev/shm] [--best]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

CHILD = """
import json, resource, sys, time
import archsearch
start = time.perf_counter()
run = archsearch.open_run(sys.argv[1])
df = run.trials()
out = {"rows": len(df), "columns": df.shape[1], "trials_s": time.perf_counter() - start}
if sys.argv[2] == "best":
    start = time.perf_counter()
    out["best"] = [c.name for c in run.best(k=10)][:3]
    out["best_s"] = time.perf_counter() - start
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["tensorflow"] = "tensorflow" in sys.modules
print(json.dumps(out))
"""


def measure(run_dir: str, best: bool) -> dict:
    """One child process reading `run_dir`: its timings and peak RSS (MiB)."""
    proc = subprocess.run([sys.executable, "-c", CHILD, run_dir, "best" if best else "-"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="where to write the run (default: /tmp)")
    parser.add_argument("--best", action="store_true", help="also time best(k=10)")
    args = parser.parse_args()

    from driver_scale import write_records

    from archsearch.rundir import RunStore, compact

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="results_scale-") as work:
        run_dir = str(Path(work) / "run")
        start = time.perf_counter()
        write_records(run_dir, args.records)
        print(f"wrote {args.records} records in {time.perf_counter() - start:.1f} s",
              flush=True)
        for layout in ("segments", "compacted"):
            if layout == "compacted":
                compact(RunStore(run_dir))
            out = {"layout": layout, **measure(run_dir, args.best)}
            print(json.dumps({k: round(v, 2) if isinstance(v, float) else v
                              for k, v in out.items()}), flush=True)
            ok = out["trials_s"] <= 30 and out["peak_rss_mib"] <= 2048
            print(f"{layout}: trials() of {out['rows']} records in {out['trials_s']:.1f} s, "
                  f"peak RSS {out['peak_rss_mib']:.0f} MiB (targets <= 30 s, <= 2048 MiB: "
                  f"{'met' if ok else 'MISSED'})", flush=True)


if __name__ == "__main__":
    main()
