"""Records crafted to smuggle paths never make `archsearch report` write outside --out."""

import json
import os
import sys
from pathlib import Path

import pytest

from archsearch.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from report_synthetic import write_scores  # noqa: E402

EVIL_FIELDS = [
    ("cell", "fingerprint", "../../x"),
    ("cell", "fingerprint", "a/b"),
    ("cell", "fingerprint", "/etc/passwd"),
    ("cell", "parent", "../../../p"),
    ("cell", "name", "../../name"),
    ("cell", "name", "a/b/c"),
    (None, "task", "../../task"),
    (None, "task", "t/../../u"),
    (None, "trial_id", "../../trial"),
    (None, "strategy", "../s"),
    (None, "score_metric", "../../metric"),
]


def _files(root: Path) -> set[Path]:
    return {Path(d, f) for d, _, fs in os.walk(root) for f in fs}


@pytest.fixture
def crafted_run(tmp_path):
    run = write_scores(tmp_path / "run", {"gru": {"arithmetic": [0.5, 0.6, 0.55]},
                                          "lstm": {"arithmetic": [0.4, 0.5, 0.45]}})
    template = json.loads(next((run / "trials").glob("*.json")).read_text())
    for k, (parent, key, value) in enumerate(EVIL_FIELDS):
        data = json.loads(json.dumps(template))
        data["trial_id"] = f"9{k:04d}"
        (data[parent] if parent else data)[key] = value
        (run / "trials" / f"9{k:04d}.json").write_text(json.dumps(data))
    # A genome name that looks like a path, on a record that is otherwise valid.
    data = json.loads(json.dumps(template))
    data["trial_id"] = "99999"
    data["cell"]["genome"]["name"] = "../../genome"
    (run / "trials" / "99999.json").write_text(json.dumps(data))
    return run


def test_nothing_is_written_outside_out(tmp_path, crafted_run, capsys):
    before = _files(tmp_path)
    out = tmp_path / "deep" / "out"
    code = main(["report", str(crafted_run), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    written = _files(tmp_path) - before
    assert written, "the report wrote nothing"
    outside = [p for p in written if out not in p.parents]
    assert outside == []
    assert (out / "index.html").exists() and (out / "comparisons.csv").exists()
    for path in written:  # every file name is plain: no traversal, no separators
        assert ".." not in path.relative_to(out).parts
    # Path-like ids are refused where they are read, naming the field.
    for field, value in [("cell.fingerprint", "../../x"), ("cell.fingerprint", "a/b"),
                         ("cell.parent", "../../../p"), ("trial_id", "../../trial")]:
        assert f"field '{field}'" in err and repr(value) in err, (field, value)
