"""`CellRef`: a cell named in a search space, resolved to a `Genome` at load time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from archsearch.genome import OPS, Genome, GenomeError, Node, zoo
from archsearch.space.files import FileRefused, read_text
from archsearch.space.limits import MAX_VALUE

__all__ = ["CellRef", "PathError", "Strict"]


class Strict(BaseModel):
    """Base of every search-space model.

    Unknown keys are errors; integers are strict (`true` is not 1, `"5"` is
    not 5); floats must be finite; strings are at most 10,000 characters.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False,
                              str_max_length=10_000)


class PathError(ValueError):
    """A validation error deeper than the model that raises it.

    The loader appends `path` to the location pydantic reports, so a check
    made on a whole model can still name the exact key, e.g.
    `strategy.cells[2].params.f_pre.bias`.
    """

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = tuple(path)


def _read_genome(ref: str, base_dir: Path) -> Genome:
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        text = read_text(path, what="genome JSON file")
    except FileRefused as err:
        if not os.path.lexists(path):
            raise PathError(("cell",), f"no such genome JSON file {str(path)!r} (expected a "
                                       f"zoo cell name or a genome JSON file). Received: "
                                       f"{ref!r}") from None
        raise PathError(("cell",), f"genome file {err}") from None
    try:
        return Genome.from_json(text)
    except GenomeError as err:
        raise PathError(("cell",), f"genome file {str(path)!r}: {err}") from None


class CellRef(Strict):
    """A cell: a zoo name or a genome JSON file, optionally with node params changed.

    Written in YAML as a plain string (`lstm`, `cells/my_cell.json`) or as a
    mapping `{cell: lstm, name: lstm_fb2, params: {f_pre: {bias: 2.0}}}`.
    A relative file path is read relative to the YAML file.

    Attributes:
        cell: Zoo cell name, or a genome JSON file path.
        name: Label in reports (default: the zoo name, the genome's name or
            the file's stem, plus the overrides).
        params: Node id -> parameter overrides, e.g. the bias initialiser of a
            gate's `linear` node or `a` of a `linear_a` node.
    """

    cell: str
    name: str | None = None
    params: dict[str, dict[str, Annotated[float, Field(ge=-MAX_VALUE, le=MAX_VALUE)]]] = {}
    _genome: Genome | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value):
        return {"cell": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo):
        base_dir = Path((info.context or {}).get("base_dir", "."))
        if self.cell in zoo.names():
            genome, label = zoo.get(self.cell), self.cell
        elif self.cell.lower().endswith(".json") or "/" in self.cell or "\\" in self.cell:
            genome = _read_genome(self.cell, base_dir)
            label = genome.name or Path(self.cell).stem
        else:
            raise PathError(("cell",), f"unknown cell; expected a zoo cell name "
                                       f"({', '.join(zoo.names())}) or a genome JSON file "
                                       f"(*.json). Received: {self.cell!r}")
        if self.params:
            genome = self._override(genome)
            label += "[" + ",".join(f"{n}.{k}={v:g}" for n, p in self.params.items()
                                    for k, v in p.items()) + "]"
        label = self.name or label
        self._genome = genome.with_name(label, genome.description)
        return self

    def _override(self, genome: Genome) -> Genome:
        nodes = {n.id: n for n in genome.nodes}
        for node_id in self.params:
            if node_id not in nodes:
                raise PathError(("params", node_id), f"the cell has no node {node_id!r}; "
                                                     f"expected one of {list(nodes)}")
        new = []
        for node in genome.nodes:
            override = self.params.get(node.id, {})
            try:
                new.append(Node(node.id, node.op, node.inputs, {**node.params, **override}))
            except GenomeError as err:
                key = next((k for k in override if k not in OPS[node.op].params), None)
                raise PathError(("params", node.id, *((key,) if key else ())), str(err)) \
                    from None
        return Genome(new, dict(zip(genome.states, genome.next_state, strict=True)),
                      genome.states, genome.output)

    @property
    def genome(self) -> Genome:
        """The resolved genome, named after `label`."""
        return self._genome

    @property
    def label(self) -> str:
        """The cell's name in reports."""
        return self._genome.name
