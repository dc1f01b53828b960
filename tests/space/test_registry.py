"""The strategy and task registries and the space schema agree, and registration works."""

import subprocess
import sys
import typing
from typing import Literal

import pytest

from archsearch import tasks
from archsearch.space import STRATEGIES, SearchSpace, parse_search_space, registry, task_names
from archsearch.space.cells import Strict

SPACE = """
max_trials: 4
seed_cells: [gru]
tasks: [{name: arithmetic, budget: {steps: 10}}]
strategy: {strategy}
"""


def _union_members():
    annotation = SearchSpace.model_fields["strategy"].annotation
    return set(typing.get_args(annotation)) or {annotation}


def test_schema_strategies_are_the_registry():
    entries = registry.strategies()
    assert list(STRATEGIES) == list(entries)
    assert {name: e.params for name, e in entries.items()} == STRATEGIES
    assert _union_members() == {e.params for e in entries.values()}


def test_every_registered_strategy_parses_by_name():
    for name in registry.strategies():
        extra = "\n    cells: [lstm]" if name == "fixed" else ""
        text = SPACE.replace("{strategy}", f"\n    name: {name}{extra}")
        assert parse_search_space(text).strategy.name == name


def test_registered_oracles_are_the_executors():
    from archsearch.search.oracles import ORACLES

    entries = registry.strategies()
    assert set(ORACLES) == set(entries)
    for name, entry in entries.items():
        oracle = entry.load_oracle()
        assert oracle is ORACLES[name]
        assert oracle.strategy == name


def test_schema_tasks_are_the_task_registry():
    assert task_names() == tasks.names()
    for name in tasks.names():
        text = SPACE.replace("arithmetic", name).replace("{strategy}", "random")
        assert [t.name for t in parse_search_space(text).tasks] == [name]


def test_reading_a_space_imports_no_tensorflow_keras_tuner_or_ray():
    code = ("import sys, archsearch\n"
            "archsearch.load_search_space('search_spaces/quickstart.yaml')\n"
            "print(sorted({'tensorflow', 'keras', 'keras_tuner', 'ray'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_a_new_strategy_is_one_registration(monkeypatch):
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))

    @registry.register_strategy(oracle="my_package.oracles:GridOracle")
    class Grid(Strict):
        name: Literal["grid"]
        points: int = 3

    union = registry.strategy_union()
    assert Grid in typing.get_args(typing.get_args(union)[0])
    entry = registry.strategy("grid")
    assert (entry.params, entry.oracle) == (Grid, "my_package.oracles:GridOracle")
    with pytest.raises(ModuleNotFoundError, match="my_package"):
        entry.load_oracle()


def test_a_name_taken_by_another_model_is_refused(monkeypatch):
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))

    class Fixed2(Strict):
        name: Literal["fixed"]

    with pytest.raises(ValueError, match="'fixed' is registered by Fixed. Received: params="):
        registry.register_strategy(oracle="a.b:C")(Fixed2)
    assert registry.strategy("fixed").params is STRATEGIES["fixed"]


@pytest.mark.parametrize("oracle", ["no_colon", "a.b:", ":C", "a b:C", 3])
def test_malformed_oracle_path_is_refused(oracle):
    with pytest.raises(ValueError, match="expected an import path .*Received: oracle="):
        registry.register_strategy(oracle=oracle)


def test_a_model_without_a_literal_name_is_refused():
    class NoName(Strict):
        top_n: int = 1

    class TwoNames(Strict):
        name: Literal["a", "b"]

    for model in (NoName, TwoNames):
        with pytest.raises(TypeError, match="Literal.*Received: params="):
            registry.register_strategy(oracle="a.b:C")(model)


def test_unknown_strategy_lists_the_known_ones():
    with pytest.raises(KeyError, match="one of: .*evolution.*Received: name='grid'"):
        registry.strategy("grid")


def test_strategy_traits_are_class_data_not_space_keys():
    traits = {name: (e.params.searches, e.params.staged_cut)
              for name, e in registry.strategies().items()}
    assert traits == {"evolution": (True, 0.9), "regularized_evolution": (True, None),
                      "random": (True, None), "fixed": (False, None),
                      "hyperband": (False, None)}
    for entry in registry.strategies().values():
        assert not {"searches", "staged_cut"} & set(entry.params.model_fields)
    text = SPACE.replace("{strategy}", "\n    name: random\n    searches: false")
    with pytest.raises(Exception, match="searches"):
        parse_search_space(text)


def test_staged_cut_and_searches_drive_the_space():
    evo = parse_search_space(SPACE.replace("{strategy}", "evolution"))
    assert [t.min_ratio for t in evo.tasks] == [0.9]
    rnd = parse_search_space(SPACE.replace("{strategy}", "random"))
    assert [t.min_ratio for t in rnd.tasks] == [None]
    assert [g.name for g in rnd.cells()] == ["gru"]
    fixed = parse_search_space(SPACE.replace("seed_cells: [gru]\n", "").replace(
        "{strategy}", "{name: fixed, cells: [lstm, mgu]}"))
    assert [g.name for g in fixed.cells()] == ["lstm", "mgu"]
    assert "cells:       lstm, mgu" in fixed.summary()


def test_option_tables_name_registered_tasks_and_their_options():
    from archsearch.space.task_options import INT_RANGES, string_choices

    every_option = {key for name in tasks.names() for key in tasks.get(name).options}
    for key in INT_RANGES:
        if isinstance(key, tuple):
            task, option = key
            assert task in tasks.names() and option in tasks.get(task).options, key
        else:
            assert key in every_option, key
    for name in tasks.names():
        for option, default in tasks.get(name).options.items():
            choices = string_choices(name, option)
            assert choices is None or default in choices, (name, option)
