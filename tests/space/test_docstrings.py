"""The runnable examples in archsearch.space docstrings stay true."""

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["archsearch.space.files", "archsearch.space.limits", "archsearch.space.strict_yaml",
           "archsearch.space.task_options", "archsearch.space.loader",
           "archsearch.space.search_space", "archsearch.space.registry",
           "archsearch.space.hyperparameters", "archsearch.space.schema",
           "archsearch.search.progress"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples name search_spaces/*.yaml
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
