"""Whether a single trial's train step is XLA-compiled: `resources.xla` and the measured rule.

Outside XLA, TensorFlow runs a small recurrent model's step as hundreds of
separate kernels, each costing more to launch than its matmul does; XLA
fuses them. Measured on this project's 2-core CPU (`benchmarks/solo_xla.py`:
one thread, Adam, batch 32, the train step alone, plain and XLA interleaved
over 6 rounds of 100 steps after a warm-up, nothing else running; steps per CPU-second, median;
ratio XLA / plain as median [min-max]; the first step's seconds: trace, and
XLA's compile):

==========  ==========  =====  ===========  =================  ===========
cell        task        units  plain / XLA  ratio              first step
==========  ==========  =====  ===========  =================  ===========
LSTM        arithmetic  64     556 / 873    1.57 [1.53-1.63]   0.37 / 0.91 s
GRU         arithmetic  64     656 / 964    1.47 [1.46-1.50]   0.31 / 1.00 s
LSTM        adding 100  64     106 / 164    1.56 [1.46-1.71]   0.29 / 0.83 s
LSTM        reber       64     88 / 152     1.84 [1.52-2.03]   0.29 / 0.91 s
LSTM        arithmetic  128    262 / 326    1.21 [1.01-1.29]   0.52 / 1.46 s
LSTM        arithmetic  256    98 / 98      0.98 [0.93-1.01]   0.32 / 1.22 s
==========  ==========  =====  ===========  =================  ===========

Whole quickstart-size trials (LSTM, arithmetic, 64 units, 1,000 steps, the
compile included): 1.49x wall [1.05-1.57] over 4 pairs. The losses after
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
#: `auto`: the widest layer that gains from XLA (1.47-1.84x at 64, 1.21x at 128, 0.98x at 256).
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
