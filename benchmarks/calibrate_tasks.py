"""Calibration: at which task settings and budgets do cells separate on this CPU?

For each setting (task, options, hyperparameters, budget) it trains every
listed cell with several seeds, evaluating every `eval_every` steps, and
prints, for each checkpoint step, the best validation score so far per cell
(mean and min..max over seeds) and the seconds per trial. One run therefore
answers "how many steps does this task need before the paper's ordering
shows?" for several budgets at once. The last checkpoint is the full trial
(the paper's learning-rate schedule included); earlier ones are the best
score seen by that step, an approximation of a shorter budget.

    python benchmarks/calibrate_tasks.py --setting arithmetic_2d1 --seeds 0 1 2
    python benchmarks/calibrate_tasks.py --list

Results (JSON lines, one per trial) are appended to `--out` so that a long
calibration can be stopped and continued; trials already there are skipped.

Measured for the forget gate (2-core CPU, 64 units, Adam 0.01, seeds 0-2;
final best valid accuracy, mean [min..max]). LSTM-f (no forget gate) is never
behind the GRU or the LSTM at these budgets; it learns fastest early on:

    setting             steps x batch  tanh  LSTM-f              LSTM  LSTM-b  GRU
    arithmetic_2d2      3000 x 32     0.191 0.598 [0.593..0.609] 0.571 0.594  0.539 [0.469..0.593]
    arithmetic_2d2_b64  4000 x 64     0.270 0.646 [0.634..0.663] 0.628 0.689  0.650 [0.616..0.668]
    arithmetic_2d4      3000 x 32     0.209 0.562 [0.525..0.598] 0.552 0.507  0.543 [0.393..0.677]

(Those arithmetic numbers predate the embedding-gradient fix, 8a54e52.)
Where the forget gate does matter (issue 24; after that fix; one thread per
trial, evaluated every steps / 4 as the search does):

    setting                  steps seeds LSTM-f    LSTM      LSTM-b     chrono    GRU       tanh
    reber_c300               300   5     .505 -    .999 150  .999 150   -         .999 75   .999 225
    reber_c500               500   5     .503 -    .999 125  .999 125   -         .999 125  1.0 250
    reber_c2000              2000  3     .503 -    .999 500  -          -         .999 500  -
    adding_t100              2000  3     .057 2/3  .000 500  .000 500   .000 500  .000 500  .177 -
    adding_t200_s1000        1000  3-4   -         .001 500  .001 500   .000 250  .000 250  -
    adding_t100_lr1e-3_s1000 1000  3/10  -         .165 -    .013 1000  .001 500  .000 500  -

(Reber: long-range accuracy; adding: MSE, lr 0.01 except the last row, at
0.001. Each cell: the final best validation score, mean over seeds, then the
median steps to `archsearch.report.speed`'s threshold (censored last): `-`
for never, `2/3` for two of three seeds. Seeds 3, or 10 for LSTM-b and
chrono in the last row.) Also in adding_t100_lr1e-3_s1000, bias
0.5 0.121 (never), 2 0.002 (750), 3 0.002 (500): the bias decides whether
the LSTM has learned by step 1,000 at Adam 0.001, not at 0.01. Trials took
4-9 s of CPU on Reber (500 steps), 14-16 s on adding T = 100 (1,000 steps),
25 s at T = 200 (1,000 steps). The `--cells` option reruns some cells of a
setting with more seeds (the chrono / bias 1 comparison).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ADAM = {"units": 64, "num_layers": 1, "optimizer": "adam", "learning_rate": 0.01,
        "clip_norm": 5.0, "init_scale": 1.0, "dropout": 0.0}
PAPER_CELLS = ["tanh_rnn", "lstm_f", "lstm", "lstm_b", "gru"]
#: Calibration cells that are a zoo cell with hyperparameters: the LSTM (bias 0 in
#: the zoo) with its forget-gate bias set by the `forget_bias` hyperparameter.
VARIANTS = {f"lstm_fb{b:g}": ("lstm", {"forget_bias": b}) for b in (0.5, 2.0, 3.0)}
VARIANTS["lstm_chrono"] = ("lstm", {"forget_bias": "chrono"})
BIAS_CELLS = ["lstm", "lstm_fb0.5", "lstm_b", "lstm_fb2", "lstm_fb3", "lstm_chrono", "gru"]


def _arithmetic(digits: int, distractors: int, steps: int, eval_every: int,
                batch_size: int = 32) -> dict:
    """A calibration setting of the arithmetic task (8,000 examples, Adam, the paper's cells)."""
    return dict(task="arithmetic", cells=PAPER_CELLS, steps=steps, eval_every=eval_every,
                options={"max_digits": digits, "max_distractors": distractors,
                         "num_examples": 8000, "batch_size": batch_size},
                hparams=ADAM)


def _forget(task: str, options: dict, steps: int, cells=PAPER_CELLS, **hparams) -> dict:
    """A forget-gate setting: evaluated every steps / 4, as `archsearch search` does."""
    return dict(task=task, cells=cells, steps=steps, eval_every=max(1, steps // 4),
                options=options, hparams={**ADAM, **hparams})


REBER = {"continual": True, "eval_chunks": 50, "batch_size": 32}
SETTINGS = {
    "arithmetic_2d1": _arithmetic(2, 1, steps=2000, eval_every=250),
    "arithmetic_2d2": _arithmetic(2, 2, steps=3000, eval_every=250),
    "arithmetic_2d1_long": _arithmetic(2, 1, steps=5000, eval_every=500),
    "arithmetic_3d3": _arithmetic(3, 3, steps=4000, eval_every=500),
    "arithmetic_2d4": _arithmetic(2, 4, steps=3000, eval_every=500),
    "arithmetic_2d2_b64": _arithmetic(2, 2, steps=4000, eval_every=500, batch_size=64),
    "xml": dict(task="xml", cells=PAPER_CELLS, steps=2000, eval_every=250,
                options={"num_examples": 2000, "batch_size": 32}, hparams=ADAM),
    "memorization": dict(task="memorization", cells=PAPER_CELLS, steps=1500, eval_every=250,
                         options={"batch_size": 32}, hparams=ADAM),
    "word_lm": dict(task="word_lm", cells=["tanh_rnn", "lstm", "lstm_b", "gru"], steps=1500,
                    eval_every=250, options={"fraction": 0.1, "batch_size": 32},
                    hparams=ADAM),
    "char_lm": dict(task="char_lm", cells=["tanh_rnn", "lstm", "lstm_b", "gru"], steps=1000,
                    eval_every=250, options={"fraction": 0.1, "batch_size": 32},
                    hparams=ADAM),
    "sentiment": dict(task="sentiment", cells=["tanh_rnn", "lstm", "lstm_b", "gru"],
                      steps=1000, eval_every=100, options={"batch_size": 32}, hparams=ADAM),
    "trec": dict(task="trec", cells=["tanh_rnn", "lstm", "lstm_b", "gru"], steps=1000,
                 eval_every=100, options={"batch_size": 32}, hparams=ADAM),
    # The forget gate (issue 24): continual embedded Reber (32 streams of 75-step
    # chunks, state carried, one pass over num_chunks = steps) and long delays.
    "reber_c500": _forget("reber", {**REBER, "num_chunks": 500}, 500),
    "reber_c300": _forget("reber", {**REBER, "num_chunks": 300}, 300),
    "reber_c1000": _forget("reber", {**REBER, "num_chunks": 1000}, 1000),
    "reber_c2000": _forget("reber", {**REBER, "num_chunks": 2000}, 2000,
                           cells=["lstm_f", "lstm", "gru"]),
    "adding_t100": _forget("adding", {"length": 100, "batch_size": 32}, 2000,
                           cells=["tanh_rnn", "lstm_f", *BIAS_CELLS]),
    "adding_t200": _forget("adding", {"length": 200, "batch_size": 32}, 2000,
                           cells=["lstm_f", *BIAS_CELLS]),
    "adding_t200_s1000": _forget("adding", {"length": 200, "batch_size": 32}, 1000,
                                 cells=BIAS_CELLS),
    "adding_t100_lr1e-3": _forget("adding", {"length": 100, "batch_size": 32}, 4000,
                                  cells=["lstm", "lstm_b", "lstm_chrono", "gru"],
                                  learning_rate=0.001),
    "adding_t100_lr1e-3_s1000": _forget("adding", {"length": 100, "batch_size": 32}, 1000,
                                        cells=BIAS_CELLS, learning_rate=0.001),
    "adding_t400": _forget("adding", {"length": 400, "batch_size": 32}, 1500,
                           cells=["lstm_f", "lstm", "lstm_b", "lstm_chrono", "gru"]),
    "copy_d100": _forget("copy", {"delay": 100, "batch_size": 32}, 2000),
}


def _key(setting: str, cell: str, seed: int) -> str:
    return f"{setting}/{cell}/{seed}"


def _done(path: str) -> dict[str, dict]:
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {r["key"]: r for r in rows}


def run(setting: str, seeds: list[int], out: str, threads: int = 1,
        cells: list[str] | None = None) -> None:
    """Trains the setting's cells (or those of `cells`) per seed, one JSON line per trial."""
    import tensorflow as tf

    from archsearch import tasks
    from archsearch.training import Budget, run_trial

    if threads:  # as a search worker with 1 CPU per trial (search/worker.py limit_threads)
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # already set by an earlier setting of this process

    spec = SETTINGS[setting]
    done = _done(out)
    for seed in seeds:
        data = None
        for cell in spec["cells"]:
            key = _key(setting, cell, seed)
            if cells and cell not in cells:
                continue
            if key in done:
                continue
            if data is None:
                data = tasks.get(spec["task"]).load(seed=seed, **spec["options"])
            genome, extra = VARIANTS.get(cell, (cell, {}))
            cpu, wall = time.process_time(), time.perf_counter()
            result = run_trial(genome, {**spec["hparams"], **extra}, spec["task"],
                               Budget(steps=spec["steps"], eval_every=spec["eval_every"]),
                               seed=seed, data=data)
            row = {"key": key, "setting": setting, "cell": cell, "seed": seed,
                   "status": result.status, "failure": result.failure,
                   "score": result.score, "metric": result.score_metric,
                   "mode": result.score_mode, "steps": result.steps,
                   "wall_s": round(time.perf_counter() - wall, 2),
                   "cpu_s": round(time.process_time() - cpu, 2),
                   "curve": [(c["step"], c.get(f"valid_{result.score_metric}"))
                             for c in result.curve]}
            with open(out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{key}: {result.score_metric}={result.score} ({row['wall_s']} s wall, "
                  f"{row['cpu_s']} s CPU) {result.failure or ''}", flush=True)


def _reached(row: dict) -> int | None:
    """Steps to the metric's threshold (`archsearch.report.speed`), None if never."""
    from archsearch.report.speed import steps_to_threshold, threshold_for

    threshold = threshold_for("", row["metric"])
    if threshold is None:
        return None
    curve = [{"step": s, f"valid_{row['metric']}": v} for s, v in row["curve"]]
    return steps_to_threshold(curve, row["metric"], row["mode"], threshold)


def _speed(rows: list[dict]) -> str:
    """`k/n, median S`: trials that reached the threshold, median steps (censored last)."""
    steps = sorted((_reached(r) for r in rows), key=lambda s: float("inf") if s is None else s)
    hits = sum(s is not None for s in steps)
    median = steps[(len(steps) - 1) // 2] if steps else None
    return f"{hits}/{len(steps)}, " + ("never" if median is None else f"{median}")


def table(setting: str, out: str) -> str:
    """Markdown: best-so-far per checkpoint step, mean [min..max] over seeds, per cell."""
    rows = [r for r in _done(out).values() if r["setting"] == setting]
    if not rows:
        return f"(no results for {setting})"
    spec = SETTINGS[setting]
    better = max if rows[0]["mode"] == "max" else min
    steps = sorted({s for r in rows for s, _ in r["curve"]})
    by_cell = collections.defaultdict(dict)
    for r in rows:
        best, points = None, {}
        for s, v in r["curve"]:
            if v is not None:
                best = v if best is None else better(best, v)
            points[s] = best
        points["final"] = r["score"]
        by_cell[r["cell"]][r["seed"]] = (points, r["wall_s"], r["cpu_s"])
    cols = steps + ["final"]
    head = f"### {setting}: {spec['task']} {spec['options']}, {rows[0]['metric']}\n\n"
    head += ("| cell | seeds | " + " | ".join(str(c) for c in cols)
             + " | reached, median steps | wall s | CPU s |\n")
    head += "|---|---|" + "---|" * len(cols) + "---|---|---|\n"
    lines = []
    for cell in spec["cells"]:
        runs = by_cell.get(cell)
        if not runs:
            continue
        cells = []
        for c in cols:
            vals = [p.get(c) for p, _, _ in runs.values() if p.get(c) is not None]
            cells.append(f"{statistics.mean(vals):.3f} [{min(vals):.3f}..{max(vals):.3f}]"
                         if vals else "-")
        wall = statistics.median(w for _, w, _ in runs.values())
        cpu = statistics.median(c for _, _, c in runs.values())
        speed = _speed([r for r in rows if r["cell"] == cell])
        lines.append(f"| {cell} | {len(runs)} | " + " | ".join(cells) +
                     f" | {speed} | {wall:.0f} | {cpu:.0f} |")
    return head + "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", action="append", choices=sorted(SETTINGS),
                        help="setting(s) to run (repeatable); default: print tables only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="calibration.jsonl",
                        help="JSON lines file of results (appended; finished trials skipped)")
    parser.add_argument("--cells", nargs="+", help="only these cells of the setting(s)")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow threads (default 1, as a search worker; 0: TF's own)")
    parser.add_argument("--list", action="store_true", help="list the settings and exit")
    args = parser.parse_args()
    if args.list:
        for name, spec in SETTINGS.items():
            print(f"{name}: {spec['task']} {spec['options']} steps={spec['steps']} "
                  f"cells={spec['cells']}")
        return
    for setting in args.setting or []:
        run(setting, args.seeds, args.out, args.threads, args.cells)
    for setting in args.setting or sorted({r["setting"] for r in _done(args.out).values()}):
        print(table(setting, args.out))


if __name__ == "__main__":
    main()
