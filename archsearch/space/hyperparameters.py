"""The hyperparameter vocabulary: one set of names from the YAML file to the trainer.

A search space's `hyperparameters` keys (the `Hyperparameters` model), the
values the oracles sample and the trainer's arguments
(`archsearch.training.resolve`) use the same names, the keys of `DEFAULTS`.
`PAPER_SPACE` is the paper's distribution (Jozefowicz et al. 2015) and the
model's default. No TensorFlow, so that both the search-space schema and the
trainer import it.

Renamed keys are still read: `RENAMED` maps an old name to its current one
(`layers` became `num_layers`). A space file that uses an old name loads, and
`SearchSpace.summary()` (printed by `archsearch spaces check` and
`archsearch search`) says which name to write instead; run directories and
oracle snapshots written with the old name resume (`current_names`).

Example:
    >>> current_names({"layers": 2, "learning_rate": 0.1})
    {'num_layers': 2, 'learning_rate': 0.1}
    >>> set(PAPER_SPACE) <= set(DEFAULTS)
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    PlainValidator,
    PrivateAttr,
    field_serializer,
    model_validator,
)

from archsearch.space.cells import PathError, Strict
from archsearch.space.limits import (
    MAX_CHOICES,
    MAX_LAYERS,
    MAX_PARAM_BUDGET,
    MAX_UNITS,
    MAX_VALUE,
    Size,
)

__all__ = ["CHRONO", "DEFAULTS", "PAPER_SPACE", "RENAMED", "Hyperparameters",
           "current_names", "forget_bias_value"]

# Jozefowicz et al. 2015, "Hyperparameter distribution" (see shared/reference).
PAPER_SPACE: dict[str, list] = {
    "init_scale": [0.3, 0.7, 1.0, 1.4, 2.0, 2.8],
    "learning_rate": [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0],
    "clip_norm": [1.0, 2.5, 5.0, 10.0, 20.0],
    "num_layers": [1, 2, 3, 4],
    "param_budget": [250_000, 1_000_000],
}

# Values a trial uses for anything the sampled hyperparameters leave out.
DEFAULTS: dict[str, Any] = {
    "init_scale": 1.0,
    "learning_rate": 1.0,
    "clip_norm": 5.0,
    "num_layers": 1,
    "param_budget": 250_000,
    "units": None,          # set directly to bypass the parameter budget
    "forget_bias": None,    # None: the genome's own initialiser (lstm 0, lstm_b 1); "chrono"
    "dropout": 0.0,
    "optimizer": "sgd",     # the paper's; "adam" is an option
    "chrono_tmax": None,    # T_max of forget_bias "chrono"; None: the task's own
}

#: The `forget_bias` value that asks for chrono initialisation (Tallec & Ollivier 2018).
CHRONO = "chrono"

#: Deprecated name -> current name. Old names are read, never written.
RENAMED: dict[str, str] = {"layers": "num_layers"}


def current_names(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with every deprecated hyperparameter name replaced by its current one.

    For data written before a rename (a run directory's `run.json`, an oracle
    snapshot's queued trials); new data already uses the current names.

    Raises:
        ValueError: a name is given both under its old and its current name.
    """
    for old, new in RENAMED.items():
        if old in values and new in values:
            raise ValueError(f"expected {new!r} or its deprecated name {old!r}, not both. "
                             f"Received: {old}={values[old]!r}, {new}={values[new]!r}")
    return {RENAMED.get(name, name): value for name, value in values.items()}


PositiveFloat = Annotated[float, Field(gt=0.0, le=MAX_VALUE)]


def _number_text(value):
    """A number written as text becomes a float (see `forget_bias_value`)."""
    if isinstance(value, str) and value != CHRONO:
        try:
            return float(value)
        except ValueError:
            return value
    return value


def forget_bias_value(value):
    """A `forget_bias` value as the trainer reads it: `None`, a number or `"chrono"`.

    Numbers written as text (`"1.0"`, how a list mixing numbers and `chrono`
    reaches KerasTuner, whose `Choice` takes one type) become floats.

    Raises:
        ValueError: anything else.

    Example:
        >>> forget_bias_value("1.5"), forget_bias_value("chrono"), forget_bias_value(2)
        (1.5, 'chrono', 2)
    """
    if value is None or value == CHRONO:
        return value
    number = _number_text(value)
    if isinstance(number, bool) or not isinstance(number, int | float) or not (
            -MAX_VALUE <= number <= MAX_VALUE):
        raise ValueError(f"expected forget_bias to be a number or {CHRONO!r}. "
                         f"Received: forget_bias={value!r}")
    return number


def _text_beside_chrono(values):
    # Only the form `_one_type` writes (numbers as text beside `chrono`) reads
    # text as numbers; elsewhere "1.0" is refused like any number as text.
    if isinstance(values, list) and CHRONO in values:
        return [_number_text(v) for v in values]
    return values


