"""One validation evaluation: the compiled pick (`evaluate`) vs every logit to numpy (before).

Quickstart size (LSTM, 64 units, arithmetic with 2 digits and 1 distractor,
20 validation batches of 32, as an intermediate evaluation of a trial). The
previous path returned every logit and reduced them with a float64 numpy
log-softmax (`MetricSums.update`); `evaluate` now returns the target's
log-probability and the arg-max per position from the compiled graph
(`MetricSums.update_picked`). 8 interleaved pairs (A B B A ...) of 40
evaluations each; prints the median ratio old/new and its range, wall and CPU.

    python benchmarks/eval_path.py

Measured (2-core CPU, quiet, two runs): wall median 1.58x [1.38, 1.78] and 1.55x
[1.54, 1.67]; CPU 1.35x [1.28, 1.43] and 1.34x [1.32, 1.39]; 13.1-14.1 ms ->
7.6-9.5 ms per evaluation.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _summary(ratios: list[float]) -> str:
    return (f"median {statistics.median(ratios):.2f}x "
            f"[min {min(ratios):.2f}, max {max(ratios):.2f}]")


def main(pairs: int = 8, repeats: int = 40) -> None:
    from archsearch import tasks
    from archsearch.tasks.metrics import MetricSums
    from archsearch.training.evaluate import _chunks, evaluate, predictor
    from archsearch.training.hparams import resolve
    from archsearch.training.model import build_model
    from archsearch.zoo import get

    data = tasks.get("arithmetic").load(seed=0, max_digits=2, max_distractors=1, batch_size=32)
    hp = resolve({"units": 64, "optimizer": "adam", "learning_rate": 0.01})
    model = build_model(get("lstm"), hp, data)[0]

    def old():
        sums = MetricSums(data.output, data.metrics)
        for x, y, w in _chunks(data, "valid", 20):
            sums.update(predictor(model)(x).numpy(), y, w)
        return sums.result()

    def new():
        return evaluate(model, data, "valid", 20)

    def timed(fn):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - wall) / repeats, (time.process_time() - cpu) / repeats

    for _ in range(5):  # trace both paths first
        old()
        new()
    wall, cpu = [], []
    for k in range(pairs):  # A B B A ...
        order = (old, new) if k % 2 == 0 else (new, old)
        seconds = {fn.__name__: timed(fn) for fn in order}
        wall.append(seconds["old"][0] / seconds["new"][0])
        cpu.append(seconds["old"][1] / seconds["new"][1])
        print(f"pair {k}: old {seconds['old'][0] * 1e3:.1f} ms, "
              f"new {seconds['new'][0] * 1e3:.1f} ms", flush=True)
    print(f"one evaluation, old/new: wall {_summary(wall)}; CPU {_summary(cpu)}")


if __name__ == "__main__":
    main()
