"""A YAML reader for untrusted search-space files: plain data, bounded work.

`yaml.safe_load` builds only plain Python objects, but it still expands
aliases (a 1 kB "billion laughs" file becomes gigabytes once serialised),
keeps the last of two equal keys silently, recurses once per nesting level
and converts integer literals of any length. `load` refuses all of these up
front, naming `file:line:column`:

- anchors and aliases (`&a`, `*a`, merge keys `<<`): a search space never
  needs them;
- a key given twice in one mapping;
- nesting deeper than `MAX_DEPTH`;
- integer literals longer than `MAX_INT_DIGITS` characters.

Events come from libyaml (C) when PyYAML has it, and nodes are composed here
so every node passes the checks above.
"""

from __future__ import annotations

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "YamlRefused", "load"]

#: Deepest nesting of lists and mappings a file may use.
MAX_DEPTH = 32
#: Longest integer literal (sign and underscores included) accepted.
MAX_INT_DIGITS = 100

class _PureParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python parser (when PyYAML was built without libyaml)."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


try:  # libyaml's parser is ~5x faster than PyYAML's pure-Python one
    from yaml.cyaml import CParser as _FastParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _FastParser = _PureParser


class YamlRefused(yaml.MarkedYAMLError):
    r"""Well-formed YAML that a search space may not use (alias, duplicate key, ...).

    Example:
        >>> try:
        ...     load("a: 1\na: 2\n")
        ... except YamlRefused as err:
        ...     print(err.problem, err.problem_mark.line + 1)
        duplicate key 'a' (first given on line 1) 2
    """


class _StrictComposer(Composer):
    """PyYAML's composer, refusing anchors and aliases and bounding the depth."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise YamlRefused(problem="YAML anchors and aliases (&name, *name) are not "
                                      "allowed in a search space; write the value out",
                              problem_mark=event.start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlRefused(problem=f"nesting deeper than {MAX_DEPTH} levels",
                                  problem_mark=event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _StrictConstructor(SafeConstructor):
    """SafeConstructor without merge keys, duplicate keys or unbounded integers."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlRefused(problem="YAML merge keys (<<) are not allowed in a search "
                                          "space", problem_mark=key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable: SafeConstructor reports it
                continue
            if first is not None:
                raise YamlRefused(problem=f"duplicate key {key!r} (first given on line "
                                          f"{first})", problem_mark=key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        if len(node.value) > MAX_INT_DIGITS:
            raise YamlRefused(problem=f"integer literal longer than {MAX_INT_DIGITS} "
                                      f"characters ({len(node.value)})",
                              problem_mark=node.start_mark)
        return super().construct_yaml_int(node)


_StrictConstructor.add_constructor("tag:yaml.org,2002:int", _StrictConstructor.construct_yaml_int)


def _loader(parser):
    class Loader(_StrictComposer, parser, _StrictConstructor, Resolver):
        def __init__(self, stream):
            parser.__init__(self, stream)
            _StrictComposer.__init__(self)
            _StrictConstructor.__init__(self)
            Resolver.__init__(self)

    return Loader


_LOADERS = {"fast": _loader(_FastParser), "pure": _loader(_PureParser)}


def load(text: str, parser: str = "fast"):
    """Parses one YAML document of plain data under the rules in the module docstring.

    Args:
        text: The YAML text.
        parser: `"fast"` (libyaml, when PyYAML has it) or `"pure"` (Python);
            both apply the same rules.

    Returns:
        The document as dicts, lists and scalars (`None` for an empty text).

    Raises:
        yaml.YAMLError: malformed YAML; `YamlRefused` (a subclass) for
            YAML that is well-formed but not allowed here. Both carry a
            `problem_mark` with the line and column.

    Example:
        >>> load("tasks: [{name: xml, budget: {steps: 10}}]")
        {'tasks': [{'name': 'xml', 'budget': {'steps': 10}}]}
    """
    loader = _LOADERS[parser](text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
