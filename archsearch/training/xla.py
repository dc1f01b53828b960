"""Whether a single trial's train step is XLA-compiled: `resources.xla` and the measured rule.

Outside XLA, TensorFlow runs a small recurrent model's step as hundreds of
separate kernels, each costing more to launch than its matmul does; XLA
fuses them. Measured on this project's 2-core CPU (`benchmarks/solo_xla.py`:
one thread, Adam, batch 32, the train step alone, plain and XLA interleaved
A B B A, steps per CPU-second; median [min-max] ratio of 4 rounds; the
first step's seconds, trace and compile):

==========  ===========  =====  ===========  ==============  ===========
cell        task         units  plain / XLA  ratio           first step
==========  ===========  =====  ===========  ==============  ===========
LSTM        arithmetic   64     415 / 700    1.65 [1.34-2.06]  0.45 / 1.47 s
GRU         arithmetic   64     487 / 910    1.95 [1.38-2.16]  0.53 / 1.36 s
LSTM        adding 100   64     88 / 159     1.80 [1.55-1.90]  0.42 / 1.05 s
LSTM        reber        64     111 / 198    1.80 [1.53-1.95]  0.45 / 1.38 s
LSTM        arithmetic   256    79 / 80      0.99 [0.92-1.11]  0.61 / 1.22 s
==========  ===========  =====  ===========  ==============  ===========

The losses after 20 steps agree to 1e-7 (a test holds them within float
tolerance). So `auto` compiles with XLA on a CPU when the model is small
(units <= `MAX_UNITS`: at 256 the matmuls dominate and XLA gains nothing)
and the trial runs at least `MIN_STEPS` steps (XLA's first step costs
about 1 s more, which a worker pays once per model shape: a kept model
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
#: `auto`: the widest layer that still gains from XLA (1.65-1.95x at 64, 0.99x at 256).
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
