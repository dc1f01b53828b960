"""Genome <-> JSON: round trips, format version, malformed input, fuzzing."""

import contextlib
import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsearch import Genome, GenomeError
from archsearch.genome import zoo
from archsearch.genome.serialize import FORMAT, VERSION

NAMES = zoo.names()
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def _lstm_b_dict():
    return zoo.get("lstm_b").to_dict()


# --- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_of_every_zoo_cell(name):
    g = zoo.get(name)
    for text in (g.to_json(), g.to_json(indent=None), g.to_json(indent=4)):
        back = Genome.from_json(text)
        assert back == g
        assert back.fingerprint() == g.fingerprint()
        assert back.name == name
        assert back.description == zoo.entry(name).description
        assert [n.id for n in back.nodes] == [n.id for n in g.nodes]
        assert [dict(n.params) for n in back.nodes] == [dict(n.params) for n in g.nodes]
        assert back.states == g.states and back.output == g.output
        assert back.next_state == g.next_state
    assert Genome.from_dict(g.to_dict()) == g
    assert Genome.from_json(g.to_json().encode("utf-8")) == g


def test_json_carries_format_and_version():
    data = json.loads(zoo.get("lstm").to_json())
    assert data["format"] == FORMAT == "archsearch.genome"
    assert data["version"] == VERSION == 1
    assert set(data) == {"format", "version", "name", "description", "states", "output",
                         "nodes", "next"}
    assert data["next"] == {"h": "h_new", "c": "c_new"}


def test_indented_json_has_one_node_per_line():
    g = zoo.get("lstm_b")
    lines = g.to_json().splitlines()
    for node in g.nodes:
        assert sum(f'"id": "{node.id}"' in line for line in lines) == 1
    assert '"bias": 1.0' in next(line for line in lines if '"id": "f_pre"' in line)
    assert "\n" not in g.to_json(indent=None)


def test_unnamed_genome_round_trips_without_name_fields():
    g = Genome.from_json('{"nodes": [{"id": "a", "op": "linear", "inputs": ["x", "h"]}],'
                         ' "next": {"h": "a"}}')
    assert g.name is None and g.states == ("h",) and g.output == "h"
    assert "name" not in g.to_dict() and "description" not in g.to_dict()
    assert Genome.from_json(g.to_json()) == g


def test_a_missing_version_is_read_as_version_1():
    data = _lstm_b_dict()
    del data["version"], data["format"]
    assert Genome.from_dict(data) == zoo.get("lstm_b")


@pytest.mark.parametrize("version", [VERSION + 1, 99, 0, -1, "1", 1.0, True, None])
def test_an_unreadable_version_is_rejected(version):
    data = _lstm_b_dict()
    data["version"] = version
    with pytest.raises(GenomeError, match="'version'") as info:
        Genome.from_json(json.dumps(data))
    if version == VERSION + 1:
        assert str(VERSION + 1) in str(info.value)


def test_a_foreign_format_is_rejected():
    data = _lstm_b_dict()
    data["format"] = "someone.else"
    with pytest.raises(GenomeError, match="'format'"):
        Genome.from_json(json.dumps(data))


# --- malformed JSON: GenomeError naming the field ------------------------------------


def _with(path, value=None, delete=False):
    data = _lstm_b_dict()
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(data)


