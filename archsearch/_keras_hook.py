"""Registers archsearch's Keras layers the moment Keras is imported.

`keras.saving.load_model` finds custom layers only once their classes are
registered, and users expect `import archsearch` to be enough. Importing Keras
(and TensorFlow) eagerly would make every genome-only tool pay seconds of
start-up, so instead: if Keras is already imported, register now; otherwise
register right after Keras finishes importing, whenever that happens.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

_LAYERS = "archsearch.layers"


class _AfterKeras(importlib.abc.MetaPathFinder):
    """A one-shot finder that wraps Keras' loader to import our layers after it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        remove()
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            importlib.import_module(_LAYERS)

        spec.loader.exec_module = exec_module
        return spec


_FINDER = _AfterKeras()


def remove() -> None:
    """Takes the finder off `sys.meta_path` (idempotent)."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


def install() -> None:
    """Registers the layers now if Keras is loaded, else right after it loads."""
    if "keras" in sys.modules:
        importlib.import_module(_LAYERS)
    elif _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
