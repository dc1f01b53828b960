"""`archsearch report`: exit codes, messages, nothing written on bad input."""

import json

from archsearch.cli import main


def test_report_command(fixture_runs, tmp_path, capsys):
    out = tmp_path / "reports" / "both"
    code = main(["report", str(fixture_runs["ablation"]), str(fixture_runs["evolution"]),
                 "--out", str(out), "--top", "3", "--no-figures"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith(f"report: {out / 'index.html'} (2 run(s), ")
    assert "0 warning(s)" in captured.out and captured.err == ""
    assert len(list((out / "genomes").glob("*.json"))) == 3
    assert (out / "report.md").is_file() and (out / "leaderboard.csv").is_file()


def test_warnings_go_to_stderr(fixture_runs, tmp_path, capsys, make_run):
    run = make_run(tmp_path / "run", cells=("gru", "lstm"), samples=1, seeds=1)
    (run / "trials" / "00002.json").write_text("{oops")
    out = tmp_path / "out"
    assert main(["report", str(run), "--out", str(out), "--no-figures"]) == 0
    err = capsys.readouterr().err
    assert err.count("archsearch: warning: ") == 1
    assert "trials/00002.json: not valid JSON" in err
    assert "00002.json" in (out / "index.html").read_text()


def test_not_a_run_directory_exits_2_and_writes_nothing(tmp_path, capsys, fixture_runs):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "a.txt").write_text("x")
    out = tmp_path / "reports" / "x"
    code = main(["report", str(fixture_runs["ablation"]), str(tmp_path / "stuff"),
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"archsearch: error: {tmp_path / 'stuff'}: not a run directory (it has no "
                   f"run.json and no trials/ folder)\n")
    assert not out.exists() and not (tmp_path / "reports").exists()
    assert main(["report", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_output_that_is_not_a_report_exits_2(tmp_path, capsys, fixture_runs):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "data.json").write_text(json.dumps({"a": 1}))
    code = main(["report", str(fixture_runs["evolution"]), "--out", str(tmp_path / "keep"),
                 "--no-figures"])
    assert code == 2
    assert "does not hold a report" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["data.json"]
