"""`forget_bias` in a space file: numbers, `chrono`, or both in one list; `chrono_tmax`."""

import pytest

from archsearch.space import Hyperparameters
from archsearch.space.hyperparameters import forget_bias_value


def test_a_list_of_numbers_and_chrono_reaches_keras_tuner_as_one_type():
    from archsearch.search.oracles.base import space_hyperparameters

    hp = Hyperparameters.model_validate({"units": [8], "forget_bias": [0.0, 1, "chrono"]})
    assert hp.forget_bias == [0.0, 1.0, "chrono"]
    assert hp.model_dump()["forget_bias"] == ["0.0", "1.0", "chrono"]
    assert Hyperparameters.model_validate(hp.model_dump(mode="json")) == hp  # run.json reads back
    space = type("Space", (), {"hyperparameters": hp})()
    choice = next(p for p in space_hyperparameters(space).space if p.name == "forget_bias")
    assert list(choice.values) == ["0.0", "1.0", "chrono"]
    assert [forget_bias_value(v) for v in choice.values] == [0.0, 1.0, "chrono"]


def test_lists_of_one_kind_stay_as_written():
    numbers = Hyperparameters.model_validate({"units": [8], "forget_bias": [0.0, 1.0]})
    assert numbers.model_dump()["forget_bias"] == [0.0, 1.0]
    chrono = Hyperparameters.model_validate({"units": [8], "forget_bias": "chrono",
                                             "chrono_tmax": [150]})
    assert chrono.model_dump()["forget_bias"] == ["chrono"] and chrono.chrono_tmax == [150.0]


@pytest.mark.parametrize(("values", "where"), [
    ({"forget_bias": ["chronos"]}, "forget_bias"),
    ({"forget_bias": ["1.0"]}, "forget_bias"),  # a number as text only beside chrono
    ({"forget_bias": [True]}, "forget_bias"),
    ({"forget_bias": ["nan"]}, "forget_bias"),
    ({"chrono_tmax": [2]}, "chrono_tmax"),
    ({"chrono_tmax": ["chrono"]}, "chrono_tmax"),
])
def test_bad_values_are_rejected_at_their_key(values, where):
    with pytest.raises(ValueError, match=where):
        Hyperparameters.model_validate({"units": [8], **values})
