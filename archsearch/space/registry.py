"""The strategy registry: each search strategy registered once, read by the schema.

A strategy is two things: the pydantic model of its parameters in a space
file (`strategy: {name: evolution, top_n: 100}`) and the KerasTuner oracle
that runs it. Both are named in one registration, on the parameter model:

    @register_strategy(oracle="archsearch.search.oracles.evolution:EvolutionOracle")
    class Evolution(Strict):
        name: Literal["evolution"]
        ...

The space schema (`STRATEGIES`, the `strategy` union of `SearchSpace`) and
the loader's error messages derive from this table, and
`tests/space/test_registry.py` checks that the executor's `ORACLES` agree
with it. What the space asks of a strategy besides its parameters is class
data on the model (`searches`, `staged_cut`; see `archsearch.space.schema`).
The oracle is named by its import path and imported only on
`StrategyEntry.load_oracle()`, so reading a space never imports KerasTuner or
TensorFlow. Tasks have their own registry, `archsearch.tasks.registry`, which
the schema reads directly (it imports no TensorFlow).

Example:
    >>> from archsearch.space import schema  # registers the built-in strategies
    >>> sorted(strategies())
    ['evolution', 'fixed', 'hyperband', 'random', 'regularized_evolution']
    >>> strategy("fixed").oracle
    'archsearch.search.oracles.fixed:FixedListOracle'
"""

from __future__ import annotations

import importlib
import re
import typing
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

__all__ = ["StrategyEntry", "register_strategy", "strategies", "strategy", "strategy_union"]

_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class StrategyEntry:
    """One registered strategy.

    Attributes:
        name: The strategy's name in space files (`strategy.name`).
        params: The pydantic model of its parameters; its `name` field is
            `Literal[name]`.
        oracle: Import path `package.module:Class` of its oracle.
    """

    name: str
    params: type
    oracle: str

    def load_oracle(self) -> type:
        """Imports and returns the oracle class."""
        module, _, attr = self.oracle.partition(":")
        return getattr(importlib.import_module(module), attr)


_STRATEGIES: dict[str, StrategyEntry] = {}


def _literal_name(params: type) -> str:
    field = getattr(params, "model_fields", {}).get("name")
    args = typing.get_args(field.annotation) if field is not None else ()
    if field is None or typing.get_origin(field.annotation) is not Literal or len(args) != 1 \
            or not isinstance(args[0], str):
        raise TypeError("expected a pydantic model with a field `name: Literal['<strategy>']`."
                        f" Received: params={params!r}")
    return args[0]


def register_strategy(*, oracle: str):
    """Class decorator: registers a strategy's parameter model and its oracle.

    Args:
        oracle: Import path `package.module:Class` of the strategy's oracle.

    Returns:
        The decorator; it returns the model unchanged.

    Raises:
        TypeError: the model has no `name: Literal[...]` field.
        ValueError: a malformed `oracle` path, or the name is registered by
            another model.
    """
    if not isinstance(oracle, str) or not _IMPORT_PATH.match(oracle):
        raise ValueError(f"expected an import path 'package.module:Class'. Received: "
                         f"oracle={oracle!r}")

    def decorate(params: type) -> type:
        name = _literal_name(params)
        known = _STRATEGIES.get(name)
        if known is not None and known.params is not params:
            raise ValueError(f"expected a new strategy name; {name!r} is registered by "
                             f"{known.params.__qualname__}. Received: params={params!r}")
        _STRATEGIES[name] = StrategyEntry(name, params, oracle)
        return params

    return decorate


def strategies() -> dict[str, StrategyEntry]:
    """The registered strategies by name, in registration order."""
    return dict(_STRATEGIES)


def strategy(name: str) -> StrategyEntry:
    """The strategy registered as `name`.

    Raises:
        KeyError: no such strategy; the message lists the known names.
    """
    try:
        return _STRATEGIES[name]
    except (KeyError, TypeError):
        raise KeyError(f"expected a strategy, one of: {', '.join(_STRATEGIES)}. "
                       f"Received: name={name!r}") from None


def strategy_union():
    """The pydantic type of a space's `strategy`: the registered models, tagged by `name`."""
    models = tuple(entry.params for entry in _STRATEGIES.values())
    if not models:
        raise LookupError("expected at least one registered strategy; import "
                          "archsearch.space.schema first. Received: none")
    if len(models) == 1:
        return models[0]
    return Annotated[typing.Union[models], Field(discriminator="name")]  # noqa: UP007