NODE = '{"id": "a", "op": "tanh", "inputs": ["x"]}'


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param(_with(["nodes"], {"id": "a"}), ["'nodes'", "list"], id="nodes-not-list"),
        pytest.param(_with(["nodes"], delete=True), ["'nodes'", "missing"], id="nodes-missing"),
        pytest.param(_with(["nodes", 0, "inputs"], "x"), ["nodes[0].inputs", "list"],
                     id="inputs-not-list"),
        pytest.param(_with(["nodes", 0, "inputs"], ["x", 3]), ["nodes[0].inputs[1]"],
                     id="input-not-string"),
        pytest.param(_with(["nodes", 2, "id"], 5), ["nodes[2].id", "string"],
                     id="id-not-string"),
        pytest.param(_with(["nodes", 2, "op"], ["tanh"]), ["nodes[2].op", "string"],
                     id="op-not-string"),
        pytest.param(_with(["nodes", 2, "bias"], "1.0"), ["nodes[2].bias", "number"],
                     id="bias-a-string"),
        pytest.param(_with(["nodes", 2, "bias"], True), ["nodes[2].bias", "number"],
                     id="bias-a-bool"),
        pytest.param(_with(["nodes", 2, "bias"], None), ["nodes[2].bias"], id="bias-null"),
        pytest.param(_with(["nodes", 1], ["i"]), ["nodes[1]", "node object"],
                     id="node-not-object"),
        pytest.param(_with(["nodes", 1, "op"], delete=True), ["nodes[1].op", "missing"],
                     id="node-op-missing"),
        pytest.param(_with(["nodes", 0, "id"], delete=True), ["nodes[0].id", "missing"],
                     id="node-id-missing"),
        pytest.param(_with(["nodes", 0, "inputs"], delete=True), ["nodes[0].inputs"],
                     id="node-inputs-missing"),
        pytest.param(_with(["nodes", 0, "op"], "conv"), ["nodes[0]", "'i_pre'", "'conv'"],
                     id="unknown-op"),
        pytest.param(_with(["nodes", 0, "gain"], 2.0), ["nodes[0]", "'i_pre'", "'gain'"],
                     id="unknown-param"),
        pytest.param(_with(["nodes", 0, "inputs"], ["x", "h", "h"]),
                     ["nodes[0]", "'i_pre'", "twice"], id="linear-input-twice"),
        pytest.param(_with(["nodes", 1, "inputs"], ["i_pre", "h"]),
                     ["nodes[1]", "'i'", "got 2"], id="wrong-arity"),
        pytest.param(_with(["nodes", 1, "inputs"], ["ghost"]), ["'i'", "'ghost'"],
                     id="dangling-reference"),
        pytest.param(_with(["nodes", 0, "inputs"], ["x", "h_new"]), ["cycle"], id="cycle"),
        pytest.param(_with(["next"], ["h_new", "c_new"]), ["'next'", "object"],
                     id="next-not-object"),
        pytest.param(_with(["next"], {"h": "h_new", "c": 3}), ["'next'"],
                     id="next-value-not-string"),
        pytest.param(_with(["next"], {"h": "h_new"}), ["'c'", "never produced"],
                     id="missing-state-output"),
        pytest.param(_with(["next"], delete=True), ["'next'", "missing"], id="next-missing"),
        pytest.param(_with(["states"], "h"), ["'states'"], id="states-not-list"),
        pytest.param(_with(["states"], ["h", 1]), ["'states'"], id="state-not-string"),
        pytest.param(_with(["output"], 0), ["'output'"], id="output-not-string"),
        pytest.param(_with(["output"], "q"), ["output", "'q'"], id="output-not-a-slot"),
        pytest.param(_with(["name"], 12), ["'name'", "string"], id="name-not-string"),
        pytest.param(_with(["description"], []), ["'description'"], id="description-list"),
        pytest.param(_with(["weights"], []), ["'weights'", "unknown key"], id="unknown-key"),
        pytest.param(_with(["nodes", 0, "bias"], 1e999), ["'i_pre'", "'bias'", "finite"],
                     id="infinite-bias"),
        pytest.param('{"nodes": [{"id": "a", "op": "linear", "inputs": ["x"], "bias": NaN}],'
                     ' "next": {"h": "a"}}', ["'a'", "'bias'", "finite"], id="nan-bias"),
        pytest.param('{"nodes": [{"id": "a", "op": "linear", "inputs": ["x"], "bias": 1'
                     + "0" * 400 + '}], "next": {"h": "a"}}', ["'a'", "'bias'", "finite"],
                     id="int-bias-too-large-for-float"),
        pytest.param("", ["empty"], id="empty-string"),
        pytest.param(" \n\t ", ["empty"], id="whitespace-only"),
        pytest.param(b"", ["empty"], id="empty-bytes"),
        pytest.param(zoo.get("lstm").to_json()[:-40], ["malformed", "line"], id="truncated"),
        pytest.param('{"nodes": [' + NODE + ', ], "next": {"h": "a"}}', ["malformed"],
                     id="trailing-comma"),
        pytest.param("[" * 100_000, ["deeply"], id="deeply-nested-open"),
        pytest.param("[" * 100_000 + "]" * 100_000, ["deeply"], id="deeply-nested-closed"),
        pytest.param('{"nodes": ' + "[" * 50_000 + "]" * 50_000 + ', "next": {}}',
                     ["deeply"], id="deeply-nested-field"),
        pytest.param("1" * 5000, ["malformed"], id="integer-over-digit-limit"),
        pytest.param(b"\xff\xfe{}", ["UTF-8"], id="not-utf8"),
        pytest.param(bytearray(b'{"nodes": "\xe9"}'), ["UTF-8"], id="latin1-bytearray"),
        pytest.param("[" + NODE + "]", ["top level", "object", "list"], id="top-level-list"),
        pytest.param('"lstm"', ["top level", "object"], id="top-level-string"),
        pytest.param("null", ["top level", "object"], id="top-level-null"),
        pytest.param("3.5", ["top level", "object"], id="top-level-number"),
        pytest.param(42, ["JSON text"], id="not-text-at-all"),
        pytest.param(None, ["JSON text"], id="none"),
    ],
)
def test_malformed_json_raises_genome_error_naming_the_field(text, names):
    with pytest.raises(GenomeError) as info:
        Genome.from_json(text)
    message = str(info.value)
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"
    assert "\n" not in message
    assert len(message) < 1000


