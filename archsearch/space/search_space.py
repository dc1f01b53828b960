"""`SearchSpace`: one validated search-space file, with its cells resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, PrivateAttr, model_serializer, model_validator

from archsearch.genome import Genome
from archsearch.genome.mutate import Mutator
from archsearch.space.cells import CellRef, PathError, Strict
from archsearch.space.limits import MAX_CELLS, MAX_SEED, MAX_TRIALS, Size
from archsearch.space.registry import strategy_union
from archsearch.space.schema import (
    STAGED_CUT,
    Confirm,
    Hyperparameters,
    MutationSpec,
    Resources,
    Scheduler,
    TaskSpec,
)

__all__ = ["SearchSpace", "STAGED_CUT"]


def _strategy_shorthand(value):
    return {"name": value} if isinstance(value, str) else value


#: One of the registered strategies (`archsearch.space.registry`), tagged by `name`.
Strategy = Annotated[strategy_union(), BeforeValidator(_strategy_shorthand)]


class SearchSpace(Strict):
    """Everything a search needs, read from one YAML file.

    Load with `archsearch.load_search_space(path)`; the file's keys are the
    attributes below. Cells are resolved to genomes at load time, so a
    loaded space never refers to an unknown cell.

    Attributes:
        name: Name of the space (default: the file's stem).
        description: What the space answers.
        seed: Seed of the whole search (mutations, hyperparameter draws, data).
        max_trials: Trials (one cell x hyperparameters x task each) at most.
        baseline: The cell scores are normalised by (the paper: GRU).
        seed_cells: Cells the search starts from (required unless `fixed`).
        mutation: Operators, weights and op sets (default: the paper's).
        hyperparameters: The hyperparameter distribution (default: the paper's).
        tasks: Tasks in stage order, with budgets and filter thresholds.
        strategy: `evolution`, `regularized_evolution`, `random` or `fixed`,
            with its parameters (a bare name takes the defaults).
        resources: CPUs and GPU fraction reserved per trial.
        scheduler: When to stop hopeless trials early: `none` (default),
            `asha`, `median` or `curve_cut`, with its parameters (a bare
            name takes the defaults).
        confirm: Optional `{top: K, seeds: N}`: after the search, the K best
            cells and the controls retrained on N fresh seeds (`Confirm`).

    Example:
        >>> import archsearch
        >>> space = archsearch.load_search_space("search_spaces/lstm_ablations.yaml")
        >>> space.strategy.name, [g.name for g in space.cells()][:3]
        ('fixed', ['lstm', 'lstm_f', 'lstm_i'])
    """

    name: str | None = None
    description: str | None = None
    seed: Size(MAX_SEED, minimum=0) = 0
    max_trials: Size(MAX_TRIALS)
    baseline: CellRef = CellRef.model_validate("gru")
    seed_cells: Annotated[list[CellRef], Field(max_length=MAX_CELLS)] = []
    mutation: MutationSpec = MutationSpec()
    hyperparameters: Hyperparameters = Hyperparameters()
    tasks: Annotated[list[TaskSpec], Field(min_length=1, max_length=100)]
    strategy: Strategy
    resources: Resources = Resources()
    scheduler: Annotated[Scheduler, BeforeValidator(_strategy_shorthand)] = Scheduler()
    confirm: Confirm | None = None
    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self):
        if self.strategy.searches and not self.seed_cells:
            raise PathError(("seed_cells",), f"strategy {self.strategy.name!r} mutates seed "
                                             f"cells; expected at least one")
        for key, refs in (("seed_cells", self.seed_cells),
                          ("strategy.cells", getattr(self.strategy, "cells", []))):
            seen: set[str] = set()
            for k, ref in enumerate(refs):
                if ref.label in seen:
                    raise PathError((*key.split("."), k), f"cell name {ref.label!r} is used "
                                                          f"twice; give one a `name`")
                seen.add(ref.label)
        names = [t.name for t in self.tasks]
        for k, name in enumerate(names):
            if name in names[:k]:
                raise PathError(("tasks", k, "name"), f"task {name!r} is listed twice")
        if self.strategy.searches and not any(t.role == "search" for t in self.tasks):
            raise PathError(("tasks",), "expected at least one task with role 'search' to "
                                        "score cells by")
        cut = self.strategy.staged_cut  # evolution: the paper's staged 90%-of-GRU cut
        if cut is not None:
            tasks = [t.model_copy(update={"min_ratio": cut})
                     if t.role == "search" and t.min_ratio is None else t for t in self.tasks]
            object.__setattr__(self, "tasks", tasks)
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        # The default scheduler (and resources.xla) is left out, so a run directory
        # made before the key existed records the same space and still resumes.
        data = handler(self)
        if isinstance(data, dict) and self.scheduler.name == "none":
            data.pop("scheduler", None)
        if isinstance(data, dict) and isinstance(data.get("resources"), dict) \
                and data["resources"].get("xla") == "auto":  # nor the default xla
            data["resources"].pop("xla")
        return data

    # -- resolved views -------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The file the space was loaded from."""
        return self._path

    def seed_genomes(self) -> list[Genome]:
        """Genomes of `seed_cells`, named by their labels."""
        return [ref.genome for ref in self.seed_cells]

    def cells(self) -> list[Genome]:
        """The cells a `fixed` strategy trains, else the seed cells."""
        refs = self.seed_cells if self.strategy.searches else self.strategy.cells
        return [ref.genome for ref in refs]

    def baseline_genome(self) -> Genome:
        """The baseline cell's genome."""
        return self.baseline.genome

    def mutator(self) -> Mutator:
        """The `Mutator` configured by `mutation`."""
        return self.mutation.mutator()

    def _population_note(self) -> str:
        """How `resources.population` will act, for the summary ("" when one by one)."""
        population = self.resources.population
        if population == "none":
            return ""
        if self.scheduler.name != "none":
            return (f"; population {population} ignored (scheduler {self.scheduler.name}: "
                    "one by one)")
        if population == "auto":
            return "; populations: auto (size from units and each task's table)"
        return f"; populations of up to {population}"

    def summary(self) -> str:
        """A few lines: strategy, cells, tasks, max trials, resources, deprecated keys used."""
        s = self.strategy
        params = ", ".join(f"{k}={v}" for k, v in s.model_dump().items()
                           if k not in ("name", "cells"))
        lines = [f"space:       {self.name}" + (f" ({self.path})" if self.path else "")]
        if self.description:
            lines.append(f"description: {self.description}")
        lines.append(f"strategy:    {s.name} ({params})")
        label = "seed cells: " if s.searches else "cells:      "
        lines.append(f"{label} {', '.join(g.name for g in self.cells())}")
        lines.append(f"baseline:    {self.baseline.label}")
        for task in self.tasks:
            b = task.budget
            budget = " and ".join(part for part in (
                f"{b.steps} steps" if b.steps else "", f"{b.seconds:g} s" if b.seconds else "")
                if part)
            cut = (f", min score {task.min_score:g}" if task.min_score is not None else "") + \
                  (f", min ratio {task.min_ratio:g}" if task.min_ratio is not None else "")
            seeds = f", {task.seeds} seeds per sample" if task.seeds > 1 else ""
            lines.append(f"task:        {task.name} ({task.role}; {budget}{cut}{seeds})")
        lines.append(f"max trials:  {self.max_trials}")
        if self.confirm is not None:
            lines.append(f"confirm:     the {self.confirm.top} best cells, the baseline and the "
                         f"seed cells on {self.confirm.seeds} fresh seeds each (test split)")
        sched = self.scheduler
        params = ", ".join(f"{k}={v:g}" for k, v in sched.params().items())
        lines.append(f"scheduler:   {sched.name}" + (f" ({params})" if params else ""))
        lines.append(f"seed:        {self.seed}")
        xla = "" if self.resources.xla == "auto" else f", XLA {self.resources.xla}"
        lines.append(f"resources:   {self.resources.cpus:g} CPU, {self.resources.gpu:g} GPU "
                     f"per trial{xla}{self._population_note()}")
        for old, new in self.hyperparameters.deprecated_keys().items():
            lines.append(f"deprecated:  hyperparameters.{old} is read as "
                         f"hyperparameters.{new}; rename it in the file")
        return "\n".join(lines)
