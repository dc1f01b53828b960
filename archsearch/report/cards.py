"""Cards for the top cells: equations, nearest zoo cell and diff, Keras snippet."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from functools import lru_cache

import pandas as pd

from archsearch.report.summaries import CellCard, CellSummary

__all__ = ["make_cards", "nearest_zoo", "line_distance", "keras_snippet"]

DEFAULT_UNITS = 128


def line_distance(a: Sequence[str], b: Sequence[str]) -> float:
    """Edit distance between two lists of lines, with partial credit for similar lines.

    Inserting or deleting a line costs 1; replacing line x by line y costs
    1 - similarity(x, y) (difflib's ratio), so `f = sigmoid(W·x)` -> `f = tanh(W·x)`
    costs less than replacing it by an unrelated line.

    Example:
        >>> line_distance(["a", "b", "c"], ["a", "c"])
        1.0
    """
    prev = [float(j) for j in range(len(b) + 1)]
    for i, x in enumerate(a, 1):
        cur = [float(i)]
        for j, y in enumerate(b, 1):
            change = 0.0 if x == y else 1.0 - difflib.SequenceMatcher(None, x, y).ratio()
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + change))
        prev = cur
    return prev[-1]


@lru_cache(maxsize=1)
def _zoo_equations() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    from archsearch.genome import zoo

    return tuple((name, zoo.get(name).fingerprint(), tuple(zoo.get(name).equations().splitlines()))
                 for name in zoo.names())


def nearest_zoo(genome) -> tuple[str, float, str]:
    """The zoo cell with the closest equations, the distance and the unified diff.

    A cell with a zoo cell's fingerprint is that cell (distance 0, no diff).
    Otherwise the zoo cell with the smallest `line_distance` between the two
    cells' `equations()` wins (ties: the first in zoo order).

    Args:
        genome: A `Genome`.

    Returns:
        `(zoo name, distance, diff)`; the diff goes from the zoo cell to `genome`.
    """
    fp = genome.fingerprint()
    lines = genome.equations().splitlines()
    zoo = _zoo_equations()
    for name, zoo_fp, _ in zoo:
        if zoo_fp == fp:
            return name, 0.0, ""
    name, dist, ref = min(((n, line_distance(eq, lines), eq) for n, _, eq in zoo),
                          key=lambda item: item[1])
    diff = "\n".join(difflib.unified_diff(list(ref), lines, fromfile=f"zoo/{name}",
                                          tofile="this cell", lineterm=""))
    return name, dist, diff


def keras_snippet(genome_file: str, units: int, square_input: bool = False) -> str:
    """Copy-paste Keras code that loads an exported genome as a layer.

    Args:
        genome_file: Path of the genome JSON, relative to the report.
        units: Units to use (the best trial's).
        square_input: Add a note that the input width must equal `units`.

    Returns:
        Python source text.
    """
    lines = [
        "import archsearch, keras",
        "",
        f'g = archsearch.Genome.from_json(open("{genome_file}").read())',
        f"layer = archsearch.layers.GenomeRNN(g, units={units}, return_sequences=True)",
    ]
    if square_input:
        lines.append(f"# this cell adds x elementwise: its input width must be {units}")
    width = units if square_input else 16
    lines.append(f"y = layer(keras.random.normal((2, 7, {width})))  # (batch, time, {units})")
    return "\n".join(lines)


def make_cards(cells: Sequence[CellSummary], genomes: Mapping[str, Mapping],
               df: pd.DataFrame, problems: list[str]) -> tuple[tuple[CellCard, ...],
                                                               dict[str, str]]:
    """Cards and exported genome JSON for `cells` (the top of the leaderboard).

    Args:
        cells: The cells to describe.
        genomes: Genome data by fingerprint, as recorded in the trials.
        df: The trial frame (unused columns are fine).
        problems: Warnings are appended here (e.g. an invalid genome).

    Returns:
        `(cards, {fingerprint: genome JSON text})`.
    """
    from archsearch.genome import Genome, GenomeError

    out, exported = [], {}
    for cell in cells:
        data = genomes.get(cell.fingerprint)
        genome = None
        if data is not None:
            try:
                genome = Genome.from_dict(data)
            except GenomeError as err:
                problems.append(f"cell {cell.label}: recorded genome is invalid ({err}); "
                                f"card without equations")
        if genome is None:
            out.append(CellCard(cell, None, None, None, "", None, None))
            continue
        name, dist, diff = nearest_zoo(genome)
        path = f"genomes/{cell.fingerprint}.json"
        exported[cell.fingerprint] = genome.to_json()
        units = _units(cell)
        out.append(CellCard(cell=cell, equations=genome.equations(), nearest_zoo=name,
                            distance=dist, diff=diff, genome_file=path,
                            snippet=keras_snippet(path, units, genome.needs_square_input)))
    return tuple(out), exported


def _units(cell: CellSummary) -> int:
    """Units of the cell's best trial on its best-ratio task (else the first with units)."""
    stats = sorted(cell.tasks.values(), key=lambda s: -(s.ratio or 0.0))
    for s in stats:
        if s.best_units:
            return s.best_units
    return DEFAULT_UNITS