def test_from_dict_rejects_non_objects():
    for data in ([], "x", None, 3):
        with pytest.raises(GenomeError, match="top level"):
            Genome.from_dict(data)


# --- fuzzing: nothing but GenomeError ever escapes -----------------------------------

_scalars = (st.none() | st.booleans() | st.integers() | st.floats()
            | st.text(max_size=12) | st.sampled_from(["x", "h", "c", "h_new", "linear", "tanh",
                                                      "add", "mul", "sub", "bias", "a"]))
_keys = st.sampled_from(["format", "version", "name", "description", "states", "output",
                         "nodes", "next", "id", "op", "inputs", "bias", "a", "h", "c"]) \
    | st.text(max_size=8)
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(_keys, children, max_size=6),
    max_leaves=20,
)


def _exercise(text):
    """Parses `text`; if it is a genome, uses it the way the rest of archsearch does."""
    try:
        g = Genome.from_json(text)
    except GenomeError:
        return None
    assert Genome.from_json(g.to_json()) == g
    g.fingerprint()
    g.equations()
    with contextlib.suppress(GenomeError):  # e.g. a cell that needs input width == units
        g.parameter_count(7, 5)
    return g


@FUZZ
@given(json_values)
def test_fuzz_arbitrary_json_data(value):
    _exercise(json.dumps(value))


@FUZZ
@given(st.text(max_size=60) | st.binary(max_size=60))
def test_fuzz_arbitrary_text_and_bytes(text):
    _exercise(text)


def _locations(data, path=()):
    """Every (container path, key) inside a JSON value."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return
    for key, value in items:
        yield path, key
        yield from _locations(value, (*path, key))


@st.composite
def mutated_zoo_json(draw):
    data = copy.deepcopy(zoo.get(draw(st.sampled_from(NAMES))).to_dict())
    for _ in range(draw(st.integers(1, 3))):
        locations = list(_locations(data))
        if not locations:
            break
        path, key = draw(st.sampled_from(locations))
        target = data
        for step in path:
            target = target[step]
        action = draw(st.sampled_from(["delete", "replace", "replace", "swap"]))
        if action == "delete":
            del target[key]
        elif action == "replace":
            target[key] = draw(json_values)
        else:  # replace by another value from the same genome (plausible but misplaced)
            other_path, other_key = draw(st.sampled_from(locations))
            source = data
            for step in other_path:
                source = source[step]
            target[key] = copy.deepcopy(source[other_key])
    return json.dumps(data)


@FUZZ
@given(mutated_zoo_json())
def test_fuzz_mutated_zoo_json(text):
    _exercise(text)


@FUZZ
@given(st.sampled_from(NAMES), st.integers(0, 10_000))
def test_fuzz_truncated_zoo_json(name, cut):
    text = zoo.get(name).to_json().rstrip()
    cut = cut % len(text)
    if text[:cut].strip():
        with pytest.raises(GenomeError):
            Genome.from_json(text[:cut])


def test_a_byte_order_mark_is_read_as_yaml_files_are():
    from archsearch.genome import zoo as _zoo

    text = _zoo.get("gru").to_json()
    assert Genome.from_json("\ufeff" + text) == Genome.from_json(text)
    assert Genome.from_json(("\ufeff" + text).encode("utf-8")) == Genome.from_json(text)
