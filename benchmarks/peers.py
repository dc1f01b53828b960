"""One study, three tools: KerasTuner, Ray Tune + Keras, archsearch (samples per hour).

The study: LSTM and GRU on the quickstart's task (arithmetic, its options, its
batch size and steps; search_spaces/quickstart.yaml), 64 units, Adam with
global-norm clipping 5, a few learning rates (default 0.003, 0.01, 0.03) x 6
seeds each, the best validation accuracy of 4 evaluations per trial as its
score. Every side trains the same model on the same data:
embedding -> one recurrent layer returning sequences -> dense head, weights
drawn as archsearch's trainer draws them (VarianceScaling, uniform, limit
sqrt(init_scale^2 / fan_in), seeded per trial), the task loaded through
archsearch's task API (`archsearch.tasks.get("arithmetic").load`) with the
same data seed; LSTM is `keras.layers.LSTM(unit_forget_bias=False)` (the
zoo's `lstm`, forget bias 0), GRU `keras.layers.GRU(reset_after=False)` (the
zoo's `gru`). Trial seeds are the same set on every side. Two differences
remain: the Keras sides draw batches through the task's `tf.data` pipeline
and archsearch's trainer through its own epoch orders (the same examples,
shuffled differently), and archsearch picks a trial's best evaluation on 20
validation batches and then scores it on the whole split, where the Keras
sides take the best of the 4 whole-split evaluations.

(a) kerastuner: what a KerasTuner user writes. One process; a `HyperModel`
    whose `build` declares `cell` and `learning_rate` and builds the Keras
    model, whose `fit` calls `model.fit` on the task's `tf.data` training
    pipeline (`data.train.repeat()`, steps/4 steps per epoch, 4 epochs,
    validation on the whole valid split after each); `keras_tuner.GridSearch`
    over cell x learning rate with `executions_per_trial` = seeds (each
    execution builds the model with the next seed). TensorFlow's default
    thread pools (both cores); KerasTuner's own checkpoints and trial files.
(b) ray tune + keras: the same `model.fit` in a Ray Tune function trainable,
    `tune.Tuner(tune.with_resources(trainable, {"cpu": 1}))` over
    `grid_search` of cell x learning rate x seed on a local Ray with 2 CPUs
    (2 trials at a time); each trial loads the task, limits TensorFlow to the
    one CPU it reserved (as archsearch's workers do; left alone, each trial's
    TensorFlow sizes its pools to both cores and two trials contend for them),
    and reports after each epoch (`tune.report`).
(c) archsearch: `archsearch search SPACE --run-dir DIR --workers 2 --seed R`
    on a space written to a temporary directory: strategy `fixed`, cells
    [lstm, gru], `hyperparameter_samples` = the number of learning rates (the
    fixed strategy then gives each rate once), the seeds, the task's steps
    (no seconds cap) and `resources: {cpus: 1, gpu: 0, population: auto}`.

Each side runs as its own process from start to exit (Python, imports, Ray's
start and shutdown included): the wall time a user waits. Repeats run
interleaved, A B C C B A ..., and repeat r uses data seed r and trial seeds
r x 10,007 + 1 + ... on every side (archsearch's `--seed r` does both), so
the repeats are independent samples of each score distribution.

Counting. Trained samples: optimizer steps x batch size, counted by each side
as it trains (a Keras callback counting training batches on (a) and (b), the
`steps` of archsearch's trial records on (c)); the benchmark checks every
side trained cells x rates x seeds x steps x batch size and exits 1 if not.
CPU seconds: user + system time of every process a side started (its own
process and all descendants: Ray's GCS, raylet, agents and workers), taken as
the larger of two lower bounds, both printed:
- `getrusage(RUSAGE_CHILDREN)` around the side. This process makes itself a
  child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`) so that orphans come back
  here and are reaped (any still running after the side exits are waited
  for, then killed). Exact for a process tree whose parents all wait for
  their children (the KerasTuner side), but the raylet reaps its workers
  itself and their time is lost when the raylet is killed at shutdown: on
  the two Ray sides it saw 4-10 s of 34-46 s in test runs (--quick).
- A sample of the process tree from /proc: every descendant's user + system
  time, the known ones read every 0.1 s and /proc rescanned every 0.5 s for
  new ones; CPU times are cumulative, so each process misses at most its last
  0.1 s (and processes living under 0.5 s are missed).

Scores: per cell and side, median [min-max] of the trials' best validation
accuracy (mean, n), and a two-sided Mann-Whitney U p-value per cell between
archsearch and each peer (all repeats pooled): a small p says the sides do
not train the same thing.

Usage:
    python benchmarks/peers.py                      # 3 rates x 6 seeds, 1,000 steps, 2 repeats
    python benchmarks/peers.py --lrs 0.005,0.02 --repeats 3
    python benchmarks/peers.py --quick              # smoke run: 20 steps, 1 rate, 2 seeds

Measured (device: AMD EPYC; 2 logical CPUs; TF 2.21, Keras 3.15.1, KerasTuner
1.4.8, Ray 2.60) after the embedding-gradient fix and with XLA for single
trials (`resources.xla: auto`), `--lrs 0.003,0.03` (2 rates x 6 seeds x 2
cells = 24 trials of 1,000 steps x 32 = 768,000 samples per side and
repeat), 2 repeats, 19 minutes in all, load average 2.1-2.5. Median
[min-max] over the 2 repeats:

    side               samples/wall-h      samples/CPU-h        wall s         CPU s
    kerastuner         18.1 [15.7-20.4] M  15.6 [13.0-18.2] M   156 [136-176]  182 [152-213]
    ray tune + keras   17.3 [16.4-18.2] M  10.1 [9.6-10.6] M    160 [152-169]  275 [261-289]
    archsearch         91.6 [88.7-94.6] M  54.5 [52.2-56.7] M    30 [29-31]     51 [49-53]

    archsearch vs kerastuner: 5.14x [4.64-5.64], vs ray tune + keras: 5.32x [4.86-5.77]
    (samples per wall-hour); per CPU-hour 3.5x and 5.4x

Scores agree: best validation accuracy per trial, LSTM median 0.312 / 0.318
/ 0.321 and GRU 0.383 / 0.392 / 0.408 (KerasTuner / Ray Tune / archsearch),
no side differs from archsearch at p < 0.01 (lowest: GRU at lr 0.03 vs
KerasTuner, p = 0.04). Before the embedding fix and XLA (the defaults, 3
rates, 2 repeats, a busier machine) the ratios were 3.84x [3.04-4.63] and
5.28x [4.16-6.39].

In that earlier run Ray Tune + Keras was slower than KerasTuner: Ray Tune's default
(`reuse_actors=False`) starts a worker process per trial, which imports
TensorFlow and loads the task again (12.6 s of CPU per trial against
KerasTuner's 8.2 s and archsearch's 2.6 s), and a KerasTuner trial uses
both cores. `reuse_actors=True` would remove part of that (not measured).
Of the Ray sides' CPU, rusage saw 15-21 s (Ray Tune) and 57-83 s
(archsearch); the /proc samples give the figures above.

Scores did NOT all agree. Pooled per cell the p-values are 0.04-0.27, but
by learning rate archsearch is lower at 0.01 (median LSTM 0.426 against
0.466 KerasTuner and 0.463 Ray Tune, p = 0.0016 and 0.0007; GRU 0.450
against 0.498 and 0.503, p = 0.017 and 0.006), and agrees at 0.003 and 0.03
(p >= 0.03). Traced (outside this benchmark) to archsearch's solo training
step (archsearch/training/compiled.py): `tf.clip_by_global_norm` keeps the
embedding's gradient as `IndexedSlices`, and Keras' Adam applied to
`IndexedSlices` with repeated token ids moves an embedding row by up to ~4x
the learning rate in one step (0.039 against Keras' 0.010 on the first step
at lr 0.01; the same step with the gradient made dense moves 0.010). The
same model trained by `model.fit` reaches Keras' scores (0.463, 0.467 for
seeds 1-2, LSTM, lr 0.01, against 0.420, 0.409 through `run_trial`).
Population members scored as low as solo trials (0.38-0.44); their path was
not examined.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "search_spaces" / "quickstart.yaml"
SIDES = ("kerastuner", "ray tune + keras", "archsearch")
CELLS = ("lstm", "gru")
EVALUATIONS = 4  # archsearch's trainer evaluates every steps // 4 steps
SEED_STRIDE = 10_007  # archsearch's trial seed: search seed x 10,007 + seed index
_TICK = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class Study:
    """The study every side runs: plain data, passed to the side processes as JSON."""

    lrs: tuple[float, ...]
    seeds: int
    steps: int
    repeat: int  # data seed and search seed of this repeat
    batch_size: int
    units: int
    init_scale: float
    clip_norm: float
    task: str
    options: dict
    cells: tuple[str, ...] = CELLS

    @classmethod
    def from_quickstart(cls, lrs, seeds: int, steps: int | None, repeat: int) -> Study:
        import archsearch

        space = archsearch.load_search_space(QUICKSTART)
        task = next(t for t in space.tasks if t.name == "arithmetic")
        hp = space.hyperparameters
        return cls(lrs=tuple(lrs), seeds=seeds, steps=steps or task.budget.steps, repeat=repeat,
                   batch_size=task.budget.batch_size, units=hp.units[0],
                   init_scale=hp.init_scale[0], clip_norm=hp.clip_norm[0], task=task.name,
                   options=dict(task.options))

    @property
    def trials(self) -> int:
        return len(self.cells) * len(self.lrs) * self.seeds

    @property
    def expected_samples(self) -> int:
        return self.trials * self.steps * self.batch_size

    def trial_seed(self, lr_index: int, seed_index: int) -> int:
        """The seed set archsearch's fixed strategy uses (1 + sample x seeds + seed)."""
        return self.repeat * SEED_STRIDE + 1 + lr_index * self.seeds + seed_index


