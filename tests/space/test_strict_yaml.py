"""The strict YAML reader: both parsers (libyaml and pure Python) apply the same rules."""

import math

import pytest
import yaml

from archsearch.space import strict_yaml
from archsearch.space.strict_yaml import MAX_DEPTH, MAX_INT_DIGITS, YamlRefused, load

PARSERS = ["fast", "pure"]


@pytest.mark.parametrize("parser", PARSERS)
def test_plain_data_reads_like_safe_load(parser):
    text = ("a: 1\nb: [1.5, .inf, -0x10, 1_000, null, true, 'x']\nc: {d: {e: [[]]}}\n"
            "f: |\n  two\n  lines\n")
    got = load(text, parser)
    want = yaml.safe_load(text)
    assert got.keys() == want.keys() and got["c"] == want["c"] and got["f"] == "two\nlines\n"
    assert got["b"][:1] + got["b"][2:] == want["b"][:1] + want["b"][2:] and math.isinf(got["b"][1])


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize(("text", "problem", "line"), [
    ("a: &x 1\nb: *x\n", "anchors and aliases", 1),
    ("a: 1\nb: *x\n", "anchors and aliases", 2),
    ("base: {k: 1}\nc:\n  <<: {k: 2}\n", "merge keys", 3),
    ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first given on line 1)", 3),
    ("top:\n  {x: 1, y: 2, x: 3}\n", "duplicate key 'x' (first given on line 2)", 2),
    ("k: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", f"deeper than {MAX_DEPTH}",
     1),
    ("seed: " + "7" * (MAX_INT_DIGITS + 1) + "\n", f"longer than {MAX_INT_DIGITS}", 1),
])
def test_refused_yaml_names_the_line(parser, text, problem, line):
    with pytest.raises(YamlRefused) as info:
        load(text, parser)
    assert problem in info.value.problem
    assert info.value.problem_mark.line + 1 == line


@pytest.mark.parametrize("parser", PARSERS)
def test_limits_are_inclusive(parser):
    nested = "k: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load(nested, parser)["k"] is not None  # the mapping is level 1
    assert load("n: " + "9" * MAX_INT_DIGITS, parser)["n"] == int("9" * MAX_INT_DIGITS)


@pytest.mark.parametrize("parser", PARSERS)
def test_malformed_yaml_is_a_yaml_error_with_a_mark(parser):
    with pytest.raises(yaml.YAMLError) as info:
        load("a: [1, 2\nb: 3\n", parser)
    assert not isinstance(info.value, YamlRefused) and info.value.problem_mark is not None


def test_the_fast_parser_is_libyaml_when_available():
    if yaml.__with_libyaml__:
        assert strict_yaml._FastParser is not strict_yaml._PureParser
