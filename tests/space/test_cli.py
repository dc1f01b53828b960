"""`archsearch spaces check` and `archsearch cells mutate`: output and exit codes."""

from pathlib import Path

import pytest

from archsearch.cli import main
from archsearch.genome import Genome, zoo

ROOT = Path(__file__).resolve().parents[2]
GOOD = "max_trials: 5\nstrategy: {name: fixed, cells: [lstm, gru]}\n" \
       "tasks: [{name: arithmetic, budget: {steps: 10}}]\n"


@pytest.mark.parametrize("path", sorted((ROOT / "search_spaces").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_check_shipped_spaces(capsys, path):
    assert main(["spaces", "check", str(path)]) == 0
    out = capsys.readouterr().out
    for word in ("strategy:", "task:", "max trials:", "ok:"):
        assert word in out
    assert "deprecated" not in out


def test_check_a_space_with_the_deprecated_layers_key(tmp_path, capsys):
    path = tmp_path / "old.yaml"
    path.write_text(GOOD + "hyperparameters: {layers: [2], units: [8]}\n")
    assert main(["spaces", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "deprecated:  hyperparameters.layers is read as hyperparameters.num_layers" in out
    assert "ok:" in out
    path.write_text(GOOD + "hyperparameters: {num_layers: [2], units: [8]}\n")
    assert main(["spaces", "check", str(path)]) == 0
    assert "deprecated" not in capsys.readouterr().out


@pytest.mark.parametrize("bad, key", [
    ("steps: -1", "tasks[0].budget.steps"),
    ("steps: 10, stepz: 1", "tasks[0].budget.stepz"),
    ("steps: ten", "tasks[0].budget.steps"),
])
def test_check_bad_space_exits_2_with_one_line(tmp_path, capsys, bad, key):
    text = GOOD.replace("steps: 10", bad)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["spaces", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: {key}:" in err


@pytest.mark.parametrize("text, key", [
    (GOOD.replace("lstm, gru", "lstm, grux"), "strategy.cells[1].cell"),
    (GOOD.replace("arithmetic", "arith"), "tasks[0].name"),
    (GOOD + "resources: {gpu: 2}\n", "resources.gpu"),
    (GOOD + "extra: 1\n", "extra"),
    (GOOD.replace("{steps: 10}", "{steps: 10"), ""),
])
def test_check_each_kind_of_error_exits_2(tmp_path, capsys, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["spaces", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and key in err


def test_check_missing_file(tmp_path, capsys):
    assert main(["spaces", "check", str(tmp_path / "none.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cells_mutate_is_deterministic(capsys):
    assert main(["cells", "mutate", "lstm", "--seed", "5", "-n", "3"]) == 0
    first = capsys.readouterr().out
    assert main(["cells", "mutate", "lstm", "--seed", "5", "-n", "3"]) == 0
    assert capsys.readouterr().out == first
    assert first.count("## child") == 3 and first.count("fingerprint: ") == 3
    assert zoo.get("lstm").fingerprint() not in first.split("\n", 1)[1]
    assert any(op in first for op in ("change_activation", "insert_activation",
                                      "replace_with_ancestor", "remove_node"))


def test_cells_mutate_json_file_and_json_output(tmp_path, capsys):
    path = tmp_path / "cell.json"
    path.write_text(zoo.get("gru").to_json(), encoding="utf-8")
    assert main(["cells", "mutate", str(path), "--seed", "0", "--json"]) == 0
    out = capsys.readouterr().out
    child = Genome.from_json(out[out.index("{"):])
    assert child.fingerprint() in out


def test_cells_mutate_with_space_settings(tmp_path, capsys):
    path = tmp_path / "space.yaml"
    path.write_text(GOOD + "mutation: {operators: {change_elementwise: 1}}\n", encoding="utf-8")
    assert main(["cells", "mutate", "gru", "--seed", "0", "-n", "2", "--space", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("change_elementwise") >= 2 and "insert_activation" not in out


@pytest.mark.parametrize("argv", [["cells", "mutate", "nope", "--seed", "0"],
                                  ["cells", "mutate", "tanh_rnn", "--seed", "0", "--space",
                                   "missing.yaml"]])
def test_cells_mutate_errors_exit_2(capsys, argv):
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_cells_mutate_impossible_exits_2(tmp_path, capsys):
    path = tmp_path / "space.yaml"
    path.write_text(GOOD + "mutation: {operators: {change_elementwise: 1}, max_attempts: 3}\n",
                    encoding="utf-8")
    assert main(["cells", "mutate", "tanh_rnn", "--seed", "0", "--space", str(path)]) == 2
    assert "could not mutate" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["cells", "mutate", "lstm"],
                                  ["cells", "mutate", "lstm", "--seed", "-1"],
                                  ["cells", "mutate", "lstm", "--seed", "0", "-n", "0"]])
def test_cells_mutate_bad_arguments(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
