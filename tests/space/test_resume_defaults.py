"""A run recorded before a space key existed resumes when the new key holds its default."""

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from archsearch.rundir import RunDirError
from archsearch.search.run_setup import _first_difference, open_run
from archsearch.space import SearchSpace, parse_search_space

FIXTURE_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "rundir_v1"
TASKS = ("{name: memorization, budget: {steps: 4, batch_size: 16}, options: {num_examples: 64}}",
         "{name: arithmetic, budget: {steps: 4, batch_size: 16}, options: {num_examples: 64}}")


def _space(seeds=None, scheduler=None, name="rundir_v1"):
    """The space tests/fixtures/rundir_v1 was written from (see its README)."""
    extra = f", seeds: {seeds}" if seeds is not None else ""
    tasks = "\n".join(f"  - {t[:-1]}{extra}}}" for t in TASKS)
    text = textwrap.dedent(f"""\
        name: {name}
        seed: 0
        max_trials: 6
        baseline: gru
        strategy: {{name: fixed, cells: [gru, lstm, lstm_b], hyperparameter_samples: 1}}
        hyperparameters: {{units: [8], layers: [1], optimizer: [adam],
                           learning_rate: [0.01, 0.02], init_scale: [1.0], clip_norm: [5.0]}}
        tasks:
        """) + tasks + "\nresources: {cpus: 1, gpu: 0}\n"
    if scheduler:
        text += f"scheduler: {scheduler}\n"
    return parse_search_space(text)


def _run_dir(tmp_path, edit=None):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE_V1, run_dir)
    if edit:
        record = json.loads((run_dir / "run.json").read_text())
        edit(record["space"])
        (run_dir / "run.json").write_text(json.dumps(record))
    return run_dir


def test_the_v1_fixture_lacks_the_keys_added_since():
    space = json.loads((FIXTURE_V1 / "run.json").read_text())["space"]
    assert "scheduler" not in space
    assert all("seeds" not in task for task in space["tasks"])


def test_a_run_from_before_seeds_and_scheduler_resumes(tmp_path):
    run_dir = _run_dir(tmp_path)
    storage, resumed = open_run(_space(), str(run_dir), "fixed", create=False)
    assert resumed
    # Saying the defaults out loud is the same space.
    assert open_run(_space(seeds=1, scheduler="none"), str(run_dir), "fixed", create=False)[1]


@pytest.mark.parametrize(("kwargs", "path"), [({"seeds": 2}, "tasks[0].seeds"),
                                              ({"scheduler": "asha"}, "scheduler")])
def test_a_missing_key_with_another_value_is_a_difference(tmp_path, kwargs, path):
    with pytest.raises(RunDirError, match=re.escape(f"'{path}' differs")):
        open_run(_space(**kwargs), str(_run_dir(tmp_path)), "fixed", create=False)


def test_a_changed_value_inside_a_task_is_named(tmp_path):
    def edit(space):
        space["tasks"][1]["budget"]["steps"] = 5

    with pytest.raises(RunDirError, match=r"'tasks\[1\]\.budget\.steps' differs"):
        open_run(_space(), str(_run_dir(tmp_path, edit)), "fixed", create=False)


def test_a_missing_key_that_has_no_default_is_a_difference():
    new = _space().model_dump(mode="json")
    old = {k: v for k, v in new.items() if k != "tasks"}
    assert _first_difference(old, new, SearchSpace) == "tasks"
    assert _first_difference(new, new, SearchSpace) is None


def test_without_a_schema_every_missing_key_is_a_difference():
    new = {"tasks": [{"name": "xml", "seeds": 1}]}
    assert _first_difference({"tasks": [{"name": "xml"}]}, new) == "tasks[0].seeds"
    assert _first_difference({"tasks": [{"name": "xml"}]}, new, SearchSpace) is None
    assert _first_difference({"tasks": []}, new, SearchSpace) == "tasks"


def test_resources_may_change_between_runs(tmp_path):
    """Moving a run to a machine with a GPU, or to populations, is no new search."""
    run_dir = _run_dir(tmp_path, edit=lambda space: space.update(
        resources={"cpus": 2, "gpu": 0.5, "population": 4}))
    assert open_run(_space(), str(run_dir), "fixed", create=False)[1]
    assert _first_difference({"resources": {"cpus": 1}}, {"resources": {"cpus": 2}}) is None
    assert _first_difference({"seed": 0}, {"seed": 1}) == "seed"  # still a different search
