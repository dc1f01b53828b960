"""Results of a search as data: `open_run(path) -> Run`, its trials and its best cells.

`Run.trials()` is a pandas DataFrame with one row per trial record (like
Optuna's `trials_dataframe`); `Run.best(k)` the top cells of the leaderboard
as `BestCell`s, ranked exactly as `archsearch report` ranks them (like
KerasTuner's `get_best_models`); `BestCell.layer(...)` builds one as a Keras
layer. `export_cell` saves a cell's genome JSON. Reading goes through the
report's own reader and aggregation (`archsearch.report.load_runs`,
`summarize`), so a run reads the same here as in its report; TensorFlow is
imported only by `BestCell.layer`.

Example:
    >>> import archsearch
    >>> run = archsearch.open_run("runs/quickstart")  # doctest: +SKIP
    >>> run.trials().groupby("cell").valid_accuracy.max()  # doctest: +SKIP
    >>> best = run.best(k=3)  # doctest: +SKIP
    >>> layer = best[0].layer(units=128, return_sequences=True)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archsearch.genome import Genome, GenomeError
from archsearch.report.store import RunDirError, open_store

if TYPE_CHECKING:
    import pandas as pd

    from archsearch.report.summaries import CellSummary, Report, RunSet

__all__ = ["BestCell", "ResultsError", "Run", "RunDirError", "export_cell", "open_run"]

_PREFIX = re.compile(r"[0-9a-f]{6,32}")


class ResultsError(ValueError):
    """A cell key or an output path cannot be used (the message names it)."""


@dataclass(frozen=True)
class BestCell:
    """One cell of a run's leaderboard, ready to reuse.

    Args:
        rank: 1-based position on the leaderboard of `archsearch report`.
        name: Its label in the report: the cell's name, else `mut-` and a
            short fingerprint.
        fingerprint: `Genome.fingerprint()` of the cell.
        genome: The cell (None when the run recorded no valid genome; see `problem`).
        score: Min over the scored tasks of its best / the baseline's best
            (None without a baseline result).
        score_low: Lower end of the score's interval (the verdict's test inverted), if any.
        score_high: Upper end.
        confirmed_score: Its confirmed ratio to the baseline on fresh seeds
            (test split, its worst confirmed task), if it was confirmed.
        confirmed_low: Lower end of that ratio's interval.
        confirmed_high: Upper end.
        confirmed_verdict: `better`, `worse` or `tied` on fresh seeds.
        hyperparameters: The hyperparameters of its best trial on the task
            where it did best against the baseline (the report card's trial).
        task: That task.
        units: That trial's units.
        problem: Why `genome` is None.

    Example:
        >>> from archsearch import zoo
        >>> cell = BestCell(rank=1, name="gru", fingerprint=zoo.get("gru").fingerprint(),
        ...                 genome=zoo.get("gru"), score=1.0, units=8)
        >>> import numpy as np
        >>> layer = cell.layer(return_sequences=True)  # imports Keras
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 5, 8)
    """

    rank: int
    name: str
    fingerprint: str
    genome: Genome | None
    score: float | None = None
    score_low: float | None = None
    score_high: float | None = None
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    task: str | None = None
    units: int | None = None
    problem: str | None = None
    confirmed_score: float | None = None
    confirmed_low: float | None = None
    confirmed_high: float | None = None
    confirmed_verdict: str | None = None

    def layer(self, units: int | None = None, **kwargs):
        """A Keras layer running this cell: `GenomeRNN(genome, units=units, **kwargs)`.

        Imports `archsearch.layers` (and so Keras and TensorFlow) on first use.

        Args:
            units: Width of the layer (default: the best trial's `units`).
            **kwargs: Other `GenomeRNN` arguments (`return_sequences`, `name`, ...).

        Raises:
            ResultsError: the run recorded no valid genome for this cell, or
                `units` is not given and the best trial recorded none.
        """
        if self.genome is None:
            raise ResultsError(f"cell {self.name} ({self.fingerprint}): {self.problem}")
        units = self.units if units is None else units
        if units is None:
            raise ResultsError(f"cell {self.name}: its best trial recorded no units; expected "
                               f"layer(units=...). Received: units=None")
        from archsearch.layers import GenomeRNN

        return GenomeRNN(self.genome, units=units, **kwargs)


class Run:
    """A run directory's results, read on first use and kept (open it again to see newer trials).

    Made by `open_run`. Problems in the records (a corrupt file, a foreign
    format version) are issued once as `ReportWarning`s and kept in
    `warnings`, as `archsearch report` does; the rest is read.

    Example:
        >>> import tempfile
        >>> from archsearch import zoo
        >>> from archsearch.rundir import CellRef, RunRecord, RunStore, TrialRecord, write_trial
        >>> store = RunStore(tempfile.mkdtemp())
        >>> store.write_json("run.json", RunRecord(strategy="fixed", baseline="gru",
        ...                                        tasks=["xml"]).model_dump(mode="json"))
        >>> for k, (name, score) in enumerate([("gru", 0.80), ("lstm", 0.85), ("gru", 0.82)]):
        ...     g = zoo.get(name)
        ...     _ = write_trial(store, TrialRecord(
        ...         trial_id=str(k), strategy="fixed", status="completed", task="xml",
        ...         cell=CellRef(name=name, fingerprint=g.fingerprint(), genome=g.to_dict()),
        ...         hparams={"learning_rate": 0.1 * (k + 1)}, seed=k, units=16, score=score,
        ...         score_metric="accuracy", score_mode="max",
        ...         metrics={"valid": {"accuracy": score}, "test": {"accuracy": score - 0.01}}))
        >>> run = open_run(store.uri)
        >>> run.trials()[["cell", "hp_learning_rate", "valid_accuracy"]].round(2).values.tolist()
        [['gru', 0.1, 0.8], ['lstm', 0.2, 0.85], ['gru', 0.3, 0.82]]
        >>> [(c.rank, c.name, round(c.score, 3)) for c in run.best(k=2)]
        [(1, 'lstm', 1.037), (2, 'gru', 1.0)]
    """

    def __init__(self, source: str | os.PathLike):
        self.source = os.fspath(source)
        if not self.source:
            raise RunDirError("expected a run directory path or URI. Received: ''")
        self._store = open_store(self.source)
        self._runs: RunSet | None = None
        self._report: Report | None = None
        self._confirmed: dict = {}  # fingerprint -> its worst confirmed row

    def __repr__(self):
        return f"Run({self.source!r})"

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per problem found while reading (file and what is wrong)."""
        return self._read().warnings

    def trials(self) -> pd.DataFrame:
        """One row per valid trial record, in finishing order.

        Columns: `trial_id`, `cell` (the recorded name, else the zoo name,
        else `mut-` and 8 fingerprint digits), `fingerprint`, `task`, `stage`
        (`prefilter`, `search` or `report`), `phase` (`search`, or `confirm` for
        the confirmation trials on fresh seeds, listed after the search's), `status`,
        `seed`, `sample`, one `hp_<name>` per hyperparameter (NaN where a
        trial has none; lists and dicts as text), `score`, `score_metric`,
        `score_mode`, one `<split>_<metric>` per recorded metric
        (`valid_accuracy`, `test_loss`, ...), `params`, `units`, `steps`,
        `seconds` (the trial's total time), `started_at`, `finished_at`
        (naive UTC), `failure`, `parent`, `origin`, `strategy`, `node`,
        `simulated` and `sequence` (1-based finishing order).
        """
        from archsearch.report.aggregate import trials_frame

        runs = self._read()
        records = [*runs.trials, *runs.confirmations]
        df = trials_frame(records)
        hp = [c for c in df.columns if c.startswith("hp.")]
        df = df.rename(columns={c: "hp_" + c[3:] for c in hp})
        zoo_names = _zoo_names()
        named = df.cell_name.where(df.cell_name.notna(), df.fingerprint.map(zoo_names))
        df["cell"] = named.where(named.notna(), "mut-" + df.fingerprint.str[:8])
        df["phase"] = [t.phase for t in records]
        metrics = _metric_columns(records, taken=set(df.columns))
        df = df.assign(**metrics, simulated=[t.simulated for t in records])
        head = ["trial_id", "cell", "fingerprint", "task", "stage", "phase", "status", "seed",
                "sample", *("hp_" + c[3:] for c in hp), "score", "score_metric", "score_mode",
                *metrics, "params", "units", "steps", "seconds", "started_at", "finished_at",
                "failure", "parent", "origin", "strategy", "node", "simulated", "sequence"]
        return df[head].reset_index(drop=True)

    def best(self, k: int = 1) -> list[BestCell]:
        """The top `k` cells, ranked as `archsearch report` ranks them (fewer if the run has fewer).

        Aggregates every trial as the report does (seconds at 100k trials,
        once per `Run`).

        Raises:
            ResultsError: `k` is not a positive integer.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ResultsError(f"expected k to be a positive integer. Received: k={k!r}")
        return [self._best_cell(c) for c in self._leaderboard()[:k]]

    def cell(self, key: int | str) -> BestCell:
        """The cell at a rank (1-based int, or up to 5 digits) or with a fingerprint prefix.

        Args:
            key: A rank, or 6 to 32 lowercase hex digits that begin exactly
                one cell's fingerprint.

        Raises:
            ResultsError: the rank is out of range, or the prefix matches no
                cell or several (the message lists them).
        """
        if isinstance(key, str):
            key = int(key) if re.fullmatch(r"[0-9]{1,5}", key) else key.lower()
        rank = isinstance(key, int) and not isinstance(key, bool)
        if not rank and not (isinstance(key, str) and _PREFIX.fullmatch(key)):
            raise ResultsError(f"expected a rank (1-based) or a fingerprint prefix of 6 to 32 "
                               f"lowercase hex digits. Received: {key!r}")
        cells = self._leaderboard()
        if rank:
            if not 1 <= key <= len(cells):
                raise ResultsError(f"{self.source}: expected a rank from 1 to {len(cells)}. "
                                   f"Received: rank={key}")
            return self._best_cell(cells[key - 1])
        hits = [c for c in cells if c.fingerprint.startswith(key)]
        if len(hits) != 1:
            found = ", ".join(f"{c.fingerprint} ({c.label}, rank {c.rank})" for c in hits[:5])
            raise ResultsError(f"{self.source}: fingerprint prefix {key!r} matches "
                               + (f"{len(hits)} cells: {found}; give more digits" if hits
                                  else "no cell of this run"))
        return self._best_cell(hits[0])

    def _read(self) -> RunSet:
        if self._runs is None:
            from archsearch.report.load import load_runs

            try:
                self._runs = load_runs([self._store.source])
            except OSError as err:  # e.g. a permission or a connection lost half-way
                raise RunDirError(f"{self.source}: cannot read: {err}") from None
        return self._runs

    def _leaderboard(self) -> list[CellSummary]:
        """The cells in the order `best` returns them.

        Cells confirmed on fresh seeds come first, by their confirmed ratio
        (best first); then the rest in the report's leaderboard order.
        """
        if self._report is None:
            from archsearch.report.aggregate import summarize
            from archsearch.report.confirmed import cell_confirmation

            runs = self._read()  # its problems are warned, as the report's reader warns them
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the report's notes are in `Report.warnings`
                self._report = summarize(runs, top=0)
            self._confirmed = cell_confirmation(self._report.confirmed)
        held = self._confirmed
        confirmed = sorted((c for c in self._report.cells if c.fingerprint in held),
                           key=lambda c: -held[c.fingerprint].ratio)
        return [*confirmed, *(c for c in self._report.cells if c.fingerprint not in held)]

    def _best_cell(self, cell: CellSummary) -> BestCell:
        genome, problem = None, None
        data = self._read().genomes.get(cell.fingerprint)
        if data is None:
            problem = f"{self.source}: no genome recorded for this cell"
        else:
            try:
                genome = Genome.from_dict(data)
            except GenomeError as err:
                problem = f"{self.source}: the recorded genome is invalid ({err})"
        # The report card's trial: the best one on the cell's best-ratio task.
        stats = sorted(cell.tasks.values(), key=lambda s: -(s.ratio or 0.0))
        best = next((s for s in stats if s.best_trial is not None), None)
        held = self._confirmed.get(cell.fingerprint)
        return BestCell(
            confirmed_score=held.ratio if held else None, confirmed_low=held.low if held else None,
            confirmed_high=held.high if held else None,
            confirmed_verdict=held.verdict if held else None,
            rank=cell.rank, name=cell.label, fingerprint=cell.fingerprint, genome=genome,
            score=cell.score, score_low=cell.score_low, score_high=cell.score_high,
            hyperparameters=dict(best.best_hparams) if best else {},
            task=best.task if best else None, units=best.best_units if best else None,
            problem=problem)


def open_run(path_or_uri: str | os.PathLike) -> Run:
    """Opens a run directory (a local path, `file://` or an fsspec URI) for reading.

    Raises:
        RunDirError: naming the source, when it does not exist, cannot be read
            or is not a run directory.
    """
    return Run(path_or_uri)


def export_cell(run_dir: str | os.PathLike, rank_or_fingerprint: int | str,
                out_path: str | os.PathLike) -> BestCell:
    """Writes a cell's genome JSON (`Genome.to_json()`) to `out_path`, atomically.

    An existing genome JSON file at `out_path` is replaced (as a report
    replaces a report); anything else there is refused. The file is written
    to a temporary file beside it and renamed, so it is whole or absent.

    Args:
        run_dir: The run directory.
        rank_or_fingerprint: As for `Run.cell`.
        out_path: A local file path; missing parent folders are created.

    Returns:
        The exported cell.

    Raises:
        RunDirError: `run_dir` is not a run directory.
        ResultsError: no such cell, the cell has no valid genome, or
            `out_path` holds something other than a genome.
    """
    out = Path(out_path).expanduser()
    _check_output(out)
    cell = open_run(run_dir).cell(rank_or_fingerprint)
    if cell.genome is None:
        raise ResultsError(f"cell {cell.name} ({cell.fingerprint}): {cell.problem}")
    _check_output(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(cell.genome.to_json() + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return cell


def _check_output(out: Path) -> None:
    if out.is_dir():
        raise ResultsError(f"{out}: is a folder; expected a file path for the genome JSON")
    if out.exists():
        try:
            Genome.from_json(out.read_text(encoding="utf-8"))
        except (GenomeError, OSError, UnicodeDecodeError):
            raise ResultsError(f"{out}: exists and is not a genome JSON file; refusing to "
                               f"replace it (choose another path)") from None


def _metric_columns(records, taken: set[str]) -> dict[str, list]:
    """`<split>_<metric>` -> one value per record (None where missing), in order of appearance.

    A name among `taken` (another column's) gets a `metrics_` prefix.
    """
    columns: dict[str, list] = {}
    for k, record in enumerate(records):
        for split, values in record.metrics.items():
            items = values.items() if isinstance(values, Mapping) else ((None, values),)
            for metric, value in items:
                name = f"{split}_{metric}" if metric is not None else f"metrics_{split}"
                name = f"metrics_{name}" if name in taken else name
                column = columns.get(name)
                if column is None:
                    column = columns[name] = [None] * len(records)
                column[k] = value
    return columns


@lru_cache(maxsize=1)
def _zoo_names() -> dict[str, str]:
    from archsearch.genome import zoo

    names: dict[str, str] = {}
    for name in zoo.names():
        names.setdefault(zoo.get(name).fingerprint(), name)
    return names
