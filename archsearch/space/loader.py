"""Read a search-space YAML file into a `SearchSpace`, or fail with one clear line."""

from __future__ import annotations

import types
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from archsearch.space import strict_yaml
from archsearch.space.cells import PathError
from archsearch.space.files import FileRefused, read_text
from archsearch.space.schema import STRATEGIES
from archsearch.space.search_space import SearchSpace

__all__ = ["SearchSpaceError", "load_search_space", "parse_search_space"]


class SearchSpaceError(ValueError):
    """A search-space file is malformed.

    The message is one line: the file, the key path (e.g.
    `tasks[1].budget.steps`), what was expected and what was received; for a
    YAML syntax error, `file:line:column`.
    """


def load_search_space(path) -> SearchSpace:
    """Reads and validates the search-space YAML file `path`.

    Args:
        path: A `.yaml` file; genome JSON files it names are read relative to it.

    Returns:
        The `SearchSpace`, its cells resolved to genomes.

    Raises:
        SearchSpaceError: one line naming the file, the key path, what was
            expected and what was received.

    Example:
        >>> space = load_search_space("search_spaces/quickstart.yaml")
        >>> space.strategy.name
        'fixed'
    """
    path = Path(path)
    try:
        text = read_text(path, what="search-space YAML file")
    except FileRefused as err:
        raise SearchSpaceError(str(err)) from None
    return parse_search_space(text, source=str(path), base_dir=path.parent)


def parse_search_space(text: str, source: str = "<string>", base_dir=".") -> SearchSpace:
    """Validates YAML `text`; `source` names it in errors, `base_dir` anchors cell files.

    The YAML may not use anchors, aliases, merge keys or repeated keys, nest
    deeper than `strict_yaml.MAX_DEPTH` or hold huge integer literals.
    """
    try:
        data = strict_yaml.load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        kind = "refused YAML" if isinstance(err, strict_yaml.YamlRefused) else "malformed YAML"
        raise SearchSpaceError(f"{where}: {kind}: {problem}") from None
    if not isinstance(data, dict):
        raise SearchSpaceError(f"{source}: expected a mapping of keys (strategy, tasks, "
                               f"seed_cells, ...) at the top level. Received: "
                               f"{type(data).__name__} {_short(data)}")
    try:
        space = SearchSpace.model_validate(data, context={"base_dir": Path(base_dir)})
    except ValidationError as err:
        raise SearchSpaceError(f"{source}: {_describe(err.errors()[0])}") from None
    if space.name is None:
        space = space.model_copy(update={"name": Path(source).stem})
    space._path = Path(source) if source != "<string>" else None
    return space


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _key_path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _clean_loc(loc: tuple) -> list:
    """Drops pydantic's union-tag entries (`strategy.fixed.cells` -> `strategy.cells`)."""
    parts = [p for p in loc if p not in ("[key]",)]
    if len(parts) > 1 and parts[0] == "strategy" and parts[1] in STRATEGIES:
        del parts[1]
    return parts


def _describe(error: dict) -> str:
    loc, kind, ctx = _clean_loc(error["loc"]), error["type"], error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, PathError):
        return f"{_key_path([*loc, *cause.path])}: {cause}"
    if kind == "extra_forbidden":
        raw = [p for p in error["loc"] if p != "[key]"]
        allowed = _allowed_keys(raw[:-1])
        return (f"{_key_path(loc)}: unknown key {str(loc[-1])!r}; expected one of: "
                f"{', '.join(allowed)}")
    if kind == "missing":
        return f"{_key_path(loc)}: missing required key"
    if kind == "union_tag_invalid":
        return (f"{_key_path([*loc, 'name'])}: expected one of {ctx.get('expected_tags')}. "
                f"Received: {ctx.get('tag')!r}")
    if kind == "union_tag_not_found":
        return f"{_key_path([*loc, 'name'])}: missing; expected one of {', '.join(STRATEGIES)}"
    msg = error["msg"]
    if isinstance(cause, ValueError):
        return f"{_key_path(loc)}: {cause}"
    if msg.startswith("Input should be "):
        msg = msg[len("Input should be "):]
        if msg.startswith(("greater", "less")):
            msg = "a value " + msg
        msg = "expected " + msg
    elif msg:
        msg = msg[0].lower() + msg[1:]
    if "[key]" in error["loc"]:
        msg = f"unknown key; {msg}"
    return f"{_key_path(loc)}: {msg}. Received: {_short(error.get('input'))}"


def _allowed_keys(loc: list) -> list[str]:
    """Field names of the model at `loc` (walking SearchSpace's annotations)."""
    types_ = [SearchSpace]
    for part in loc:
        nxt = []
        for t in types_:
            nxt.extend(_step(t, part))
        types_ = nxt
    keys: list[str] = []
    for t in types_:
        for cls in _models(t):
            keys.extend(k for k in cls.model_fields if k not in keys)
    return keys


def _models(t) -> list[type[BaseModel]]:
    origin = typing.get_origin(t)
    if origin is typing.Annotated:
        return _models(typing.get_args(t)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(t) for m in _models(a)]
    return [t] if isinstance(t, type) and issubclass(t, BaseModel) else []


def _step(t, part) -> list:
    origin = typing.get_origin(t)
    if origin is typing.Annotated:
        return _step(typing.get_args(t)[0], part)
    if origin in (typing.Union, types.UnionType):
        return [s for a in typing.get_args(t) for s in _step(a, part)]
    if origin is list and isinstance(part, int):
        return [typing.get_args(t)[0]]
    if origin is dict:
        return [typing.get_args(t)[1]]
    out = []
    for cls in _models(t):
        if part in cls.model_fields:
            out.append(cls.model_fields[part].annotation)
        elif STRATEGIES.get(part) is cls:  # pydantic's union tag: strategy.<name>
            out.append(cls)
    return out
