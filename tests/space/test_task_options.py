"""Task options in a search space are checked against the tasks' own option schema."""

import os

import pytest

from archsearch import tasks
from archsearch.space.cells import PathError
from archsearch.space.files import FileRefused, read_text
from archsearch.space.task_options import (
    INT_RANGES,
    check_options,
    option_defaults,
    string_choices,
)


@pytest.mark.parametrize("name", tasks.names())
def test_every_task_default_passes_the_schema(name):
    defaults = option_defaults(name)
    assert defaults == dict(tasks.get(name).options)
    assert check_options(name, defaults) == defaults


@pytest.mark.parametrize(("task", "key", "bad"), [
    ("arithmetic", "max_digits", 19), ("arithmetic", "max_digits", 0),
    ("memorization", "alphabet_size", 27), ("memorization", "length", True),
    ("xml", "stateful", 1), ("xml", "num_examples", 2.0), ("ptb", "data_dir", 5),
    ("ptb", "data_dir", ""), ("word_lm", "vocab_size", 2), ("sentiment", "vocab_size", "big"),
    ("music", "resolution", 17), ("arithmetic", "num_examples", float("inf")),
    ("char_lm", "vocab_size", 100),
])
def test_bad_option_names_its_key(task, key, bad):
    with pytest.raises(PathError) as info:
        check_options(task, {key: bad})
    message = str(info.value)
    assert info.value.path == (key,)
    if key in option_defaults(task):
        assert f"option {key!r} of task {task!r}" in message and "Received: " in message
    else:
        assert "unknown option" in message


@pytest.mark.parametrize(("task", "key"), [("arithmetic", "max_digits"),
                                           ("memorization", "alphabet_size"),
                                           ("copy", "alphabet_size"), ("adding", "length")])
def test_ranges_match_what_the_task_itself_accepts(task, key):
    low, high = INT_RANGES[(task, key)]
    small = {"num_examples": 8}
    tasks.get(task).prepare(seed=0, batch_size=2, **small, **{key: high})  # accepted
    for outside in (low - 1, high + 1):
        with pytest.raises(tasks.TaskError):
            tasks.get(task).prepare(seed=0, batch_size=2, **small, **{key: outside})
        with pytest.raises(PathError):
            check_options(task, {key: outside})


def test_read_text_takes_exactly_the_limit(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a" * 100)
    assert read_text(path, limit=100) == "a" * 100
    with pytest.raises(FileRefused, match="100 bytes; expected a file of at most 99 bytes"):
        read_text(path, limit=99)
    path.write_bytes(b"\xc3")
    with pytest.raises(FileRefused, match="not UTF-8"):
        read_text(path)


def test_read_text_refuses_a_symlink_to_a_fifo_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "fifo")
    with pytest.raises(FileRefused, match="FIFO"):
        read_text(tmp_path / "link.yaml")


@pytest.mark.parametrize("task", ["sentiment", "trec"])
def test_pooling_takes_only_the_tasks_own_choices(task):
    from archsearch.tasks.classification import POOLINGS

    assert string_choices(task, "pooling") == tuple(POOLINGS)
    for good in POOLINGS:
        assert check_options(task, {"pooling": good}) == {"pooling": good}
    with pytest.raises(PathError) as info:
        check_options(task, {"pooling": "max"})
    assert info.value.path == ("pooling",)
    assert str(info.value) == (f"expected one of last, attention for option 'pooling' of task "
                               f"{task!r}. Received: 'max'")


def test_spaces_check_names_a_bad_pooling(tmp_path, capsys):
    from archsearch.cli import main

    space = tmp_path / "space.yaml"
    space.write_text("max_trials: 2\nseed_cells: [gru]\nstrategy: random\ntasks:\n"
                     "  - {name: trec, budget: {steps: 5}, options: {pooling: mean}}\n")
    assert main(["spaces", "check", str(space)]) == 2
    err = capsys.readouterr().err
    assert "tasks[0].options.pooling" in err or "tasks.0.options.pooling" in err, err
    assert "expected one of last, attention" in err and "Received: 'mean'" in err


def test_free_text_options_have_no_choices():
    assert string_choices("ptb", "data_dir") is None
    assert check_options("ptb", {"data_dir": "/any/where"}) == {"data_dir": "/any/where"}
