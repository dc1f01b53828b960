"""Shared pytest configuration.

Environment variables are set at import time, before any test module can
import TensorFlow. Pure-data tests (genome, mutation, reports) never import
TensorFlow; the fixture below only touches Keras when a test already did.
"""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"


@pytest.fixture(autouse=True)
def _clear_keras_session():
    """Reset Keras' global state after each test, if Keras is loaded.

    Without `gc.collect()` (`free_memory=False`): a full collection costs
    ~0.3-2 s once TensorFlow is loaded, paid after every test of a worker
    that ever imported Keras; Python's own collector still runs as usual.
    """
    yield
    if "keras" in sys.modules:
        import keras

        keras.utils.clear_session(free_memory=False)
