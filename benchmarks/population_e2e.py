"""End to end: a small study with `population: auto` against one-by-one, same machine.

The check the speed issue asked for: a 1-worker space of 8 GRU samples
(units 64, 600 steps on the quickstart's arithmetic, learning rates drawn
from the space) run with `archsearch search` as a user runs it, once with
`resources.population: none` and once with `auto`, interleaved (none, auto,
auto, none, ...), each into a fresh run directory. Printed per run: the
command's wall time (Ray's start included) and the search's own seconds; at
the end the ratio none / auto as median [min-max] over the pairs, and
whether the two sides' scores agree (a population trains each member as
its solo trial would, up to float rounding).

`--space` runs another shipped space the same way (its own resources but
with `population` set per side), e.g. the quickstart as it was filed.

Usage:
    python benchmarks/population_e2e.py                 # 3 pairs, ~3 minutes
    python benchmarks/population_e2e.py --pairs 2 --space search_spaces/quickstart.yaml
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SPACE = {
    "name": "population_e2e",
    "description": "8 GRU samples, 64 units, 600 steps: the population end-to-end check.",
    "seed": 0,
    "max_trials": 8,
    "baseline": "gru",
    "strategy": {"name": "fixed", "cells": ["gru"], "hyperparameter_samples": 8},
    "hyperparameters": {"units": [64], "num_layers": [1], "optimizer": ["adam"],
                        "learning_rate": [0.002, 0.003, 0.005, 0.007, 0.01, 0.015, 0.02],
                        "init_scale": [1.0], "clip_norm": [5.0], "dropout": [0.0]},
    "tasks": [{"name": "arithmetic", "budget": {"steps": 600, "batch_size": 32}, "seeds": 1,
               "options": {"max_digits": 2, "max_distractors": 1, "num_examples": 8000}}],
    "resources": {"cpus": 1, "gpu": 0},
}


def _space(base: dict, population: str, folder: Path) -> Path:
    space = json.loads(json.dumps(base))
    space.setdefault("resources", {})["population"] = population
    path = folder / f"space_{population}.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False), encoding="utf-8")
    return path


def _run(space: Path, run_dir: Path, workers: int) -> dict:
    cmd = [sys.executable, "-m", "archsearch", "search", str(space), "--run-dir", str(run_dir),
           "--no-progress", "--workers", str(workers)]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"search failed ({done.returncode}): {done.stderr[-2000:]}")
    ran = re.search(r"this call ran (\d+) s", done.stdout + done.stderr)
    scores = sorted(json.loads(p.read_text())["score"] or 0.0
                    for p in (run_dir / "trials").glob("*.json"))
    return {"wall": wall, "search": int(ran.group(1)) if ran else None, "scores": scores}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs of runs")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--space", default=None, help="a space file instead of the 8 samples")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from device_info import describe_device

    base = SPACE if args.space is None else yaml.safe_load(Path(args.space).read_text())
    print(describe_device(), flush=True)
    print(f"space {args.space or 'population_e2e (8 GRU samples)'}; {args.workers} worker(s); "
          f"{args.pairs} pairs, interleaved; load average {os.getloadavg()[0]:.2f}", flush=True)
    got = {"none": [], "auto": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spaces = {side: _space(base, side, folder) for side in got}
        for k in range(args.pairs):
            for side in (("none", "auto") if k % 2 == 0 else ("auto", "none")):
                r = _run(spaces[side], folder / f"run_{side}_{k}", args.workers)
                got[side].append(r)
                print(f"{side:5} wall {r['wall']:6.1f} s, search {r['search']} s, "
                      f"median score {statistics.median(r['scores']):.4f}", flush=True)
    ratios = [n["wall"] / a["wall"] for n, a in zip(got["none"], got["auto"], strict=True)]
    same = all(len(n["scores"]) == len(a["scores"]) for n, a in zip(got["none"], got["auto"],
                                                                    strict=True))
    print(f"scores: none {[round(s, 3) for s in got['none'][0]['scores']]}; "
          f"auto {[round(s, 3) for s in got['auto'][0]['scores']]}")
    print(f"population auto vs none: {statistics.median(ratios):.2f}x wall "
          f"[{min(ratios):.2f}-{max(ratios):.2f}] over {len(ratios)} pairs"
          f"{'' if same else ' (different trial counts!)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
