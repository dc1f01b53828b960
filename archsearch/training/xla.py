"""Whether a single trial's train step is XLA-compiled: `resources.xla` and the measured rule.

Outside XLA, TensorFlow runs a small recurrent model's step as hundreds of
separate kernels, each costing more to launch than its matmul does; XLA
fuses them. Measured on this project's 2-core CPU (`benchmarks/solo_xla.py`:
one thread, Adam, batch 32, the train step alone, plain and XLA interleaved
over 4 rounds of 100 steps after a warm-up; steps per CPU-second, median;
ratio XLA / plain as median [min-max]; the first step's seconds: trace, and
XLA's compile):

==========  ==========  =====  ===========  =================  ===========
cell        task        units  plain / XLA  ratio              first step
==========  ==========  =====  ===========  =================  ===========
LSTM        arithmetic  64     516 / 838    1.60 [1.52-1.74]   0.39 / 0.92 s
GRU         arithmetic  64     489 / 759    1.64 [1.36-1.72]   0.32 / 1.24 s
LSTM        adding 100  64     99 / 181     1.73 [1.58-2.00]   0.32 / 0.97 s
LSTM        reber       64     132 / 217    1.65 [1.50-1.73]   0.27 / 0.91 s
LSTM        arithmetic  128    249 / 311    1.28 [1.03-1.52]   0.30 / 0.93 s
LSTM        arithmetic  256    87 / 90      1.03 [0.96-1.04]   0.36 / 1.33 s
==========  ==========  =====  ===========  =================  ===========

Whole quickstart-size trials (LSTM, arithmetic, 64 units, 1,000 steps, the
compile included): 1.27x wall [0.90-1.64] over 2 pairs. The losses after
20-30 steps agree to 1e-4 relative (a test); after 1,000 steps a trial's
score moves by up to ~0.02 accuracy either way (float rounding differs and
training amplifies it, as on other hardware), within the seed-to-seed
spread; the committed reports retrained with XLA gave the verdicts of their
earlier runs without it. So `auto` compiles with XLA on a CPU when the model
is small (units <= `MAX_UNITS`: at 256 the matmuls dominate and XLA gains
nothing) and the trial runs at least `MIN_STEPS` steps (XLA's first step
costs 0.6-1 s more, which a worker pays once per model shape: a kept model
keeps its compiled step for the next trial of the same shapes). On a GPU
`auto` leaves XLA off: not measured here. A step XLA cannot compile (an op
without an XLA kernel) falls back to the plain step on the first call.

Example:
    >>> use_xla("auto", units=64, steps=1000, device="cpu")
    True
    >>> use_xla("auto", units=256, steps=1000, device="cpu"), use_xla("on", 256, 10, "gpu")
    (False, True)
"""

from __future__ import annotations

__all__ = ["MAX_UNITS", "MIN_STEPS", "XLA_MODES", "use_xla"]

XLA_MODES = ("auto", "on", "off")
#: `auto`: the widest layer that gains from XLA (1.60-1.73x at 64, 1.28x at 128, 1.03x at 256).
MAX_UNITS = 128
#: `auto`: fewer steps than this do not pay for XLA's ~1 s compile.
MIN_STEPS = 200


def use_xla(mode: str, units: int | None, steps: int | None, device: str) -> bool:
    """Whether to XLA-compile a single trial's train step.

    Args:
        mode: `"auto"`, `"on"` or `"off"` (`resources.xla`).
        units: The model's hidden units (None: unknown, no XLA under `auto`).
        steps: The trial's step budget (None: a time budget only, long enough).
        device: `"cpu"` or `"gpu"` (`archsearch.training.configure_devices`).

    Raises:
        ValueError: an unknown mode.
    """
    if mode not in XLA_MODES:
        raise ValueError(f"Expected xla to be one of {', '.join(XLA_MODES)}. "
                         f"Received: xla={mode!r}")
    if mode != "auto":
        return mode == "on"
    return (device == "cpu" and units is not None and units <= MAX_UNITS
            and (steps is None or steps >= MIN_STEPS))
