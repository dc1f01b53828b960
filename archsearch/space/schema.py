"""The search-space schema: pydantic models of every key a space file may hold.

Top-level keys: `name`, `description`, `seed`, `max_trials`, `baseline`,
`seed_cells`, `mutation`, `hyperparameters`, `tasks`, `strategy`,
`resources`. Unknown keys are errors at every level; integers are strict,
floats finite, and every size has an upper bound (`archsearch.space.limits`,
named in the error). Each task's `options` are checked against the task's own
options (`archsearch.space.task_options`). Defaults are the paper's
(Jozefowicz et al. 2015): its activation and elementwise sets, its
hyperparameter distribution, its 95% memorization pre-filter and its staged
90%-of-GRU cut.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

from archsearch.genome.mutate import DEFAULT_MAX_ATTEMPTS, Mutator
from archsearch.genome.operators import DEFAULT_ACTIVATIONS, DEFAULT_ELEMENTWISE, Activation
from archsearch.space.cells import CellRef, PathError, Strict
from archsearch.space.hyperparameters import Hyperparameters
from archsearch.space.limits import (
    MAX_BATCH_SIZE,
    MAX_CELLS,
    MAX_CHOICES,
    MAX_CPUS,
    MAX_POPULATION,
    MAX_SAMPLES,
    MAX_SECONDS,
    MAX_SEEDS,
    MAX_SEQ_LEN,
    MAX_STEPS,
    MAX_VALUE,
    Size,
)
from archsearch.space.registry import register_strategy, strategies
from archsearch.space.task_options import check_options

__all__ = ["Budget", "Confirm", "Evolution", "Fixed", "Hyperparameters", "MutationSpec",
           "RandomSearch", "RegularizedEvolution", "Resources", "SCHEDULERS", "STRATEGIES",
           "Scheduler", "TaskSpec", "task_names"]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, le=MAX_VALUE)]
Samples = Size(MAX_SAMPLES)
OperatorName = Literal["change_activation", "change_elementwise", "insert_activation",
                       "remove_node", "replace_with_ancestor", "replace_with_combination"]


def _check_activation(value: str) -> str:
    return str(Activation.parse(value))


def task_names() -> tuple[str, ...]:
    """Registered task names, read from the task registry (`archsearch.tasks`, no TF)."""
    from archsearch.tasks import registry

    return registry.names()


class MutationSpec(Strict):
    """How `archsearch.mutate` moves through the space (see `Mutator`).

    Attributes:
        operators: Operator name -> weight; operators not listed are off.
        activations: The activation set, e.g. `tanh`, `relu`, `linear(0.9)`.
        elementwise: The elementwise set (`mul`, `add`, `sub`).
        max_attempts: Mutation attempts before a parent is given up on.
        allow_square_input: Whether children may newly use the raw input
            elementwise (then the embedding width must equal units).
        max_nodes: Reject children with more nodes than this.
    """

    operators: dict[OperatorName, NonNegativeFloat] = {
        name: 1.0 for name in OperatorName.__args__}
    activations: Annotated[list[Annotated[str, AfterValidator(_check_activation)]],
                           Field(min_length=1, max_length=MAX_CHOICES)] = \
        list(DEFAULT_ACTIVATIONS)
    elementwise: Annotated[list[Literal["mul", "add", "sub"]], Field(min_length=1)] = \
        list(DEFAULT_ELEMENTWISE)
    max_attempts: Samples = DEFAULT_MAX_ATTEMPTS
    allow_square_input: bool = True
    max_nodes: Size(MAX_POPULATION) | None = None

    @field_validator("operators")
    @classmethod
    def _some_weight(cls, value):
        if not any(w > 0 for w in value.values()):
            raise ValueError("expected at least one operator with a weight > 0")
        return value

    @field_validator("activations", "elementwise")
    @classmethod
    def _unique(cls, value):
        if len(set(value)) != len(value):
            raise ValueError(f"expected no repeated entries. Received: {value}")
        return value

    def mutator(self) -> Mutator:
        """The configured `Mutator`."""
        return Mutator(activations=self.activations, elementwise=self.elementwise,
                       operators=self.operators, max_attempts=self.max_attempts,
                       allow_square_input=self.allow_square_input, max_nodes=self.max_nodes)


class Budget(Strict):
    """What one trial may spend on a task: steps and/or seconds (at least one).

    Attributes:
        steps: Training steps (batches).
        seconds: Wall-clock training time.
        batch_size: Examples per batch (default: the task's).
        data_fraction: Fraction (0, 1] of every split to use.
    """

    steps: Size(MAX_STEPS) | None = None
    seconds: Annotated[float, Field(gt=0.0, le=MAX_SECONDS)] | None = None
    batch_size: Size(MAX_BATCH_SIZE) | None = None
    data_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0

    @model_validator(mode="after")
    def _bounded(self):
        if self.steps is None and self.seconds is None:
            raise PathError(("steps",), "expected a positive number of steps and/or seconds; "
                                        "a budget needs at least one")
        return self


class TaskSpec(Strict):
    """A task of the search, its role, budget and filter threshold.

    Attributes:
        name: A registered task (`archsearch tasks list`).
        role: `prefilter` (a cheap pass/fail gate, e.g. memorization),
            `search` (scored; staged in order) or `report` (trained for the
            report, not used to select cells).
        budget: Trial budget.
        min_score: Absolute cut on the task's score metric (prefilter default 0.95).
        min_ratio: Cut on best score / baseline's best; under the `evolution`
            strategy a `search` task defaults to the paper's 0.9.
        hyperparameter_samples: Settings per cell on this task (default: the
            strategy's).
        seq_len: Time steps per example (default: the task's).
        seeds: Seeds each hyperparameter sample is trained with (1 to
            `MAX_SEEDS`); a cell's score on the task then averages over them.
        options: Task-specific options (see the task's `options` and
            `archsearch.space.task_options`).
    """

    name: str
    role: Literal["prefilter", "search", "report"] = "search"
    budget: Budget
    min_score: Fraction | None = None
    min_ratio: NonNegativeFloat | None = None
    hyperparameter_samples: Samples | None = None
    seq_len: Size(MAX_SEQ_LEN) | None = None
    seeds: Size(MAX_SEEDS) = 1
    options: dict[str, Any] = {}

    @field_validator("name")
    @classmethod
    def _known_task(cls, value):
        known = task_names()
        if value not in known:
            raise ValueError(f"expected a task name, one of: {', '.join(known)}. "
                             f"Received: {value!r}")
        return value

    @model_validator(mode="after")
    def _defaults(self):
        try:
            check_options(self.name, self.options)
        except PathError as err:
            raise PathError(("options", *err.path), str(err)) from None
        if self.role == "prefilter" and self.min_score is None:
            object.__setattr__(self, "min_score", 0.95)
        return self


_ORACLES = "archsearch.search.oracles"
#: Default `min_ratio` of `search` tasks under the `evolution` strategy (the paper's).
STAGED_CUT = 0.9


class _StrategyTraits:
    """What the space asks of every strategy model besides its parameters.

    Attributes:
        searches: Whether the strategy evolves `seed_cells` and scores them
            on `search` tasks (else it trains the cells it lists).
        staged_cut: The `min_ratio` its `search` tasks default to (`None`:
            no cut unless the space sets one).
    """

    searches: ClassVar[bool] = True
    staged_cut: ClassVar[float | None] = None


@register_strategy(oracle=f"{_ORACLES}.evolution:EvolutionOracle")
class Evolution(_StrategyTraits, Strict):
    """The paper's procedure: a top-N list, pre-filter, staged tasks, min ratio to baseline.

    Attributes:
        top_n: Size of the list of best architectures.
        hyperparameter_samples: Random settings per cell per task.
        reevaluate_probability: Chance that a step re-evaluates a listed cell
            on new settings instead of mutating one (the paper gives none).
    """

    staged_cut: ClassVar[float | None] = STAGED_CUT
    name: Literal["evolution"]
    top_n: Samples = 100
    hyperparameter_samples: Samples = 20
    reevaluate_probability: Fraction = 0.5


@register_strategy(oracle=f"{_ORACLES}.regularized_evolution:RegularizedEvolutionOracle")
class RegularizedEvolution(_StrategyTraits, Strict):
    """Aging evolution (Real et al. 2019): tournament of `sample_size` from a population.

    Attributes:
        population: Cells alive at once (the oldest dies).
        sample_size: Tournament size.
        hyperparameter_samples: Random settings per cell per task.
    """

    name: Literal["regularized_evolution"]
    population: Size(MAX_POPULATION) = 100
    sample_size: Size(MAX_POPULATION) = 25
    hyperparameter_samples: Samples = 1

    @model_validator(mode="after")
    def _sample_fits(self):
        if self.sample_size > self.population:
            raise PathError(("sample_size",), f"expected at most population={self.population}."
                                              f" Received: {self.sample_size}")
        return self


@register_strategy(oracle=f"{_ORACLES}.random_search:RandomArchitectureOracle")
class RandomSearch(_StrategyTraits, Strict):
    """Random architecture search: seed cells mutated `mutations` times in a row.

    Attributes:
        mutations: Successive mutations from a random seed cell per candidate.
        hyperparameter_samples: Random settings per cell per task.
    """

    name: Literal["random"]
    mutations: Samples = 3
    hyperparameter_samples: Samples = 1


@register_strategy(oracle=f"{_ORACLES}.fixed:FixedListOracle")
class Fixed(_StrategyTraits, Strict):
    """A fixed list of cells (ablations, comparisons): no mutation.

    Attributes:
        cells: The cells to train.
        hyperparameter_samples: Random settings per cell per task.
    """

    searches: ClassVar[bool] = False
    name: Literal["fixed"]
    cells: Annotated[list[CellRef], Field(min_length=1, max_length=MAX_CELLS)]
    hyperparameter_samples: Samples = 20


from archsearch.space import hyperband as _hyperband  # noqa: E402,F401 (registers it)

#: Strategy name -> parameter model, from the registry (`archsearch.space.registry`).
STRATEGIES = {name: entry.params for name, entry in strategies().items()}


class Resources(Strict):
    """What one trial reserves on a Ray worker.

    Attributes:
        cpus: CPU cores per trial.
        gpu: Fraction of one GPU per trial, in [0, 1].
        population: `none` (default: each trial trains alone), `auto`, or an
            integer K in [1, 256]: up to K compatible trials (same cell, task
            and shapes) train together as one member-stacked model
            (`archsearch.training.run_population`), each recorded as if
            trained alone. `auto` picks K from the CPU crossover measured
            against today's single trials (`archsearch.training.grouping.auto_k`:
            for an embedding table smaller than a batch's tokens, 8 up to 32
            units, 4 up to 64, 2 up to 128, alone above; a larger table or a
            dense input trains alone). With a scheduler other than `none`,
            each trial trains alone (schedulers stop single trials).
        xla: Whether a single trial's train step is XLA-compiled: `auto`
            (default: on a CPU for models up to 128 units and 200 steps or
            more, where it measured 1.47-1.84x the steps per CPU-second at 64 units;
            `archsearch.training.xla`), `on` or `off`. Where it compiles, a
            trial of 128 units or more (any size under `on`) whose embedding
            folds trains as a population of one (`archsearch.training.solo_fold`:
            1.11-1.34x). Populations always compile with XLA.

    Example:
        >>> Resources.model_validate({"population": 8}).population
        8
        >>> Resources.model_validate({"xla": "off"}).xla
        'off'
    """

    cpus: Annotated[float, Field(gt=0.0, le=MAX_CPUS)] = 1.0
    gpu: Fraction = 0.0
    population: Literal["none", "auto"] | Annotated[StrictInt, Field(ge=1, le=256)] = "none"
    xla: Literal["auto", "on", "off"] = "auto"

    @field_validator("population", mode="before")
    @classmethod
    def _population(cls, value):
        if value in ("none", "auto") or (isinstance(value, int) and not isinstance(value, bool)
                                         and 1 <= value <= 256):
            return value
        raise ValueError(f"expected 'none', 'auto' or an integer K in [1, 256] (trials "
                         f"trained together); got {value!r}")


#: Each scheduler's parameters and their defaults.
SCHEDULERS = {
    "none": {},
    "asha": {"grace_period": 0.25, "reduction_factor": 2.0},
    "median": {"grace_period": 0.25, "min_samples_required": 3},
    "curve_cut": {"grace_period": 0.25, "min_ratio": 0.9},
}


class Confirm(Strict):
    """The confirmation stage: the search's best cells retrained on fresh seeds.

    When the search budget is spent, the `top` best distinct cells by search
    score, plus the baseline and the seed cells as controls, are retrained
    with `seeds` seeds that no search trial used, on every scoring task, with
    the hyperparameters each won with; their test-split numbers are the
    confirmed results (`archsearch confirm RUN_DIR` does the same later).

    Attributes:
        top: Cells to confirm, best first (distinct fingerprints).
        seeds: Fresh seeds per cell and task.

    Example:
        >>> Confirm.model_validate({"top": 5}).seeds
        5
    """

    top: Annotated[StrictInt, Field(ge=1, le=100)] = 5
    seeds: Annotated[StrictInt, Field(ge=2, le=100)] = 5


class Scheduler(Strict):
    """When to stop a hopeless trial before its budget is spent (Ray Tune schedulers).

    Progress is measured as the fraction of a trial's budget (steps or
    seconds) spent, and trials are only compared with trials of the same
    task. Baseline trials are never stopped. Written in YAML as a bare name
    (`scheduler: asha`) or a mapping with the parameters of that scheduler.

    * `none` (default): every trial runs to its full budget.
    * `asha`: Ray Tune's `AsyncHyperBandScheduler` (asynchronous successive
      halving): rungs at `grace_period` x `reduction_factor`^k of the budget;
      at each, a trial below the top 1/`reduction_factor` stops.
    * `median`: Ray Tune's `MedianStoppingRule`: a trial whose best is below
      the median of the other trials' running means at the same progress
      stops, once `min_samples_required` trials got that far.
    * `curve_cut`: the paper's staged cut inside a trial: stop when the
      trial's best-so-far at step s is below `min_ratio` x the baseline's
      best-so-far at step s (the best of the baseline's recorded curves).

    Attributes:
        name: `none`, `asha`, `median` or `curve_cut`.
        grace_period: Budget fraction in (0, 1) before a trial may be stopped.
        reduction_factor: `asha` only, > 1.
        min_samples_required: `median` only.
        min_ratio: `curve_cut` only, in (0, 1].

    Example:
        >>> Scheduler.model_validate({"name": "asha", "reduction_factor": 3.0}).params()
        {'grace_period': 0.25, 'reduction_factor': 3.0}
    """

    name: Literal["none", "asha", "median", "curve_cut"] = "none"
    grace_period: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    reduction_factor: Annotated[float, Field(gt=1.0, le=100.0)] | None = None
    min_samples_required: Size(MAX_SAMPLES) | None = None
    min_ratio: Annotated[float, Field(gt=0.0, le=1.0)] | None = None

    @model_validator(mode="after")
    def _own_parameters(self):
        allowed = SCHEDULERS[self.name]
        for key in sorted(self.model_fields_set - {"name"}):
            if key not in allowed:
                raise PathError((key,), f"unknown key {key!r} for scheduler {self.name!r}; "
                                        f"expected one of: {', '.join(['name', *allowed])}")
        for key, default in allowed.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, default)
        return self

    def params(self) -> dict:
        """The scheduler's own parameters (defaults filled in)."""
        return {key: getattr(self, key) for key in SCHEDULERS[self.name]}
