"""One line naming the machine a benchmark ran on: CPU model, CPUs, accelerators.

Every benchmark prints it first, so a table copied into a note says where it
was measured. With `tensorflow=False` (a process that must not load it, such
as the search driver), accelerators are left to the caller (Ray's resources).
"""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def describe_device(tensorflow: bool = True) -> str:
    """`device: <cpu>; <n> logical CPUs; TF devices [...]; TF x, Keras y`."""
    line = f"device: {cpu_model()}; {os.cpu_count()} logical CPUs"
    if not tensorflow:
        return line
    import keras
    import tensorflow as tf

    devices = [d.device_type + ":" + d.name.rsplit(":", 1)[-1]
               for d in tf.config.list_physical_devices()]
    return f"{line}; TF devices {devices}; TF {tf.__version__}, Keras {keras.__version__}"
