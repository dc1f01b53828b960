"""Task options in a search space are checked against the tasks' own option schema."""

import os

import pytest

from archsearch import tasks
from archsearch.space.cells import PathError
from archsearch.space.files import FileRefused, read_text
from archsearch.space.task_options import INT_RANGES, check_options, option_defaults


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
                                           ("memorization", "alphabet_size")])
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
