"""The `archsearch` command line: `cells list` and `cells show`, and its errors."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archsearch import Genome, GenomeBuilder
from archsearch.cli import main
from archsearch.genome import zoo


def _json_part(out):
    """The genome JSON at the end of `cells show` output."""
    start = out.index("\n{\n") + 1
    return out[start:]


def _assert_one_error_line(err, *names):
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("archsearch: error: "), err
    assert "Traceback" not in err
    for name in names:
        assert name in lines[0], (name, err)


# --- cells list ----------------------------------------------------------------------


def test_cells_list_shows_every_cell_with_its_parameter_count(capsys):
    assert main(["cells", "list", "--width", "250"]) == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        cols = [c.strip() for c in re.split(r"[│┃]", line)]
        if len(cols) > 4 and cols[1] in zoo.names():
            rows[cols[1]] = cols[3]
    assert set(rows) == set(zoo.names())
    for name, params in rows.items():
        g = zoo.get(name)
        assert params == f"{g.parameter_count(128, 128):,}", name
    assert rows["lstm"] == "131,584"  # 4 * (128*128 + 128*128 + 128)
    assert zoo.entry("lstm").description in out


def test_cells_list_counts_at_the_requested_sizes(capsys):
    assert main(["cells", "list", "--units", "7", "--input-width", "5", "--width", "250"]) == 0
    out = capsys.readouterr().out
    lstm_row = next(line for line in out.splitlines() if re.search(r"[│┃] lstm +[│┃]", line))
    assert " 364 " in lstm_row  # 4 * (5*7 + 7*7 + 7)
    mut1_row = next(line for line in out.splitlines() if re.search(r"[│┃] mut1 +[│┃]", line))
    # mut1 needs input width == units, so it is counted at 7 x 7.
    assert f" {zoo.get('mut1').parameter_count(7, 7)} " in mut1_row


def test_cells_list_in_a_narrow_terminal_still_names_every_cell(capsys):
    assert main(["cells", "list"]) == 0
    out = capsys.readouterr().out
    for name in zoo.names():
        assert re.search(rf"[│┃] {name} +[│┃]", out), name


# --- cells show ----------------------------------------------------------------------


def test_cells_show_zoo_cell(capsys):
    assert main(["cells", "show", "lstm_b"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    g = zoo.get("lstm_b")
    assert captured.err == ""
    assert out.startswith("# lstm_b\n")
    assert g.equations() in out
    assert f"fingerprint: {g.fingerprint()}" in out
    assert zoo.entry("lstm_b").source in out
    assert "131,584" in out
    parsed = Genome.from_json(_json_part(out))
    assert parsed == g and parsed.name == "lstm_b"
    assert parsed.fingerprint() == g.fingerprint()


def test_cells_show_square_input_cell_says_so(capsys):
    assert main(["cells", "show", "mut1", "--units", "8", "--input-width", "3"]) == 0
    out = capsys.readouterr().out
    assert "input width 8" in out and "note:" in out and "'g_sum'" in out


def test_cells_show_json_file(tmp_path, capsys):
    b = GenomeBuilder(("h",))
    g = b.build({"h": b.relu(b.linear("x", "h", bias=0.5, name="z"), name="h_new")},
                name="my_cell", description="a relu rnn")
    path = tmp_path / "my cell.json"
    path.write_text(g.to_json(), encoding="utf-8")
    assert main(["cells", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# my_cell\na relu rnn\n")
    assert "h' = relu(W_z·x + U_z·h + b_z)    [b_z = 0.5 at init]" in out
    assert f"fingerprint: {g.fingerprint()}" in out
    assert "source:" not in out
    assert Genome.from_json(_json_part(out)) == g


# --- errors: exit code 2, one line naming the file or name ---------------------------


@pytest.mark.parametrize(
    ("content", "names"),
    [
        pytest.param(zoo.get("lstm").to_json()[:100], ["malformed"], id="truncated"),
        pytest.param("", ["empty"], id="empty"),
        pytest.param('{"nodes": [{"id": "a", "op": "tanh", "inputs": ["a"]}], '
                     '"next": {"h": "a"}}', ["'a'", "cycle"], id="cycle"),
        pytest.param('{"nodes": [], "next": {"h": "x"}, "extra": 1}', ["'extra'"],
                     id="unknown-key"),
        pytest.param("[" * 100_000, ["deeply"], id="deep"),
        pytest.param(b"\xff\xfe\x00", [], id="not-utf8"),
    ],
)
def test_malformed_file_exits_2_with_one_line(tmp_path, capsys, content, names):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert main(["cells", "show", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    _assert_one_error_line(captured.err, str(path), *names)


def test_missing_file_exits_2(tmp_path, capsys):
    path = tmp_path / "nowhere.json"
    assert main(["cells", "show", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    _assert_one_error_line(captured.err, str(path), "no such file")


def test_directory_exits_2(tmp_path, capsys):
    assert main(["cells", "show", str(tmp_path)]) == 2
    _assert_one_error_line(capsys.readouterr().err, str(tmp_path))


def test_unknown_name_exits_2(capsys):
    assert main(["cells", "show", "lstm_z"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    _assert_one_error_line(captured.err, "'lstm_z'", "lstm_b")


@pytest.mark.parametrize("argv", [
    ["cells", "list", "--units", "-3"],
    ["cells", "list", "--units", "0"],
    ["cells", "show", "lstm", "--input-width", "many"],
    ["cells", "show"],
    ["cells"],
    ["frobnicate"],
    [],
])
def test_bad_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert "0.1.0" in capsys.readouterr().out


# --- the installed console script ----------------------------------------------------


def test_console_script(tmp_path):
    script = Path(sys.executable).parent / "archsearch"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "archsearch.cli"]
    good = subprocess.run([*command, "cells", "show", "gru"], capture_output=True, text=True,
                          timeout=120)
    assert good.returncode == 0, good.stderr
    assert json.loads(_json_part(good.stdout))["name"] == "gru"
    bad_file = tmp_path / "bad.json"
    bad_file.write_text("{", encoding="utf-8")
    bad = subprocess.run([*command, "cells", "show", str(bad_file)], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2
    _assert_one_error_line(bad.stderr, str(bad_file))


# --- search: what Ctrl-C prints ------------------------------------------------------


def test_tune_resume_hint_is_dropped_and_stop_warning_reworded():
    import logging

    from archsearch.search.progress import TUNE_LOGGER, TuneHintFilter

    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger = logging.getLogger(TUNE_LOGGER)
    handler, hint_filter = Keep(), TuneHintFilter()
    logger.addHandler(handler)
    logger.addFilter(hint_filter)
    try:
        logger.warning("Stop signal received (e.g. via SIGINT/Ctrl+C), ending Ray Tune run.")
        logger.warning("Experiment has been interrupted, but the most recent state was saved."
                       '\nResume experiment with: Tuner.restore(path="/x", trainable=...)')
        logger.warning("Total run time: 3.00 seconds")
    finally:
        logger.removeFilter(hint_filter)
        logger.removeHandler(handler)
    assert len(seen) == 2 and seen[1] == "Total run time: 3.00 seconds"
    assert seen[0].startswith("archsearch: stopping") and "Tune" not in seen[0]


@pytest.mark.slow
def test_ctrl_c_prints_the_archsearch_command_that_resumes(tmp_path, monkeypatch, capsys):
    import archsearch.search.executor as executor

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(executor, "run_search", interrupted)
    space = tmp_path / "my space.yaml"
    space.write_text("max_trials: 3\nstrategy: {name: fixed, cells: [gru]}\n"
                     "tasks: [{name: xml, budget: {steps: 2}}]\n", encoding="utf-8")
    run = tmp_path / "run"
    code = main(["search", str(space), "--run-dir", str(run), "--max-trials", "7",
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 130
    assert "Tuner.restore" not in err and "max trials:  7" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("archsearch: interrupted; finished trials are kept. Resume with: ")
    assert last.endswith(f"archsearch search '{space}' --run-dir {run} --max-trials 7 "
                         f"--no-progress")
    assert not run.exists()


def test_run_dir_holding_only_a_lease_is_not_foreign(tmp_path):
    from archsearch.cli import CliError, _check_not_foreign
    from archsearch.rundir import LEASE_FILE

    (tmp_path / LEASE_FILE).write_text("{}")
    _check_not_foreign(str(tmp_path))  # a driver took the lease before writing run.json
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CliError, match="not an archsearch run directory"):
        _check_not_foreign(str(tmp_path))
