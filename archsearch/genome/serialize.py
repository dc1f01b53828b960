"""Genome <-> JSON, with a format version, size limits and errors that name the field.

Parsing returns the keyword arguments of `Genome(...)` as plain data (nodes
already validated), so this module never imports `archsearch.genome.spec`:
`Genome.from_json` calls `fields_from_json` and builds itself from the result.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from archsearch.genome.errors import GenomeError
from archsearch.genome.limits import MAX_JSON_CHARS, MAX_JSON_DEPTH, MAX_NODES
from archsearch.genome.node import Node, short_repr

if TYPE_CHECKING:
    from archsearch.genome.spec import Genome

__all__ = ["FORMAT", "VERSION", "genome_to_dict", "genome_to_json", "fields_from_dict",
           "fields_from_json"]

FORMAT = "archsearch.genome"
VERSION = 1
_TOP_KEYS = {"format", "version", "name", "description", "states", "output", "nodes", "next"}
_NODE_KEYS = {"id", "op", "inputs"}


def genome_to_dict(genome: Genome) -> dict:
    """Returns `genome` as plain JSON-ready data."""
    data = {"format": FORMAT, "version": VERSION}
    if genome.name:
        data["name"] = genome.name
    if genome.description:
        data["description"] = genome.description
    data["states"] = list(genome.states)
    data["output"] = genome.output
    data["nodes"] = [{"id": n.id, "op": n.op, "inputs": list(n.inputs), **n.params}
                     for n in genome.nodes]
    data["next"] = dict(zip(genome.states, genome.next_state, strict=True))
    return data


def genome_to_json(genome: Genome, indent: int | None = 2) -> str:
    """Returns `genome` as JSON text (nodes one per line when indented)."""
    if indent is None:
        return json.dumps(genome_to_dict(genome), separators=(",", ":"))
    data = genome_to_dict(genome)
    nodes = data.pop("nodes")
    next_state = data.pop("next")
    pad = " " * indent
    lines = [f"{pad}{json.dumps(k)}: {json.dumps(v)}," for k, v in data.items()]
    lines.append(f'{pad}"nodes": [')
    lines.extend(f"{pad}{pad}{json.dumps(n)}{',' if k < len(nodes) - 1 else ''}"
                 for k, n in enumerate(nodes))
    lines.append(f"{pad}],")
    lines.append(f'{pad}"next": {json.dumps(next_state)}')
    return "{\n" + "\n".join(lines) + "\n}\n"


def _type_error(path: str, expected: str, value) -> GenomeError:
    return GenomeError(f"genome field {path!r}: expected {expected}, got "
                       f"{type(value).__name__}. Received: {short_repr(value)}")


def fields_from_dict(data) -> dict:
    """Checks JSON data; returns the keyword arguments of `Genome(...)`.

    Raises:
        GenomeError: naming the bad field.

    Example:
        >>> fields = fields_from_dict({"nodes": [{"id": "t", "op": "tanh", "inputs": ["x"]}],
        ...                            "next": {"h": "t"}})
        >>> fields["states"], fields["next_state"], fields["nodes"][0].op
        (['h'], {'h': 't'}, 'tanh')
    """
    if not isinstance(data, dict):
        raise _type_error("<top level>", "a JSON object", data)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise GenomeError(f"genome field {unknown[0]!r}: unknown key (expected keys: "
                          f"{sorted(_TOP_KEYS)})")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise GenomeError(f"genome field 'format': expected {FORMAT!r}, got {fmt!r}")
    version = data.get("version", VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version > VERSION or \
            version < 1:
        raise GenomeError(f"genome field 'version': this archsearch reads versions 1.."
                          f"{VERSION}, got {version!r}")
    for key in ("name", "description"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise _type_error(key, "a string", data[key])
    states = data.get("states", ["h"])
    if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
        raise _type_error("states", "a list of slot names", states)
    output = data.get("output")
    if output is not None and not isinstance(output, str):
        raise _type_error("output", "a state slot name", output)
    if "nodes" not in data:
        raise GenomeError("genome field 'nodes': missing (expected a list of nodes)")
    raw_nodes = data["nodes"]
    if not isinstance(raw_nodes, list):
        raise _type_error("nodes", "a list of node objects", raw_nodes)
    if len(raw_nodes) > MAX_NODES:
        raise GenomeError(f"genome field 'nodes': expected at most {MAX_NODES} nodes (limit "
                          f"MAX_NODES). Received: {len(raw_nodes)} nodes")
    nodes = [_node_from_dict(raw, f"nodes[{k}]") for k, raw in enumerate(raw_nodes)]
    if "next" not in data:
        raise GenomeError("genome field 'next': missing (expected an object mapping each "
                          "state slot to the node that produces it)")
    next_state = data["next"]
    if not isinstance(next_state, dict) or not all(
            isinstance(v, str) for v in next_state.values()):
        raise _type_error("next", "an object of slot -> node name", next_state)
    return {"nodes": nodes, "next_state": next_state, "states": states, "output": output,
            "name": data.get("name"), "description": data.get("description")}


def _node_from_dict(raw, path: str) -> Node:
    if not isinstance(raw, dict):
        raise _type_error(path, "a node object", raw)
    for key in ("id", "op", "inputs"):
        if key not in raw:
            raise GenomeError(f"genome field '{path}.{key}': missing")
    if not isinstance(raw["id"], str):
        raise _type_error(f"{path}.id", "a string", raw["id"])
    if not isinstance(raw["op"], str):
        raise _type_error(f"{path}.op", "a string", raw["op"])
    inputs = raw["inputs"]
    if not isinstance(inputs, list):
        raise _type_error(f"{path}.inputs", "a list of names", inputs)
    for k, ref in enumerate(inputs):
        if not isinstance(ref, str):
            raise _type_error(f"{path}.inputs[{k}]", "a name (string)", ref)
    params = {k: v for k, v in raw.items() if k not in _NODE_KEYS}
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(f"{path}.{key}", "a number", value)
    try:
        return Node(raw["id"], raw["op"], tuple(inputs), params)
    except GenomeError as err:
        raise GenomeError(f"{path}: {err}") from None


def fields_from_json(text) -> dict:
    """Parses JSON text into `Genome(...)` keyword arguments; only `GenomeError` escapes."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise GenomeError(f"genome JSON is not UTF-8 text: {err}") from None
    if not isinstance(text, str):
        raise _type_error("<input>", "JSON text", text)
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark, as YAML files may have
    if len(text) > MAX_JSON_CHARS:
        raise GenomeError(f"genome JSON must be at most {MAX_JSON_CHARS} characters (limit "
                          f"MAX_JSON_CHARS). Received: {len(text)} characters")
    if not text.strip():
        raise GenomeError("genome JSON is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise GenomeError(f"genome JSON is malformed at line {err.lineno} column "
                          f"{err.colno}: {err.msg}") from None
    except RecursionError:
        raise GenomeError(f"genome JSON is nested too deeply: expected at most "
                          f"{MAX_JSON_DEPTH} levels (limit MAX_JSON_DEPTH)") from None
    except ValueError as err:  # e.g. an integer literal over Python's 4300-digit limit
        raise GenomeError(f"genome JSON is malformed: {err}") from None
    depth = _depth(data)
    if depth > MAX_JSON_DEPTH:
        raise GenomeError(f"genome JSON is nested too deeply: expected at most "
                          f"{MAX_JSON_DEPTH} levels (limit MAX_JSON_DEPTH). Received: "
                          f"{depth} levels")
    return fields_from_dict(data)


def _depth(data) -> int:
    """Nesting depth of arrays and objects in parsed JSON, without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level)
            stack.extend((item, level + 1) for item in value)
    return deepest
