"""The strategy registry: each registered strategy's oracle class, by name.

Each strategy is one module beside this one (`fixed`, `evolution`,
`regularized_evolution`, `random_search`); its parameter model in
`archsearch.space` names its oracle (`archsearch.space.registry`), and
`ORACLES` loads them from there.
"""

from __future__ import annotations

__all__ = ["ORACLES"]


def _oracles() -> dict[str, type]:
    """The oracle class of every registered strategy, by name (`archsearch.space.registry`)."""
    from archsearch.space import schema  # noqa: F401  (registers the built-in strategies)
    from archsearch.space.registry import strategies

    oracles = {}
    for name, entry in strategies().items():
        oracle = entry.load_oracle()
        if getattr(oracle, "strategy", name) != name:
            raise ValueError(f"expected the oracle of strategy {name!r} to declare "
                             f"strategy = {name!r}. Received: {entry.oracle}.strategy="
                             f"{oracle.strategy!r}")
        oracles[name] = oracle
    return oracles


#: The oracle class of each search strategy, by `strategy.name`, from the
#: strategy registry (each strategy's parameter model names its oracle there).
ORACLES = _oracles()
