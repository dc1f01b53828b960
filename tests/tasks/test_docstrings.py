"""The runnable examples in archsearch.tasks docstrings stay true (real-data ones are skipped)."""

import doctest
import importlib

import pytest

MODULES = [
    "archsearch.tasks",
    "archsearch.tasks.adding",
    "archsearch.tasks.arithmetic",
    "archsearch.tasks.base",
    "archsearch.tasks.prepared",
    "archsearch.tasks.classification",
    "archsearch.tasks.copy_memory",
    "archsearch.tasks.language_model",
    "archsearch.tasks.memorization",
    "archsearch.tasks.metrics",
    "archsearch.tasks.music",
    "archsearch.tasks.reber",
    "archsearch.tasks.registry",
    "archsearch.tasks.sources",
    "archsearch.tasks.text",
    "archsearch.tasks.xml_modelling",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
