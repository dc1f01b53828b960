"""The paper's hyperparameter distribution and the parameter-budget sizing."""

import pytest

from archsearch import zoo
from archsearch.training import PAPER_SPACE, paper_hyperparameters, resolve, sample
from archsearch.training.hparams import units_for_budget


def test_paper_distribution_as_keras_tuner_hyperparameters():
    hp = paper_hyperparameters()
    assert {p.name for p in hp.space} == set(PAPER_SPACE)
    lr = next(p for p in hp.space if p.name == "learning_rate")
    assert list(lr.values) == [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0]
    assert hp.get("init_scale") == 0.3  # KerasTuner's default: the first value


def test_sample_is_deterministic_and_covers_the_space():
    assert sample(seed=3) == sample(seed=3)
    draws = [sample(seed=s)["learning_rate"] for s in range(200)]
    assert set(draws) == set(PAPER_SPACE["learning_rate"])


def test_resolve_fills_defaults_and_rejects_unknown_names():
    assert resolve({"units": 8})["optimizer"] == "sgd"
    with pytest.raises(ValueError, match="unknown hyperparameter 'lr'"):
        resolve({"lr": 1.0})
    with pytest.raises(ValueError, match="optimizer"):
        resolve({"optimizer": "rmsprop"})


@pytest.mark.parametrize("name", ["lstm", "gru", "mut1"])
@pytest.mark.parametrize("layers", [1, 2])
def test_units_for_budget_is_the_largest_that_fits(name, layers):
    genome = zoo.get(name)
    units = units_for_budget(genome, 250_000, layers)

    def params(u):
        return layers * genome.parameter_count(u, u)

    assert params(units) <= 250_000 < params(units + 1)


def test_resolve_speaks_the_search_space_vocabulary():
    from archsearch.space import Hyperparameters
    from archsearch.space.hyperparameters import current_names

    # Every schema key is a trainer key, so a sampled setting needs no renaming.
    drawn = {k: v[-1] for k, v in Hyperparameters(forget_bias=[1.0], chrono_tmax=[50.0])
             .model_dump().items() if v is not None}
    assert set(drawn) == set(Hyperparameters.model_fields) - {"units"}
    assert resolve(drawn)["num_layers"] == 4
    with pytest.raises(ValueError, match="unknown hyperparameter 'layers'"):
        resolve({"layers": 2})
    # Values queued by an oracle snapshot written before the rename still train.
    assert resolve(current_names({"layers": 2}))["num_layers"] == 2
