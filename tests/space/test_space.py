"""Search-space files: the shipped ones load; bad ones fail with one precise line."""

import sys
from pathlib import Path

import pytest

import archsearch
from archsearch.genome import zoo
from archsearch.space import (
    Hyperparameters,
    SearchSpace,
    SearchSpaceError,
    load_search_space,
    parse_search_space,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "search_spaces").glob("*.yaml"))

MINIMAL = """\
max_trials: 5
strategy: {name: fixed, cells: [lstm, gru]}
tasks:
  - name: arithmetic
    budget: {steps: 10}
"""


def _write(tmp_path, text, name="space.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_all_five_spaces_ship():
    assert {p.name for p in SHIPPED} >= {"jozefowicz2015.yaml", "quickstart.yaml",
                                         "lstm_ablations.yaml", "greff2017.yaml",
                                         "forget_bias.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_space_loads(path):
    space = load_search_space(path)
    assert isinstance(space, SearchSpace)
    assert space.name == path.stem and space.path == path
    assert space.cells() and all(g.name for g in space.cells())
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")
    header = text.split("\n\n")[0].lower() + text.lower()[:3000]
    assert "answers" in header and "expected run time" in header
    assert space.summary().startswith("space:")


def test_public_name():
    assert archsearch.load_search_space is load_search_space


def test_quickstart_is_small():
    space = load_search_space(ROOT / "search_spaces/quickstart.yaml")
    cells = [g.name for g in space.cells()]
    assert {"lstm", "lstm_b", "gru", "lstm_f", "tanh_rnn"} <= set(cells)
    assert {t.name for t in space.tasks} == {"arithmetic", "reber"}
    assert space.tasks[1].options["continual"] is True  # where the forget gate shows
    assert max(space.hyperparameters.units) <= 64 and space.resources.gpu == 0
    trials = sum(len(cells) * space.strategy.hyperparameter_samples * t.seeds
                 for t in space.tasks)
    assert trials <= space.max_trials <= 60
    # The README promises <= 5 minutes on 2 cores (measured: see README); every
    # trial is also capped in seconds, and the steps of all trials together are
    # bounded (at ~2 ms a step, two at a time, they fit in well under 4 minutes).
    assert all(t.budget.seconds is not None and t.budget.seconds <= 45 for t in space.tasks)
    steps = sum(t.budget.steps * len(cells) * t.seeds for t in space.tasks)
    assert steps <= 40_000, steps


def test_ablation_and_greff_cells():
    ablations = load_search_space(ROOT / "search_spaces/lstm_ablations.yaml")
    assert [g.name for g in ablations.cells()] == ["lstm", "lstm_f", "lstm_i", "lstm_o",
                                                   "lstm_b", "gru", "tanh_rnn", "mut1", "mut2",
                                                   "mut3"]
    greff = load_search_space(ROOT / "search_spaces/greff2017.yaml")
    assert [g.name for g in greff.cells()] == ["peephole_lstm", "nig", "nfg", "nog", "niaf",
                                               "noaf", "np", "cifg", "fgr"]


def test_forget_bias_variants_are_distinct_cells():
    space = load_search_space(ROOT / "search_spaces/forget_bias.yaml")
    lstms = [g for g in space.cells() if g.name.startswith("lstm")]
    assert [g.node("f_pre").param("bias") for g in lstms] == [0.0, 0.5, 1.0, 2.0, 3.0]
    assert len({g.fingerprint() for g in lstms}) == 5
    assert lstms[2].fingerprint() == zoo.get("lstm_b").fingerprint()


def test_paper_defaults():
    space = parse_search_space(MINIMAL)
    hp = space.hyperparameters
    assert hp.init_scale == [0.3, 0.7, 1.0, 1.4, 2.0, 2.8]
    assert hp.learning_rate == [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0]
    assert hp.clip_norm == [1.0, 2.5, 5.0, 10.0, 20.0]
    assert hp.num_layers == [1, 2, 3, 4] and hp.optimizer == ["sgd"]
    assert space.baseline.label == "gru" and space.resources.gpu == 0
    assert space.mutation.activations == ["tanh", "sigmoid", "relu", "linear(0)", "linear(1)",
                                          "linear(0.9)", "linear(1.1)"]
    assert space.tasks[0].min_ratio is None  # fixed lists are not filtered


def test_evolution_defaults_to_the_paper_thresholds():
    space = parse_search_space("""
max_trials: 5
strategy: evolution
seed_cells: [lstm, gru]
tasks:
  - {name: memorization, role: prefilter, budget: {steps: 10}}
  - {name: arithmetic, budget: {seconds: 30}}
""")
    assert space.strategy.top_n == 100
    assert space.tasks[0].min_score == 0.95 and space.tasks[1].min_ratio == 0.9
    assert [g.name for g in space.seed_genomes()] == ["lstm", "gru"]


def test_units_replace_the_parameter_budget():
    hp = Hyperparameters(units=64)
    assert hp.units == [64] and hp.param_budget is None


def test_space_mutator_uses_its_settings():
    space = parse_search_space(MINIMAL + "mutation:\n  activations: [relu]\n"
                                         "  operators: {insert_activation: 1}\n")
    parent = zoo.get("gru")
    child = space.mutator()(parent, 0)
    new = [n.op for n in child.nodes if n.id not in {m.id for m in parent.nodes}]
    assert new and set(new) == {"relu"}


def test_genome_files_are_read_relative_to_the_yaml(tmp_path):
    (tmp_path / "cells").mkdir()
    (tmp_path / "cells" / "mine.json").write_text(zoo.get("mgu").to_json(), encoding="utf-8")
    path = _write(tmp_path, MINIMAL.replace("[lstm, gru]", "[cells/mine.json, gru]"))
    space = load_search_space(path)
    assert space.cells()[0].fingerprint() == zoo.get("mgu").fingerprint()
    assert space.cells()[0].name == "mgu"


BAD = [
    ("unknown key", MINIMAL.replace("steps: 10", "steps: 10, stepz: 3"),
     "tasks[0].budget.stepz", "unknown key"),
    ("unknown top-level key", MINIMAL + "budget: 3\n", "budget", "unknown key"),
    ("wrong type", MINIMAL.replace("max_trials: 5", "max_trials: many"), "max_trials",
     "Received: 'many'"),
    ("wrong type nested", MINIMAL + "resources: {cpus: [1]}\n", "resources.cpus", "Received"),
    ("unknown cell", MINIMAL.replace("[lstm, gru]", "[lstm, grux]"), "strategy.cells[1].cell",
     "Received: 'grux'"),
    ("missing genome file", MINIMAL.replace("[lstm, gru]", "[lstm, nope.json]"),
     "strategy.cells[1].cell", "no such genome JSON file"),
    ("unknown task", MINIMAL.replace("name: arithmetic", "name: arithmetics"),
     "tasks[0].name", "Received: 'arithmetics'"),
    ("negative budget", MINIMAL.replace("steps: 10", "steps: -10"), "tasks[0].budget.steps",
     "Received: -10"),
    ("empty budget", MINIMAL.replace("{steps: 10}", "{}"), "tasks[0].budget.steps",
     "at least one"),
    ("gpu fraction", MINIMAL + "resources: {gpu: 1.5}\n", "resources.gpu", "Received: 1.5"),
    ("unknown strategy", MINIMAL.replace("name: fixed,", "name: genetic,"), "strategy.name",
     "Received: 'genetic'"),
    ("strategy key", MINIMAL.replace("name: fixed,", "name: fixed, top_n: 3,"),
     "strategy.top_n", "expected one of: name, cells, hyperparameter_samples"),
    ("unknown operator", MINIMAL + "mutation: {operators: {swap: 1}}\n",
     "mutation.operators.swap", "unknown key"),
    ("bad activation", MINIMAL + "mutation: {activations: [tanh, swish]}\n",
     "mutation.activations[1]", "Received: 'swish'"),
    ("unknown task option", MINIMAL.replace("steps: 10}", "steps: 10}\n    options: {digits: 3}"),
     "tasks[0].options.digits", "expected one of"),
    ("bad param override", MINIMAL.replace("[lstm, gru]", "[{cell: lstm, params: {q: {bias: 1}}}]"),
     "strategy.cells[0].params.q", "no node 'q'"),
    ("duplicate cell", MINIMAL.replace("[lstm, gru]", "[lstm, lstm]"), "strategy.cells[1]",
     "used twice"),
    ("evolution without seeds", MINIMAL.replace("{name: fixed, cells: [lstm, gru]}", "evolution"),
     "seed_cells", "at least one"),
    ("sample over population",
     MINIMAL.replace("{name: fixed, cells: [lstm, gru]}",
                     "{name: regularized_evolution, population: 4, sample_size: 9}")
     + "seed_cells: [lstm]\n", "strategy.sample_size", "Received: 9"),
    ("missing key", "strategy: {name: fixed, cells: [lstm]}\ntasks: [{name: xml, budget: "
     "{steps: 1}}]\n", "max_trials", "missing"),
    ("unknown scheduler", MINIMAL + "scheduler: hyperband\n", "scheduler.name",
     "Received: 'hyperband'"),
    ("scheduler key of another scheduler", MINIMAL + "scheduler: {name: median, "
     "reduction_factor: 3}\n", "scheduler.reduction_factor", "unknown key"),
    ("reduction factor", MINIMAL + "scheduler: {name: asha, reduction_factor: 1}\n",
     "scheduler.reduction_factor", "Received: 1"),
    ("grace period", MINIMAL + "scheduler: {name: curve_cut, grace_period: 1.5}\n",
     "scheduler.grace_period", "Received: 1.5"),
    ("curve cut ratio", MINIMAL + "scheduler: {name: curve_cut, min_ratio: 0}\n",
     "scheduler.min_ratio", "Received: 0"),
]


@pytest.mark.parametrize("case, text, key, detail", BAD, ids=[b[0] for b in BAD])
def test_bad_space_one_line_with_key_path(tmp_path, case, text, key, detail):
    path = _write(tmp_path, text)
    with pytest.raises(SearchSpaceError) as info:
        load_search_space(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: "), message
    assert detail in message, message


def test_scheduler_defaults_to_none_and_takes_a_bare_name_or_parameters(tmp_path):
    assert load_search_space(_write(tmp_path, MINIMAL)).scheduler.name == "none"
    asha = load_search_space(_write(tmp_path, MINIMAL + "scheduler: asha\n")).scheduler
    assert (asha.name, asha.grace_period, asha.reduction_factor) == ("asha", 0.25, 2.0)
    cut = load_search_space(_write(tmp_path, MINIMAL + "scheduler: {name: curve_cut, "
                                                       "min_ratio: 0.8, grace_period: 0.5}\n"))
    assert (cut.scheduler.min_ratio, cut.scheduler.grace_period) == (0.8, 0.5)
    assert "scheduler:   curve_cut (grace_period=0.5, min_ratio=0.8)" in cut.summary()
    median = load_search_space(_write(tmp_path, MINIMAL + "scheduler: median\n"))
    assert "scheduler:   median (grace_period=0.25, min_samples_required=3)" in median.summary()


def test_the_default_scheduler_is_not_recorded_so_older_runs_still_match(tmp_path):
    assert "scheduler" not in load_search_space(_write(tmp_path, MINIMAL)).model_dump(mode="json")
    asha = load_search_space(_write(tmp_path, MINIMAL + "scheduler: asha\n"))
    assert asha.model_dump(mode="json")["scheduler"]["name"] == "asha"


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = _write(tmp_path, MINIMAL.replace("budget: {steps: 10}", "budget: {steps: 10"))
    with pytest.raises(SearchSpaceError) as info:
        load_search_space(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    assert "malformed YAML" in message
    line = int(message[len(str(path)) + 1:].split(":")[0])
    assert line in (5, 6)


@pytest.mark.parametrize("text, detail", [("", "Received: NoneType"),
                                          ("- a\n- b\n", "Received: list")])
def test_top_level_must_be_a_mapping(tmp_path, text, detail):
    with pytest.raises(SearchSpaceError, match=detail):
        load_search_space(_write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(SearchSpaceError, match="no such file"):
        load_search_space(tmp_path / "nope.yaml")


def test_error_is_a_value_error():
    assert issubclass(SearchSpaceError, ValueError)


def test_loading_does_not_import_tensorflow():
    import subprocess

    code = ("import sys, archsearch; archsearch.load_search_space("
            f"{str(ROOT / 'search_spaces/jozefowicz2015.yaml')!r}); "
            "assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("resources", "scheduler", "expected"), [
    ("{cpus: 1}", "none", "resources:   1 CPU, 0 GPU per trial\n"),
    ("{cpus: 1, population: auto}", "none",
     "populations: auto (size from units and each task's table)"),
    ("{cpus: 1, population: 4}", "none", "populations of up to 4"),
    ("{cpus: 1, population: 4}", "asha", "population 4 ignored (scheduler asha: one by one)"),
])
def test_the_summary_says_how_trials_are_batched(tmp_path, resources, scheduler, expected):
    text = MINIMAL + f"resources: {resources}\nscheduler: {scheduler}\n"
    summary = load_search_space(_write(tmp_path, text)).summary() + "\n"
    assert expected in summary
