"""A generated corpus of malformed and pathological genome JSON documents.

`malformed_genomes()` yields `(name, text)` pairs that `Genome.from_json` must
reject with one `GenomeError` (the CLI must exit 2 on them); `text` is a `str`,
or `bytes` for the documents that are not valid UTF-8 (write those with
`Path.write_bytes`). `malformed_cases()` adds a fragment the error message must
contain. `pathological_genomes()` yields valid documents at or near every limit
(huge symmetric cells, deep chains, the widest nodes) that must parse, and
fingerprint and render, quickly.

Usage from another test folder (pytest runs in importlib mode)::

    import importlib.util, pathlib
    path = pathlib.Path(__file__).parent / "genome" / "corpus.py"
    spec = importlib.util.spec_from_file_location("genome_corpus", path)
    corpus = importlib.util.module_from_spec(spec); spec.loader.exec_module(corpus)
    for name, text in corpus.malformed_genomes(): ...
"""

from __future__ import annotations

import copy
import json
import re

from archsearch.genome import limits, zoo

__all__ = ["malformed_cases", "malformed_genomes", "pathological_genomes"]

_TANH = {"id": "t", "op": "tanh", "inputs": ["z"]}
_LIN = {"id": "z", "op": "linear", "inputs": ["x", "h"]}


def _doc(nodes="default", next_state=None, **top):
    """A small valid genome document, with parts replaced."""
    data = {"format": "archsearch.genome", "version": 1, "states": ["h"], "output": "h",
            "nodes": [dict(_LIN), dict(_TANH)] if nodes == "default" else nodes,
            "next": {"h": "t"} if next_state is None else next_state}
    if nodes is _DROP:
        del data["nodes"]
    for key, value in top.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data)


_DROP = object()


def _branches(k, width_op="tanh"):
    nodes = [{"id": f"l{i}", "op": "linear", "inputs": ["x", "h"]} for i in range(k)]
    nodes += [{"id": f"t{i}", "op": width_op, "inputs": [f"l{i}"]} for i in range(k)]
    nodes += [{"id": "s", "op": "linear", "inputs": [f"t{i}" for i in range(k)]},
              {"id": "out", "op": "tanh", "inputs": ["s"]}]
    return nodes


def _chain(n):
    nodes = [{"id": "n0", "op": "linear", "inputs": ["x", "h"]}]
    nodes += [{"id": f"n{i}", "op": "tanh" if i % 2 else "sigmoid", "inputs": [f"n{i - 1}"]}
              for i in range(1, n)]
    return nodes


def _node(**fields):
    return _doc(nodes=[dict(_LIN), {**_TANH, **fields}])


def malformed_cases():
    """Yields `(name, text, fragment)`: a malformed document and a word its error names.

    Names are unique and safe as file names (letters, digits, `-`, `_`, `.`).
    """
    for name, text, fragment in _malformed():
        yield re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-"), text, fragment


