"""fANOVA importance on synthetic trials with a known answer; too few trials give a note."""

import numpy as np
import pandas as pd

from archsearch.report.importance import MIN_TRIALS, fanova, hparam_importance


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "hp.learning_rate": rng.choice([0.1, 0.2, 0.5, 1.0, 2.0, 5.0], n),
        "hp.init_scale": rng.choice([0.3, 0.7, 1.0, 1.4], n),
        "hp.optimizer": rng.choice(["sgd", "adam"], n),
        "hp.dropout": 0.0,                       # constant: never reported
        "family": rng.choice(["gru", "lstm"], n),
    })
    # only the learning rate matters (peak at 0.5), plus a little noise
    df["rel_cell"] = 1.0 - 0.2 * np.abs(np.log10(df["hp.learning_rate"] / 0.5)) \
        + rng.normal(0, 0.005, n)
    return df


def test_the_one_hyperparameter_that_matters_gets_the_importance():
    effects, note = hparam_importance(_frame(90))
    assert note is None
    overall = [e for e in effects if e.family == "all cells"]
    assert [e.hparam for e in overall][0] == "learning_rate"
    lr = overall[0]
    assert lr.importance > 0.8 and lr.low > 0.5
    assert lr.best_level == "0.5" and lr.n == 90
    for e in overall[1:]:
        assert e.importance < 0.05
    assert "dropout" not in {e.hparam for e in effects}
    assert {e.family for e in effects} == {"all cells", "gru", "lstm"}


def test_too_few_trials_give_a_note_not_numbers():
    effects, note = hparam_importance(_frame(MIN_TRIALS - 1))
    assert effects == ()
    assert f"needs at least {MIN_TRIALS}" in note


def test_fanova_is_deterministic_and_handles_categories():
    df = _frame(60, seed=3)
    frame = df[["hp.learning_rate", "hp.optimizer"]]
    first = fanova(frame, df.rel_cell)
    assert first == fanova(frame, df.rel_cell)
    assert first["hp.learning_rate"] > first["hp.optimizer"]
    assert all(0.0 <= v <= 1.0 for v in first.values())


def test_a_large_family_is_fitted_on_a_seeded_subsample(monkeypatch):
    from archsearch.report import importance

    monkeypatch.setattr(importance, "MAX_TRIALS", 60)
    effects, note = hparam_importance(_frame(200))
    assert note is None and {e.n for e in effects} == {60}
    top = max(effects, key=lambda e: e.importance)
    assert top.hparam == "learning_rate"  # still found on the subsample
    again, _ = hparam_importance(_frame(200))
    assert again == effects
