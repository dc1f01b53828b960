"""`Node`: one validated operation of a cell, pure data."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from archsearch.genome.errors import GenomeError
from archsearch.genome.limits import MAX_INPUTS, MAX_NAME_CHARS
from archsearch.genome.ops import OPS

__all__ = ["Node", "check_ident", "short_repr"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_ident(value, what: str) -> str:
    """Returns `value` if it is a name a genome may use; `GenomeError` otherwise."""
    if isinstance(value, str) and len(value) > MAX_NAME_CHARS:
        raise GenomeError(f"{what} must be at most {MAX_NAME_CHARS} characters (limit "
                          f"MAX_NAME_CHARS). Received: {short_repr(value)} of {len(value)}")
    if not isinstance(value, str) or not _IDENT.match(value):
        raise GenomeError(
            f"{what} must be an identifier (letters, digits, '_'; not starting with a "
            f"digit). Received: {short_repr(value)}"
        )
    return value


def short_repr(value) -> str:
    """`repr(value)` cut to 60 characters (safe for huge ints)."""
    try:
        shown = repr(value)
    except ValueError:  # an int too long for str(), e.g. 10**5000
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= 60 else shown[:57] + "..."


@dataclass(frozen=True)
class Node:
    """One operation of a cell.

    Args:
        id: Unique name of the node's value inside the cell.
        op: An op from `archsearch.genome.ops.OPS` (`linear`, `mul`, `tanh`, ...).
        inputs: Names of the values it reads: `x`, a state slot, or another node.
        params: Numeric op parameters, e.g. `{"bias": 1.0}` for a linear node's
            bias initialiser or `{"a": 0.9}` for `linear_a`.

    Example:
        >>> Node("f", "linear", ("x", "h"), {"bias": 1.0}).param("bias")
        1.0
    """

    id: str
    op: str
    inputs: tuple[str, ...]
    params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        check_ident(self.id, "node id")
        where = f"node {self.id!r}"
        spec = OPS.get(self.op) if isinstance(self.op, str) else None
        if spec is None:
            raise GenomeError(
                f"{where}: unknown op; expected one of {sorted(OPS)}. Received: "
                f"op={short_repr(self.op)}"
            )
        if isinstance(self.inputs, str) or not isinstance(self.inputs, Iterable):
            raise GenomeError(f"{where}: inputs must be a list of names. Received: "
                              f"{short_repr(self.inputs)}")
        inputs = tuple(self.inputs)
        if len(inputs) > MAX_INPUTS:
            raise GenomeError(f"{where}: a node reads at most {MAX_INPUTS} inputs (limit "
                              f"MAX_INPUTS). Received: {len(inputs)} inputs")
        for name in inputs:
            check_ident(name, f"{where}: input name")
        n = len(inputs)
        if n < spec.min_arity or (spec.max_arity is not None and n > spec.max_arity):
            want = (str(spec.min_arity) if spec.max_arity == spec.min_arity
                    else f"at least {spec.min_arity}" if spec.max_arity is None
                    else f"{spec.min_arity}..{spec.max_arity}")
            raise GenomeError(f"{where}: op {self.op!r} takes {want} input(s), got {n}")
        if spec.unique_inputs and len(set(inputs)) != n:
            raise GenomeError(f"{where}: a {self.op} node lists an input twice: {list(inputs)}")
        if not isinstance(self.params, Mapping):
            raise GenomeError(f"{where}: params must be a mapping. Received: "
                              f"{short_repr(self.params)}")
        params = {}
        for key, value in self.params.items():
            if key not in spec.params:
                raise GenomeError(
                    f"{where}: op {self.op!r} has no parameter {short_repr(key)}"
                    f" (accepted: {list(spec.params) or 'none'})"
                )
            try:  # float() of a huge int raises OverflowError
                number = None if isinstance(value, bool) else float(value)
            except (TypeError, ValueError, OverflowError):
                number = None
            if not isinstance(value, int | float) or number is None or \
                    not math.isfinite(number):
                raise GenomeError(f"{where}: parameter {key!r} must be a finite number. "
                                  f"Received: {short_repr(value)}")
            params[key] = number
        for key in spec.required:
            if key not in params:
                raise GenomeError(f"{where}: op {self.op!r} needs parameter {key!r}")
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "params", dict(sorted(params.items())))

    def param(self, name: str, default: float = 0.0) -> float:
        """Returns parameter `name`, or `default` where the node does not set it."""
        return self.params.get(name, default)

    def __hash__(self):
        return hash((self.id, self.op, self.inputs, tuple(self.params.items())))