def _malformed():
    lstm = json.loads(zoo.get("lstm").to_json())
    big = "A" * 10_000_000
    # -- not a JSON object ------------------------------------------------------------
    for name, text in [("list", "[]"), ("string", '"lstm"'), ("number", "3.5"),
                       ("null", "null"), ("true", "true"), ("nested-list", "[[{}]]"),
                       ("list-of-genome", "[" + _doc() + "]"), ("negative", "-1")]:
        yield f"top-level-{name}", text, "top level"
    # -- not JSON ---------------------------------------------------------------------
    for name, text in [("empty", ""), ("whitespace", " \n\t "), ("truncated", _doc()[:40]),
                       ("trailing-comma", '{"nodes": [],}'), ("single-quotes", "{'nodes': []}"),
                       ("comment", '// genome\n' + _doc()), ("bare-word", "lstm"),
                       ("two-documents", _doc() + _doc()), ("bom-twice", "\ufeff\ufeff" + _doc()),
                       ("unclosed-string", '{"nodes": "abc'), ("nul", '{"nodes"\x00: []}')]:
        yield f"syntax-{name}", text, "JSON"
    for name, data in [("latin1", '{"name": "caf\xe9"}'.encode("latin-1")),
                       ("lone-continuation", b'{"name": "\x80"}'),
                       ("truncated-multibyte", b'{"name": "\xe2\x82"}'),
                       ("utf16", _doc().encode("utf-16")), ("ff-fe", b"\xff\xfe{}"),
                       ("surrogate", b'{"name": "\xed\xa0\x80"}')]:
        yield f"invalid-utf8-{name}", data, "UTF-8"
    # -- top-level fields -------------------------------------------------------------
    yield "unknown-top-key", _doc(extra=1), "extra"
    yield "missing-nodes", _doc(nodes=_DROP), "nodes"
    yield "missing-next", _doc(next=_DROP), "next"
    for value in ["archsearch.cell", 1, None]:
        yield f"format-{value}", _doc(format=value), "format"
    for value in [0, 2, -1, "1", 1.0, True, 10**30, [1]]:
        yield f"version-{value!r:.12}-{type(value).__name__}", _doc(version=value), "version"
    for key, value in [("states", "h"), ("states", [1]), ("states", {"h": 1}),
                       ("states", None), ("output", 0), ("output", ["h"]), ("name", 5),
                       ("name", ["n"]), ("description", {"d": 1}), ("nodes", {"z": _LIN}),
                       ("nodes", "z,t"), ("nodes", None), ("next", ["t"]), ("next", "t"),
                       ("next", {"h": 1}), ("next", {"h": None})]:
        yield f"type-{key}-{type(value).__name__}-{json.dumps(value)}", _doc(**{key: value}), key
    # -- node fields ------------------------------------------------------------------
    for key in ("id", "op", "inputs"):
        node = dict(_TANH)
        del node[key]
        yield f"node-missing-{key}", _doc(nodes=[dict(_LIN), node]), key
    for name, fields, fragment in [
            ("id-int", {"id": 3}, "id"), ("id-null", {"id": None}, "id"),
            ("op-int", {"op": 1}, "op"), ("op-list", {"op": ["tanh"]}, "op"),
            ("inputs-string", {"inputs": "z"}, "inputs"),
            ("inputs-int", {"inputs": [1]}, "inputs"),
            ("inputs-nested", {"inputs": [["z"]]}, "inputs"),
            ("inputs-null", {"inputs": None}, "inputs"),
            ("unknown-op", {"op": "softmax"}, "op"), ("op-case", {"op": "Tanh"}, "op"),
            ("empty-op", {"op": ""}, "op"), ("unknown-param", {"gain": 2.0}, "gain"),
            ("param-string", {"bias": "1"}, "bias"), ("param-bool", {"bias": True}, "bias"),
            ("param-list", {"bias": [1]}, "bias"), ("param-null", {"bias": None}, "bias"),
            ("id-space", {"id": "t 1"}, "identifier"), ("id-digit", {"id": "1t"}, "identifier"),
            ("id-empty", {"id": ""}, "identifier"), ("id-unicode", {"id": "tä"}, "identifier"),
            ("id-dash", {"id": "t-1"}, "identifier"),
            ("tanh-two-inputs", {"inputs": ["z", "h"]}, "input"),
            ("tanh-no-inputs", {"inputs": []}, "input")]:
        yield f"node-{name}", _node(**fields), fragment
    node_list = [dict(_LIN), {"id": "t", "op": "node", "inputs": ["z"]}]
    yield "node-not-object-string", _doc(nodes=[dict(_LIN), "t"]), "nodes[1]"
    yield "node-not-object-list", _doc(nodes=[dict(_LIN), ["t", "tanh"]]), "nodes[1]"
    yield "node-not-object-null", _doc(nodes=[None]), "nodes[0]"
    yield "node-op-node", _doc(nodes=node_list), "op"
    # -- numbers ----------------------------------------------------------------------
    for name, literal in [("nan", "NaN"), ("inf", "Infinity"), ("minus-inf", "-Infinity"),
                          ("overflow-float", "1e400"), ("huge-int", "1" + "0" * 400),
                          ("over-int-digit-limit", "9" * 5000)]:
        text = _doc(nodes=[{**_LIN, "bias": 0}, dict(_TANH)])
        text = text.replace('"bias": 0', f'"bias": {literal}')
        yield f"number-{name}", text, "bias" if "limit" not in name else "JSON"
    yield "linear-a-missing-a", _doc(nodes=[dict(_LIN), {"id": "t", "op": "linear_a",
                                                          "inputs": ["z"]}]), "'a'"
    yield "linear-a-nan", _doc(nodes=[dict(_LIN), {"id": "t", "op": "linear_a", "inputs": ["z"],
                                                    "a": 0}]).replace('"a": 0', '"a": NaN'), "'a'"
    # -- graph structure --------------------------------------------------------------
    yield "duplicate-id", _doc(nodes=[dict(_LIN), dict(_TANH), dict(_TANH)]), "twice"
    yield "id-is-x", _doc(nodes=[dict(_LIN), {**_TANH, "id": "x"}], next_state={"h": "x"}), "x"
    yield "id-is-state", _doc(nodes=[dict(_LIN), {**_TANH, "id": "h"}]), "clashes"
    yield "dangling-input", _node(inputs=["missing"]), "missing"
    yield "dangling-next", _doc(next_state={"h": "nowhere"}), "nowhere"
    yield "self-loop", _node(inputs=["t"]), "cycle"
    yield "two-cycle", _doc(nodes=[{"id": "z", "op": "tanh", "inputs": ["t"]},
                                   dict(_TANH)]), "cycle"
    ring = [{"id": f"r{i}", "op": "tanh", "inputs": [f"r{(i + 1) % 50}"]} for i in range(50)]
    yield "fifty-cycle", _doc(nodes=ring, next_state={"h": "r0"}), "cycle"
    yield "missing-slot", _doc(states=["h", "c"]), "'c'"
    yield "extra-slot", _doc(next_state={"h": "t", "c": "t"}), "'c'"
    yield "output-not-slot", _doc(output="t"), "output"
    yield "state-named-x", _doc(states=["x"], next_state={"x": "t"}), "x"
    yield "duplicate-states", _doc(states=["h", "h"]), "unique"
    yield "no-states", _doc(states=[], next_state={}), "state"
    yield "state-bad-identifier", _doc(states=["h h"], next_state={"h h": "t"}), "identifier"
    yield "linear-duplicate-input", _node(op="linear", inputs=["z", "z"]), "twice"
    yield "add-one-input", _node(op="add", inputs=["z"]), "input"
    yield "linear-no-inputs", _node(op="linear", inputs=[]), "input"
    yield "sub-three-inputs", _node(op="sub", inputs=["z", "x", "h"]), "input"
    # -- limits -----------------------------------------------------------------------
    yield "too-many-nodes", _doc(nodes=_chain(limits.MAX_NODES + 1),
                                 next_state={"h": f"n{limits.MAX_NODES}"}), "MAX_NODES"
    yield "ten-thousand-nodes", _doc(nodes=_chain(10_000), next_state={"h": "n9999"}), "MAX_NODES"
    yield "too-many-inputs", _doc(nodes=_branches(limits.MAX_INPUTS + 1),
                                  next_state={"h": "out"}), "MAX_INPUTS"
    yield "symmetric-monster-200-branches", _doc(nodes=_branches(200),
                                                 next_state={"h": "out"}), "MAX_"
    many = [f"s{i}" for i in range(limits.MAX_STATES + 1)]
    yield "too-many-states", _doc(states=many, next_state=dict.fromkeys(many, "t")), "MAX_STATES"
    yield "long-id", _node(id="t" * (limits.MAX_NAME_CHARS + 1)), "MAX_NAME_CHARS"
    yield "long-input-name", _node(inputs=["z" * 100_000]), "MAX_NAME_CHARS"
    yield "long-name", _doc(name="n" * (limits.MAX_TEXT_CHARS + 1)), "MAX_TEXT_CHARS"
    yield "10mb-name", _doc(name=big), "MAX_JSON_CHARS"
    yield "10mb-op", _node(op=big), "MAX_JSON_CHARS"
    yield "10mb-whitespace", " " * 10_000_000 + _doc(), "MAX_JSON_CHARS"
    yield "10mb-document", json.dumps({"nodes": [big]}), "MAX_JSON_CHARS"
    yield "900kb-op", _node(op="q" * 900_000), "op"
    yield "900kb-id", _node(id="q" * 900_000), "MAX_NAME_CHARS"
    yield "deep-array-40", _doc(nodes=json.loads("[" * 40 + "]" * 40)), "MAX_JSON_DEPTH"
    yield "deep-array-100000", "[" * 100_000 + "]" * 100_000, "deep"
    yield "deep-object-100000", '{"a":' * 100_000 + "1" + "}" * 100_000, "deep"
    yield "deep-in-param", _node(bias=json.loads("[" * 20 + "]" * 20)), "bias"
    yield "deep-in-description", _doc(description=json.loads("[" * 50 + "]" * 50)), "MAX_JSON_DEPTH"
    yield "many-keys", _doc(**{f"k{i}": i for i in range(50_000)}), "unknown key"
    lstm_bad = copy.deepcopy(lstm)
    lstm_bad["nodes"][3]["inputs"] = ["c_new"]
    yield "lstm-with-cycle", json.dumps(lstm_bad), "cycle"
    lstm_bad = copy.deepcopy(lstm)
    lstm_bad["next"] = {"h": "h_new"}
    yield "lstm-missing-c", json.dumps(lstm_bad), "'c'"