def _forget_bias_item(value):
    if isinstance(value, bool) or (isinstance(value, str) and value != CHRONO):
        raise ValueError(f"expected a number or {CHRONO!r}. Received: {value!r}")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"expected a finite number or {CHRONO!r}. Received: {value!r}")
    try:
        number = forget_bias_value(value)
    except ValueError:
        raise ValueError(f"expected a number in [-{MAX_VALUE:g}, {MAX_VALUE:g}] or {CHRONO!r}. "
                         f"Received: {value!r}") from None
    return number if number == CHRONO else float(number)


ForgetBias = Annotated[float | Literal["chrono"], PlainValidator(_forget_bias_item)]


def _as_list(value):
    return [value] if isinstance(value, str | int | float) and not isinstance(value, bool) \
        else value


def Choices(item):  # noqa: N802 - reads like a type in the models below
    """A non-empty list of values to sample from; a single value is a one-item list."""
    return Annotated[list[item], BeforeValidator(_as_list),
                     Field(min_length=1, max_length=MAX_CHOICES)]


class Hyperparameters(Strict):
    """The distribution each trial's hyperparameters are drawn from (uniform over lists).

    The keys are the trainer's (`DEFAULTS`, read by `archsearch.training.resolve`)
    and the defaults are the paper's distribution (`PAPER_SPACE`). The hidden
    size comes from `units` if given, else it is derived from `param_budget`
    (parameters of the whole model) by the trainer. A deprecated key (`layers`
    for `num_layers`) is still read; `deprecated_keys()` lists the ones used.

    Attributes:
        init_scale: s of the uniform init U[-s/sqrt(n), s/sqrt(n)].
        learning_rate: Learning rates.
        clip_norm: Max global gradient norm.
        num_layers: Stacked recurrent layers (formerly `layers`).
        param_budget: Parameter budgets the hidden size is derived from.
        units: Fixed hidden sizes (instead of `param_budget`).
        forget_bias: If set, overrides the bias initialiser of the cell's
            forget gate (`linear` node `f_pre`) when the cell has one: a
            number, or `chrono` (Tallec & Ollivier 2018: `log U[1, T_max - 1]`
            per unit, the input gate at minus that), which fails a trial
            whose cell has no identifiable forget gate.
        dropout: Dropout rate (language models).
        optimizer: `sgd` (the paper) or `adam`.
        chrono_tmax: T_max of `forget_bias: chrono`; unset, the task's own
            (its longest dependency: `length` of adding, ...).

    Example:
        >>> Hyperparameters.model_validate({"layers": [2]}).num_layers
        [2]
        >>> Hyperparameters.model_validate({"layers": [2]}).deprecated_keys()
        {'layers': 'num_layers'}
        >>> Hyperparameters().learning_rate == PAPER_SPACE["learning_rate"]
        True
    """

    # Field order is the oracles' sampling order: keep it, so resumed runs draw alike.
    init_scale: Choices(PositiveFloat) = PAPER_SPACE["init_scale"]
    learning_rate: Choices(PositiveFloat) = PAPER_SPACE["learning_rate"]
    clip_norm: Choices(PositiveFloat) = PAPER_SPACE["clip_norm"]
    num_layers: Annotated[Choices(Size(MAX_LAYERS)),
                          Field(validation_alias=AliasChoices("num_layers", "layers"))] = \
        PAPER_SPACE["num_layers"]
    param_budget: Choices(Size(MAX_PARAM_BUDGET)) | None = PAPER_SPACE["param_budget"]
    units: Choices(Size(MAX_UNITS)) | None = None
    forget_bias: Annotated[Choices(ForgetBias), BeforeValidator(_text_beside_chrono)] | None = None
    dropout: Choices(Annotated[float, Field(ge=0.0, lt=1.0)]) = [0.0]
    optimizer: Choices(Literal["sgd", "adam"]) = ["sgd"]
    chrono_tmax: Choices(Annotated[float, Field(gt=2.0, le=MAX_VALUE)]) | None = None
    _deprecated: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _renamed_keys(cls, data, handler):
        used = tuple(k for k in RENAMED if isinstance(data, dict) and k in data)
        for old in used:
            if RENAMED[old] in data:
                raise PathError((old,), f"expected {RENAMED[old]!r} or its deprecated name "
                                        f"{old!r}, not both")
        model = handler(data)
        model._deprecated = used
        return model

    @field_serializer("forget_bias")
    def _one_type(self, values):
        # KerasTuner's `Choice` holds values of one type: numbers beside
        # `chrono` travel as text, read back by `forget_bias_value`.
        if values is not None and CHRONO in values and len(set(values)) > 1:
            return [v if isinstance(v, str) else str(float(v)) for v in values]
        return values

    def deprecated_keys(self) -> dict[str, str]:
        """Deprecated key used in the file -> the key to write instead."""
        return {old: RENAMED[old] for old in self._deprecated}

    @model_validator(mode="after")
    def _one_size(self):
        if self.units is not None:
            if "param_budget" in self.model_fields_set and self.param_budget is not None:
                raise PathError(("units",), "expected either units or param_budget, not both")
            object.__setattr__(self, "param_budget", None)
        elif self.param_budget is None:
            raise PathError(("param_budget",), "expected units or param_budget to size the "
                                               "hidden layer; both are null")
        return self