# --- the model and data the two Keras sides train -----------------------------------------

def load_data(study: Study):
    from archsearch import tasks

    return tasks.get(study.task).load(seed=study.repeat, batch_size=study.batch_size,
                                      **study.options)


def keras_model(study: Study, cell: str, learning_rate: float, data, seed: int):
    """Embedding -> keras.layers.LSTM/GRU -> Dense, initialised as archsearch's trainer does."""
    import keras

    keras.utils.set_random_seed(seed)

    def init(k):
        return keras.initializers.VarianceScaling(study.init_scale ** 2 / 3.0, "fan_in",
                                                  "uniform", seed=seed * 1000 + k)

    rnn = {"lstm": lambda **kw: keras.layers.LSTM(unit_forget_bias=False, **kw),
           "gru": lambda **kw: keras.layers.GRU(reset_after=False, **kw)}[cell]
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(data.vocab_size, study.units, embeddings_initializer=init(0))(inputs)
    x = rnn(units=study.units, return_sequences=True, kernel_initializer=init(1),
            recurrent_initializer=init(2))(x)
    outputs = keras.layers.Dense(data.num_outputs, kernel_initializer=init(99))(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=study.clip_norm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  weighted_metrics=["accuracy"])
    return model


def fit(study: Study, model, data, callbacks=()):
    """`model.fit` for the study's steps: (best val accuracy, trained samples, history)."""
    import keras

    class Count(keras.callbacks.Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

    count = Count()
    history = model.fit(data.train.repeat(), steps_per_epoch=study.steps // EVALUATIONS,
                        epochs=EVALUATIONS, validation_data=data.valid, shuffle=False,
                        callbacks=[*callbacks, count], verbose=0)
    return max(history.history["val_accuracy"]), count.batches * data.batch_size, history


# --- side (a): KerasTuner -----------------------------------------------------------------

def side_kerastuner(study: Study, workdir: Path) -> list[dict]:
    import keras_tuner

    data = load_data(study)
    trials: list[dict] = []

    class Peers(keras_tuner.HyperModel):
        def build(self, hp):
            cell = hp.Choice("cell", list(study.cells))
            lr = hp.Choice("learning_rate", list(study.lrs))
            execution = self.builds.get((cell, lr), 0)
            self.builds[(cell, lr)] = execution + 1
            self.trial = {"cell": cell, "learning_rate": lr,
                          "seed": study.trial_seed(study.lrs.index(lr), execution)}
            return keras_model(study, cell, lr, data, self.trial["seed"])

        def fit(self, hp, model, *args, callbacks=(), **kwargs):
            score, samples, history = fit(study, model, data, callbacks)
            trials.append({**self.trial, "score": score, "samples": samples})
            return history

    hypermodel = Peers()
    hypermodel.builds = {}
    tuner = keras_tuner.GridSearch(hypermodel, objective=keras_tuner.Objective("val_accuracy",
                                                                               "max"),
                                   executions_per_trial=study.seeds, directory=str(workdir),
                                   project_name="peers", overwrite=True)
    hypermodel.builds = {}  # the tuner built models to learn the space; count executions only
    tuner.search(verbose=0)
    return trials


# --- side (b): Ray Tune + Keras -----------------------------------------------------------

def _ray_trial(config, study):
    import tensorflow as tf
    from ray import tune

    with contextlib.suppress(RuntimeError):  # a reused worker keeps its pools
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    data = load_data(study)
    seed = study.trial_seed(study.lrs.index(config["learning_rate"]), config["seed"])
    model = keras_model(study, config["cell"], config["learning_rate"], data, seed)

    class Report(keras.callbacks.Callback):
        best, batches = 0.0, 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

        def on_epoch_end(self, epoch, logs=None):
            self.best = max(self.best, float(logs["val_accuracy"]))
            tune.report({"val_accuracy": float(logs["val_accuracy"]), "best": self.best,
                         "samples": self.batches * data.batch_size})

    fit(study, model, data, [Report()])


def side_ray(study: Study, workdir: Path) -> list[dict]:
    import ray
    from ray import tune

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    grid = {"cell": tune.grid_search(list(study.cells)),
            "learning_rate": tune.grid_search(list(study.lrs)),
            "seed": tune.grid_search(list(range(study.seeds)))}
    trainable = tune.with_resources(tune.with_parameters(_ray_trial, study=study), {"cpu": 1})
    tuner = tune.Tuner(trainable, param_space=grid,
                       tune_config=tune.TuneConfig(metric="best", mode="max"),
                       run_config=tune.RunConfig(storage_path=str(workdir), name="peers",
                                                 verbose=0))
    results = tuner.fit()
    trials = []
    for result in results:
        if result.error:
            raise RuntimeError(f"a Ray Tune trial failed: {result.error}")
        c = result.config
        trials.append({"cell": c["cell"], "learning_rate": c["learning_rate"],
                       "seed": study.trial_seed(study.lrs.index(c["learning_rate"]), c["seed"]),
                       "score": result.metrics["best"], "samples": result.metrics["samples"]})
    ray.shutdown()
    return trials


# --- side (c): archsearch -----------------------------------------------------------------

def archsearch_space(study: Study) -> str:
    """The study as an archsearch space (YAML flow style)."""
    task = {"name": study.task, "seeds": study.seeds, "options": study.options,
            "budget": {"steps": study.steps, "batch_size": study.batch_size}}
    return "\n".join([
        "name: peers",
        "seed: 0",
        f"max_trials: {study.trials}",
        "baseline: gru",
        "strategy: " + json.dumps({"name": "fixed", "cells": list(study.cells),
                                   "hyperparameter_samples": len(study.lrs)}),
        "hyperparameters: " + json.dumps({
            "units": [study.units], "num_layers": [1], "optimizer": ["adam"],
            "learning_rate": list(study.lrs), "init_scale": [study.init_scale],
            "clip_norm": [study.clip_norm], "dropout": [0.0]}),
        "tasks: [" + json.dumps(task) + "]",
        "resources: {cpus: 1, gpu: 0, population: auto}",
        ""])


def archsearch_trials(run_dir: Path, study: Study) -> list[dict]:
    trials = []
    for path in sorted((run_dir / "trials").glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("status") != "completed":
            raise RuntimeError(f"archsearch trial {path.stem} is {record.get('status')}: "
                               f"{record.get('failure')}")
        trials.append({"cell": record["cell"]["name"],
                       "learning_rate": record["hparams"]["learning_rate"],
                       "seed": record["seed"], "score": record["score"],
                       "samples": record["steps"] * study.batch_size})
    return trials


# --- running a side as a measured process -------------------------------------------------

def become_subreaper() -> bool:
    """Orphaned descendants (Ray's processes) are re-parented here, so rusage counts them."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _cpu(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, user + system CPU seconds, start in ticks) of `pid`, None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after "pid (comm)": state ppid ... utime(12) stime(13) ... starttime(20)
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, int(fields[19])


def _proc_table() -> dict[int, tuple[int, float, int]]:
    """`_stat` of every process in /proc."""
    stats = {int(e): _stat(int(e)) for e in os.listdir("/proc") if e.isdigit()}
    return {pid: st for pid, st in stats.items() if st is not None}


def descendants(table: dict, root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _reap(timeout: float = 30.0) -> int:
    """Waits for every descendant left (then kills it) and reaps it; returns how many were left."""
    left = descendants(_proc_table(), os.getpid())
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no children left
            return len(left)
        if pid:
            continue
        if time.monotonic() > deadline:
            for pid in descendants(_proc_table(), os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def measured(command: list[str], env: dict, log: Path) -> dict:
    """Runs `command` to its exit: wall seconds, CPU seconds of it and all its descendants."""
    seen, stop = {}, threading.Event()

    def sample():
        # Known descendants are read every 0.1 s, all of /proc scanned every 0.5 s for new
        # ones (CPU times are cumulative: only a process's last 0.1 s is missed).
        known, k = {}, 0
        while not stop.is_set():
            if k % 5 == 0:
                table = _proc_table()
                known = {pid: table[pid][2] for pid in descendants(table, os.getpid())}
            for pid, start in list(known.items()):
                st = _stat(pid)
                if st is None or st[2] != start:
                    del known[pid]
                else:
                    seen[(pid, start)] = st[1]
            k += 1
            stop.wait(0.1)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = threading.Thread(target=sample, daemon=True)
    with open(log, "ab") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        sampler.start()
        try:
            rc = proc.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            raise
        wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    left = _reap()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rusage, sampled = _cpu(after) - _cpu(before), sum(seen.values())
    # Both are lower bounds (see the module's docstring): the larger is the closer.
    return {"rc": rc, "wall": wall, "cpu": max(rusage, sampled), "cpu_rusage": rusage,
            "cpu_sampled": sampled, "left_running": left}


def run_side(side: str, study: Study, root: Path, env: dict) -> dict:
    work = Path(tempfile.mkdtemp(prefix=side.split()[0] + "-", dir=root))
    log = work / "log.txt"
    if side == "archsearch":
        space = work / "space.yaml"
        space.write_text(archsearch_space(study))
        command = [sys.executable, "-m", "archsearch", "search", str(space), "--run-dir",
                   str(work / "run"), "--workers", "2", "--seed", str(study.repeat),
                   "--no-progress"]
    else:
        (work / "study.json").write_text(json.dumps(dataclasses.asdict(study)))
        command = [sys.executable, str(Path(__file__).resolve()), "--side", side,
                   "--workdir", str(work)]
    result = measured(command, env, log)
    if result["rc"] != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{side} (repeat {study.repeat}) exited {result['rc']}; log {log}:\n"
                         f"{tail}")
    trials = (archsearch_trials(work / "run", study) if side == "archsearch"
              else json.loads((work / "trials.json").read_text()))
    shutil.rmtree(work, ignore_errors=True)
    samples = sum(t["samples"] for t in trials)
    return {**result, "side": side, "repeat": study.repeat, "trials": trials,
            "samples": samples, "per_wall_hour": samples * 3600 / result["wall"],
            "per_cpu_hour": samples * 3600 / result["cpu"]}


def side_main(side: str, workdir: Path) -> int:
    """Entry point of a side's own process (`--side`): trains, writes trials.json."""
    study = Study(**json.loads((workdir / "study.json").read_text()))
    study = dataclasses.replace(study, lrs=tuple(study.lrs), cells=tuple(study.cells))
    trials = (side_kerastuner if side == "kerastuner" else side_ray)(study, workdir)
    (workdir / "trials.json").write_text(json.dumps(trials))
    return 0


# --- report -------------------------------------------------------------------------------

def spread(values, fmt="{:.3g}") -> str:
    return (fmt.format(statistics.median(values)) + " [" + fmt.format(min(values)) + "-"
            + fmt.format(max(values)) + "]")


def _scores(runs: list[dict], cell: str, lr: float | None = None) -> list[float]:
    return [t["score"] for r in runs for t in r["trials"]
            if t["cell"] == cell and (lr is None or t["learning_rate"] == lr)]


def report_throughput(by_side: dict) -> None:
    print(f"\nthroughput (median [min-max] over {len(by_side['archsearch'])} repeats):")
    print(f"  {'side':<18}{'samples/wall-h':>26}{'samples/CPU-h':>26}{'wall s':>20}"
          f"{'CPU s':>20}  CPU s: rusage / /proc samples")
    for side, rs in by_side.items():
        print(f"  {side:<18}{spread([r['per_wall_hour'] / 1e6 for r in rs]) + ' M':>26}"
              f"{spread([r['per_cpu_hour'] / 1e6 for r in rs]) + ' M':>26}"
              f"{spread([r['wall'] for r in rs], '{:.0f}'):>20}"
              f"{spread([r['cpu'] for r in rs], '{:.0f}'):>20}  "
              + ", ".join(f"{r['cpu_rusage']:.0f}/{r['cpu_sampled']:.0f}" for r in rs))


def report_scores(by_side: dict, study: Study) -> list[str]:
    """Prints the score distributions; returns the comparisons that differ at p < 0.01."""
    from scipy.stats import mannwhitneyu

    def p_value(a, b):
        return mannwhitneyu(a, b, alternative="two-sided").pvalue

    print("\nscores: best valid accuracy per trial, median [min-max] (mean, n); two-sided "
          "Mann-Whitney p vs archsearch")
    differ = []
    for cell in study.cells:
        ours = _scores(by_side["archsearch"], cell)
        for side, rs in by_side.items():
            scores = _scores(rs, cell)
            p = "" if side == "archsearch" else f"  p = {p_value(ours, scores):.2g}"
            print(f"  {cell:<5} {side:<18} {spread(scores, '{:.3f}')} "
                  f"({statistics.fmean(scores):.3f}, n={len(scores)}){p}")
    print("  by learning rate (median per side, p vs archsearch):")
    for cell in study.cells:
        for lr in study.lrs:
            ours, parts = _scores(by_side["archsearch"], cell, lr), []
            for side, rs in by_side.items():
                scores = _scores(rs, cell, lr)
                part = f"{side} {statistics.median(scores):.3f}"
                if side != "archsearch":
                    p = p_value(ours, scores)
                    part += f" (p = {p:.2g})"
                    if p < 0.01:
                        differ.append(f"{cell} lr {lr:g} {side} p = {p:.2g}")
                parts.append(part)
            print(f"    {cell:<5} lr {lr:<7g}" + ", ".join(parts))
    return differ


def report(runs: list[dict], study: Study) -> tuple[list[float], list[float]]:
    """Prints throughput and scores; returns archsearch's wall-hour ratios per repeat."""
    by_side = {side: [r for r in runs if r["side"] == side] for side in SIDES}
    report_throughput(by_side)
    differ = report_scores(by_side, study)
    print("  scores " + ("differ (p < 0.01, not corrected for multiplicity): " + "; ".join(differ)
                         if differ else "agree: no comparison at p < 0.01"))
    ours = {r["repeat"]: r["per_wall_hour"] for r in by_side["archsearch"]}
    return tuple([ours[r["repeat"]] / r["per_wall_hour"] for r in by_side[side]]
                 for side in SIDES[:2])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps per trial, a multiple of 4 (default: the "
                             "quickstart's, 1,000)")
    parser.add_argument("--lrs", default="0.003,0.01,0.03",
                        help="learning rates, comma-separated (default 0.003,0.01,0.03)")
    parser.add_argument("--seeds", type=int, default=6, help="seeds per learning rate (6)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each side, interleaved A B C C B A ... (2)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20 steps, 1 learning rate, 2 seeds, 1 repeat")
    parser.add_argument("--json", default=None, help="also write every run's figures here")
    parser.add_argument("--side", choices=SIDES[:2], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        return side_main(args.side, args.workdir)
    if args.quick:
        args.steps, args.lrs, args.seeds, args.repeats = 20, "0.01", 2, 1
    lrs = [float(x) for x in args.lrs.split(",") if x.strip()]
    if args.steps is not None and (args.steps < EVALUATIONS or args.steps % EVALUATIONS):
        parser.error(f"expected --steps to be a positive multiple of {EVALUATIONS}. "
                     f"Received: --steps={args.steps}")
    if not lrs or args.seeds < 1 or args.repeats < 1:
        parser.error("expected at least one learning rate, seed and repeat")

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from device_info import describe_device

    print(f"{describe_device(tensorflow=False)}; load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    subreaper = become_subreaper()
    studies = [Study.from_quickstart(lrs, args.seeds, args.steps, r) for r in range(args.repeats)]
    study = studies[0]
    print(f"study: cells {list(study.cells)}, {study.task} {study.options}, units {study.units}, "
          f"learning rates {list(study.lrs)} x {study.seeds} seeds = {study.trials} trials of "
          f"{study.steps} steps x batch {study.batch_size} "
          f"({study.expected_samples:,} samples per side and repeat); {args.repeats} repeats")
    print("CPU: the larger of getrusage(RUSAGE_CHILDREN) over each side's process tree ("
          + ("child subreaper on" if subreaper else "NO subreaper: orphans may be missed")
          + ") and /proc samples of it every 0.1 s")
    ray_tmp = tempfile.mkdtemp(prefix="peers", dir="/tmp")  # short: Ray's socket paths
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(RAY_TMPDIR=env.get("RAY_TMPDIR", ray_tmp), TF_CPP_MIN_LOG_LEVEL="3",
               KERAS_BACKEND="tensorflow", PYTHONUNBUFFERED="1")
    runs = []
    try:
        with tempfile.TemporaryDirectory(prefix="peers-") as root:
            for r, study in enumerate(studies):
                for side in (SIDES if r % 2 == 0 else SIDES[::-1]):
                    run = run_side(side, study, Path(root), env)
                    runs.append(run)
                    print(f"  repeat {r + 1} {side:<18} {run['wall']:6.1f} s wall "
                          f"{run['cpu']:6.1f} s CPU  {run['samples']:,} samples  "
                          f"{run['per_wall_hour'] / 1e6:.2f} M/wall-h  "
                          f"{run['per_cpu_hour'] / 1e6:.2f} M/CPU-h", flush=True)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"expected_samples": study.expected_samples,
                                               "runs": runs}, indent=1))
    wrong = [f"{r['side']} repeat {r['repeat'] + 1}: {r['samples']:,}" for r in runs
             if r["samples"] != study.expected_samples]
    kt, rt = report(runs, study)
    if wrong:
        print(f"trained samples differ from {study.expected_samples:,}: " + "; ".join(wrong))
    print(f"archsearch vs kerastuner: {spread(kt, '{:.2f}').replace(' ', 'x ', 1)}, "
          f"vs ray tune + keras: {spread(rt, '{:.2f}').replace(' ', 'x ', 1)} "
          "(samples per wall-hour, median [min-max])")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