def malformed_genomes():
    """Yields `(name, text)` for every malformed document (`str`, or `bytes` if not UTF-8)."""
    for name, text, *_ in malformed_cases():
        yield name, text


def pathological_genomes():
    """Yields `(name, text)`: valid documents at the limits, each must parse quickly."""
    yield "symmetric-64-branches", _doc(nodes=_branches(64), next_state={"h": "out"})
    yield "symmetric-64-relu-branches", _doc(nodes=_branches(64, "relu"),
                                             next_state={"h": "out"})
    yield "chain-at-max-nodes", _doc(nodes=_chain(limits.MAX_NODES),
                                     next_state={"h": f"n{limits.MAX_NODES - 1}"})
    dead = _chain(limits.MAX_NODES - 2) + [dict(_LIN), dict(_TANH)]
    yield "mostly-dead-nodes", _doc(nodes=dead)
    grid = [{"id": f"a{i}", "op": "linear", "inputs": ["x", "h"]} for i in range(16)]
    grid += [{"id": f"ta{i}", "op": "tanh", "inputs": [f"a{i}"]} for i in range(16)]
    grid += [{"id": f"b{i}", "op": "linear", "inputs": [f"ta{j}" for j in range(16)]}
             for i in range(16)]
    grid += [{"id": f"tb{i}", "op": "tanh", "inputs": [f"b{i}"]} for i in range(16)]
    grid += [{"id": "s", "op": "linear", "inputs": [f"tb{i}" for i in range(16)]}]
    yield "complete-bipartite-16", _doc(nodes=grid, next_state={"h": "s"})
    squares = [dict(_LIN), {"id": "m0", "op": "mul", "inputs": ["z", "z"]}]
    squares += [{"id": f"m{i}", "op": "mul", "inputs": [f"m{i - 1}", f"m{i - 1}"]}
                for i in range(1, 200)]
    yield "shared-square-chain-200", _doc(nodes=squares, next_state={"h": "m199"})
    adds = [dict(_LIN)] + [{"id": f"d{i}", "op": "add",
                            "inputs": [f"d{i - 1}" if i else "z", f"d{i - 2}" if i > 1 else "h"]}
                           for i in range(200)]
    yield "fibonacci-adds-200", _doc(nodes=adds, next_state={"h": "d199"})
    states = ["h", *(f"s{i}" for i in range(1, limits.MAX_STATES))]
    yield "max-states", _doc(states=states, output="s1", next_state=dict.fromkeys(states, "t"))
    yield "max-inputs", _doc(nodes=[{"id": "z", "op": "linear",
                                     "inputs": ["x", "h"] + [f"t{i}" for i in range(62)]}]
                             + [{"id": f"t{i}", "op": "tanh", "inputs": ["h"]} for i in range(62)]
                             + [dict(_TANH)])
    yield "long-names", _doc(nodes=[{**_LIN, "id": "z" * limits.MAX_NAME_CHARS},
                                    {**_TANH, "inputs": ["z" * limits.MAX_NAME_CHARS]}],
                             name="n" * limits.MAX_TEXT_CHARS, description="d" * 999)
    yield "unicode-description", _doc(description="Zelle \u00fc\u00df \u2014 \U0001f600")
    yield "identity-chain", _doc(nodes=[dict(_LIN)] + [
        {"id": f"i{k}", "op": "identity", "inputs": [f"i{k - 1}" if k else "z"]}
        for k in range(200)], next_state={"h": "i199"})
    yield "needs-square-input", _doc(nodes=[{"id": "t", "op": "tanh", "inputs": ["x"]},
                                            {"id": "m", "op": "mul", "inputs": ["t", "h"]},
                                            {"id": "z", "op": "linear", "inputs": ["m"]}],
                                     next_state={"h": "z"})
    yield "compact-lstm", zoo.get("lstm").to_json(indent=None)
    yield "nested-at-depth-limit", _doc(nodes=_branches(3), next_state={"h": "out"})
