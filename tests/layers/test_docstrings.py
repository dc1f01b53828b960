"""The runnable examples in archsearch.layers docstrings stay true."""

import doctest
import importlib

import pytest

MODULES = ["archsearch.layers.attention", "archsearch.layers.cell", "archsearch.layers.chrono",
           "archsearch.layers.rnn"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
