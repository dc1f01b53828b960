"""Keras for a search's driver process, without TensorFlow.

A search's driver never trains: it runs the oracle (a KerasTuner `Oracle`),
Ray Tune and the run directory, while Ray's worker processes train. KerasTuner
imports Keras, and Keras imports its backend when it loads: TensorFlow by
default, about 450 MB of resident memory and seconds of start-up in a
process that never runs a TensorFlow op. `load_keras_for_driver()` loads
Keras with its NumPy backend instead, then puts `KERAS_BACKEND` back as it
was, so that processes started afterwards (a local Ray's workers) load Keras
with the configured backend and train as before. Keras reads `KERAS_BACKEND`
once, when it is first imported, and never writes it to `keras.json`.

`archsearch search` calls it before importing the executor; a program that
drives `run_search` itself may do the same. When Keras is already loaded
(a notebook that built a model, the test suite) nothing changes.

Example:
    >>> load_keras_for_driver() in ("numpy", "tensorflow")
    True
"""

from __future__ import annotations

import os
import sys

#: The backend a driver loads Keras with: no TensorFlow, nothing to train with.
DRIVER_BACKEND = "numpy"


def load_keras_for_driver() -> str:
    """Imports Keras and KerasTuner with the NumPy backend unless Keras is already loaded.

    Returns:
        The backend Keras is loaded with (`"numpy"` when this call loaded it).
    """
    if "keras" not in sys.modules:
        saved = os.environ.get("KERAS_BACKEND")
        os.environ["KERAS_BACKEND"] = DRIVER_BACKEND
        try:
            import keras_tuner  # noqa: F401 - loads Keras, with the backend above
        finally:
            if saved is None:
                os.environ.pop("KERAS_BACKEND", None)
            else:
                os.environ["KERAS_BACKEND"] = saved
    import keras

    return keras.backend.backend()
