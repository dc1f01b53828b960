"""`archsearch spaces check` on hundreds of malformed spaces: one line, exit 2, no trace.

The corpus (tests/space/space_corpus.py) mutates every key of a valid space and adds
YAML attacks; each case must fail fast with one line naming the file and the
key path (or the line and column), and write nothing.
"""

import os
import sys
import time
from pathlib import Path

import pytest

from archsearch.cli import main
from archsearch.space import SearchSpaceError, load_search_space, parse_search_space

sys.path.insert(0, str(Path(__file__).parent))
import space_corpus as corpus  # noqa: E402 - the corpus sits next to this file

CASES = list(corpus.malformed_spaces())


def test_the_corpus_is_large_and_its_base_is_valid():
    assert len(CASES) >= 100
    assert len({name for name, _, _ in CASES}) == len(CASES)
    space = parse_search_space(corpus.dump(corpus.BASE))
    assert space.tasks[0].seeds == 2 and space.tasks[1].seeds == 1
    assert "memorization (prefilter; 100 steps and 30 s, min score 0.9, 2 seeds per sample)" \
        in space.summary()
    assert "arithmetic (search; 100 steps, min ratio 0.9)\n" in space.summary()


@pytest.mark.parametrize(("name", "content", "where"), CASES, ids=[c[0] for c in CASES])
def test_malformed_space_fails_with_one_line(tmp_path, monkeypatch, capsys, name, content,
                                             where):
    path = tmp_path / "space.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    start = time.monotonic()
    code = main(["spaces", "check", str(path)])
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert code == 2, (name, captured.out[-300:])
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and captured.err.endswith("\n"), captured.err[:500]
    line = lines[0]
    assert line.startswith(f"archsearch: error: {path}"), line
    assert "Traceback" not in line and len(line) < 600, line
    if where == ":":  # found while reading the YAML: the line and column are named
        assert "YAML" in line and line.startswith(f"archsearch: error: {path}:"), line
    else:
        assert where in line, (where, line)
    assert elapsed < 5, elapsed
    assert sorted(os.listdir(tmp_path)) == ["cwd", "space.yaml"] and not os.listdir(cwd)


def test_yaml_errors_name_the_line_and_column(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(corpus.dump(corpus.BASE) + "seed: 4\n", encoding="utf-8")
    line = corpus.dump(corpus.BASE).count("\n") + 1
    with pytest.raises(SearchSpaceError, match=rf"dup.yaml:{line}:1: refused YAML: duplicate "
                                               r"key 'seed' \(first given on line 3\)"):
        load_search_space(path)


def test_alias_bomb_is_refused_before_it_expands(tmp_path):
    name, content, _ = next(c for c in CASES if c[0] == "alias-bomb-in-options")
    assert len(content) < 2_000  # 9 levels of 9 aliases: 9**9 items if expanded
    with pytest.raises(SearchSpaceError, match="anchors and aliases"):
        parse_search_space(content)


@pytest.mark.parametrize("special", ["fifo", "dev-zero", "directory", "proc"])
def test_special_files_are_refused_without_reading(tmp_path, special):
    path = {"dev-zero": Path("/dev/zero"), "directory": tmp_path,
            "proc": Path("/proc/self/status"), "fifo": tmp_path / "fifo"}[special]
    if special == "fifo":
        os.mkfifo(path)  # opening it to read would block forever
    start = time.monotonic()
    with pytest.raises(SearchSpaceError) as info:
        load_search_space(path)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert {"fifo": "FIFO", "dev-zero": "character device", "directory": "directory",
            "proc": "kernel pseudo-file"}[special] in message


def test_task_seeds_default_and_range():
    text = corpus.dump(corpus.BASE)
    assert [t.seeds for t in parse_search_space(text).tasks] == [2, 1, 1]
    for bad in ("0", "101", "true", "1.0"):
        with pytest.raises(SearchSpaceError, match=r"tasks\[0\]\.seeds"):
            parse_search_space(text.replace("seeds: 2", f"seeds: {bad}"))
    assert parse_search_space(text.replace("seeds: 2", "seeds: 100")).tasks[0].seeds == 100
