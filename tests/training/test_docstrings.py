"""The Examples in archsearch.training's docstrings run."""

import doctest
import importlib

import pytest

MODULES = ["archsearch.training.budget", "archsearch.training.compiled",
           "archsearch.training.compiled_population", "archsearch.training.grouping",
           "archsearch.training.hparams",
           "archsearch.training.member_optimizer", "archsearch.training.model",
           "archsearch.training.population", "archsearch.training.result",
           "archsearch.training.stacked", "archsearch.tasks.metrics"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result
