"""One hyperparameter vocabulary from YAML to trainer; the old `layers` key is still read."""

import json
import re
import shutil
from pathlib import Path

import pytest

from archsearch.rundir import RunDirError
from archsearch.search.run_setup import _first_difference, open_run
from archsearch.space import Hyperparameters, SearchSpace, SearchSpaceError, parse_search_space
from archsearch.space.hyperparameters import DEFAULTS, PAPER_SPACE, current_names

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_V1 = ROOT / "tests" / "fixtures" / "rundir_v1"
TASKS = ("{name: memorization, budget: {steps: 4, batch_size: 16}, options: {num_examples: 64}}",
         "{name: arithmetic, budget: {steps: 4, batch_size: 16}, options: {num_examples: 64}}")


def _space(layers="num_layers: [1]", name="rundir_v1"):
    """The space tests/fixtures/rundir_v1 was written from, its layers key spelled `layers`."""
    return parse_search_space(
        f"name: {name}\nseed: 0\nmax_trials: 6\nbaseline: gru\n"
        "strategy: {name: fixed, cells: [gru, lstm, lstm_b], hyperparameter_samples: 1}\n"
        f"hyperparameters: {{units: [8], {layers}, optimizer: [adam],\n"
        "                  learning_rate: [0.01, 0.02], init_scale: [1.0], clip_norm: [5.0]}\n"
        "tasks:\n" + "".join(f"  - {t}\n" for t in TASKS) + "resources: {cpus: 1, gpu: 0}\n")


def _as_before_the_rename(record: dict) -> dict:
    """A run.json as archsearch wrote it while the key was `layers` (same place, old name)."""
    hp = record["space"]["hyperparameters"]
    record["space"]["hyperparameters"] = {("layers" if k == "num_layers" else k): v
                                          for k, v in hp.items()}
    return record


# -- one vocabulary -------------------------------------------------------------------
def test_the_schema_keys_are_the_trainer_keys():
    assert list(Hyperparameters.model_fields) == list(DEFAULTS)


def test_the_schema_default_is_the_paper_space():
    dumped = Hyperparameters().model_dump()
    assert {k: dumped[k] for k in PAPER_SPACE} == PAPER_SPACE
    # The oracles sample in field order: the rename kept `num_layers` where `layers` was.
    assert list(Hyperparameters.model_fields)[:5] == ["init_scale", "learning_rate",
                                                       "clip_norm", "num_layers", "param_budget"]


def test_the_trainer_reads_the_same_paper_space():
    from archsearch.training import hparams

    assert hparams.PAPER_SPACE is PAPER_SPACE and hparams.DEFAULTS is DEFAULTS


def test_the_default_is_a_copy_so_a_space_cannot_change_the_paper_space():
    Hyperparameters().num_layers.append(99)
    assert PAPER_SPACE["num_layers"] == [1, 2, 3, 4]


@pytest.mark.parametrize("path", sorted((ROOT / "search_spaces").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_spaces_use_the_current_names(path):
    assert "\n  layers:" not in path.read_text()
    from archsearch.space import load_search_space

    assert load_search_space(path).hyperparameters.deprecated_keys() == {}


# -- the deprecated key ----------------------------------------------------------------
def test_layers_is_read_as_num_layers_and_named_in_the_summary():
    old, new = _space("layers: [2]"), _space("num_layers: [2]")
    assert old.hyperparameters.num_layers == [2]
    assert old.model_dump(mode="json") == new.model_dump(mode="json")
    assert old.hyperparameters.deprecated_keys() == {"layers": "num_layers"}
    assert "deprecated:  hyperparameters.layers is read as hyperparameters.num_layers" \
        in old.summary()
    assert "deprecated" not in new.summary()
    # A copy (the CLI's --seed / --max-trials) keeps the note.
    assert "deprecated" in old.model_copy(update={"seed": 3}).summary()


def test_both_names_at_once_is_an_error_naming_the_key():
    with pytest.raises(SearchSpaceError, match=re.escape(
            "hyperparameters.layers: expected 'num_layers' or its deprecated name 'layers', "
            "not both")):
        _space("layers: [1], num_layers: [1]")


def test_a_bad_value_under_the_old_key_names_the_key_as_written():
    with pytest.raises(SearchSpaceError, match=re.escape("hyperparameters.layers[0]: expected "
                                                         "a value greater than or equal to 1")):
        _space("layers: [0]")


def test_an_unknown_key_lists_the_current_name():
    with pytest.raises(SearchSpaceError, match="unknown key 'nlayers'; expected one of: "
                                               ".*clip_norm, num_layers, param_budget"):
        _space("nlayers: [1]")


def test_current_names_renames_in_place_and_refuses_both():
    assert list(current_names({"a": 1, "layers": 2, "b": 3})) == ["a", "num_layers", "b"]
    assert current_names({"num_layers": 2}) == {"num_layers": 2}
    with pytest.raises(ValueError, match=r"not both. Received: layers=1, num_layers=2"):
        current_names({"layers": 1, "num_layers": 2})


# -- resuming runs recorded with `layers` ---------------------------------------------
def test_the_v1_fixture_records_layers():
    hp = json.loads((FIXTURE_V1 / "run.json").read_text())["space"]["hyperparameters"]
    assert "layers" in hp and "num_layers" not in hp


@pytest.mark.parametrize("spelling", ["num_layers: [1]", "layers: [1]"])
def test_the_v1_fixture_resumes_under_either_name(tmp_path, spelling):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE_V1, run_dir)
    assert open_run(_space(spelling), str(run_dir), "fixed", create=False)[1]


def test_a_changed_layer_count_is_still_a_difference(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE_V1, run_dir)
    with pytest.raises(RunDirError, match=re.escape("'hyperparameters.num_layers[0]' differs")):
        open_run(_space("num_layers: [2]"), str(run_dir), "fixed", create=False)


@pytest.mark.parametrize("spelling", ["num_layers: [1, 2]", "layers: [1, 2]"])
def test_a_run_written_before_the_rename_resumes(tmp_path, spelling):
    run_dir = tmp_path / "run"
    open_run(_space("layers: [1, 2]", name="old"), str(run_dir), "fixed")
    run_json = run_dir / "run.json"
    run_json.write_text(json.dumps(_as_before_the_rename(json.loads(run_json.read_text()))))
    assert "layers" in json.loads(run_json.read_text())["space"]["hyperparameters"]
    storage, resumed = open_run(_space(spelling, name="old"), str(run_dir), "fixed")
    assert resumed
    # Resuming with a new max_trials rewrites run.json; the old name is kept, still comparable.
    bigger = _space(spelling, name="old").model_copy(update={"max_trials": 7})
    assert open_run(bigger, str(run_dir), "fixed")[1]
    assert open_run(_space(spelling, name="old"), str(run_dir), "fixed")[1]


def test_first_difference_compares_old_and_new_names():
    new = _space().model_dump(mode="json")
    old = json.loads(json.dumps(new))
    old["hyperparameters"] = {("layers" if k == "num_layers" else k): v
                              for k, v in old["hyperparameters"].items()}
    assert _first_difference(old, new, SearchSpace) is None
    assert _first_difference(new, old, SearchSpace) is None
    old["hyperparameters"]["layers"] = [3]
    assert _first_difference(old, new, SearchSpace) == "hyperparameters.num_layers[0]"
    # Without the schema nothing says the two names are one key.
    assert _first_difference(old, new) == "hyperparameters.layers"
