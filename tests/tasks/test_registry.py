import subprocess
import sys

import pytest

import archsearch.tasks as tasks

EXPECTED = (
    "memorization",
    "arithmetic",
    "xml",
    "word_lm",
    "char_lm",
    "ptb",
    "sentiment",
    "trec",
    "music",
    "reber",
    "adding",
    "copy",
)


def test_names_and_get():
    assert tasks.names() == EXPECTED
    for name in EXPECTED:
        task = tasks.get(name)
        assert isinstance(task, tasks.Task)
        assert task.name == name
        assert task.output in tasks.OUTPUT_KINDS


def test_describe_rows():
    rows = tasks.describe()
    assert [row["name"] for row in rows] == list(EXPECTED)
    for row in rows:
        assert set(row) == {"name", "kind", "source", "size", "metric"}
        assert all(isinstance(value, str) and value for value in row.values())


def test_unknown_name_lists_known_names():
    with pytest.raises(tasks.TaskError) as info:
        tasks.get("arithmetics")
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "'arithmetics'" in message
    assert all(name in message for name in EXPECTED)


def test_register_refuses_duplicates():
    with pytest.raises(tasks.TaskError, match="already registered"):
        tasks.register(tasks.get("xml"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fraction": 0}, "fraction"),
        ({"fraction": 1.5}, "fraction"),
        ({"seed": -1}, "seed"),
        ({"batch_size": 0}, "batch_size"),
        ({"seq_len": 3}, "seq_len >= 10"),
        ({"num_exampels": 10}, "num_exampels"),
        ({"length": 0}, "length"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(tasks.TaskError, match=match):
        tasks.get("memorization").prepare(**kwargs)


def test_import_is_light():
    code = (
        "import sys, archsearch.tasks as t; t.describe(); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
