"""Hyperparameter importance by fANOVA (Hutter et al. 2014), through Optuna.

The response is `rel_cell`, each completed task trial's score relative to its
own cell's best on the same task (1 = that cell's best setting), which takes
out the differences between cells and tasks. Optuna's
`FanovaImportanceEvaluator` fits a random forest to it and decomposes the
forest's variance: a hyperparameter's importance is the share of the variance
its main effect explains (not normalised to sum to 1; interactions take the
rest). The trials become Optuna `FrozenTrial`s of an in-memory study (no
storage, nothing written). Numeric hyperparameters are float ranges,
anything else (strings, None = `default`) categories. The range is the
lowest to highest importance over the fit on all trials and `N_RESAMPLES`
fits on random subsamples of 80% of them, each with its own forest seed
(without replacement: a bootstrap's duplicated trials let the forest overfit
them and inflate small importances). It shows how much the number moves
with the data and the forest, not a calibrated interval. With fewer than
`MIN_TRIALS` trials a family gets no numbers, only a note saying why. A
family with more than `MAX_TRIALS` trials is fitted on a seeded random
subsample of `MAX_TRIALS` of them (Optuna copies every trial it is given:
at 100k trials the fits took most of a report's time); `n` says how many.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from archsearch.report.analysis import ALL_CELLS, levels
from archsearch.report.summaries import HparamEffect

__all__ = ["MAX_TRIALS", "MIN_TRIALS", "hparam_importance", "fanova"]

MIN_TRIALS = 20       # per family, for an importance estimate
N_RESAMPLES = 5       # subsamples for the interval (each: one forest fit)
MAX_TRIALS = 5000     # per family: larger families are subsampled (seeded) to this many
SUBSAMPLE = 0.8       # share of the trials in each subsample (drawn without replacement)
N_TREES = 16
MAX_DEPTH = 64
SEED = 0


def _distribution(values: pd.Series):
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    numeric = pd.to_numeric(values, errors="coerce")
    is_bool = values.map(lambda v: isinstance(v, bool)).any()
    if numeric.notna().all() and not is_bool:
        return FloatDistribution(float(numeric.min()), float(numeric.max())), numeric.astype(float)
    labels = values.astype(object).where(values.notna(), "default").map(str)
    return CategoricalDistribution(sorted(labels.unique())), labels


def fanova(frame: pd.DataFrame, response: pd.Series, *, seed: int = SEED) -> dict[str, float]:
    """Main-effect importance (fANOVA) of each column of `frame` for `response`.

    Args:
        frame: One column per hyperparameter, one row per trial (columns with
            a single value are left out).
        response: The value to explain, aligned with `frame`.
        seed: The random forest's seed.

    Returns:
        Column -> fraction of variance explained by its main effect.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> hp = pd.DataFrame({"lr": rng.choice([0.1, 1.0, 5.0], 60),
        ...                    "clip": rng.choice([1.0, 5.0], 60)})
        >>> y = -np.abs(np.log10(hp.lr)) + rng.normal(0, 0.01, 60)
        >>> imp = fanova(hp, y)
        >>> imp["lr"] > 0.8 > 0.1 > imp["clip"]
        True
    """
    import optuna
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.trial import create_trial

    columns, dists = {}, {}
    for name in frame.columns:
        dist, values = _distribution(frame[name])
        if not dist.single():
            columns[name], dists[name] = values.tolist(), dist
    if not columns:
        return {}
    trials = [create_trial(params={n: columns[n][k] for n in columns},
                           distributions=dists, value=float(v))
              for k, v in enumerate(np.asarray(response, dtype=float))]
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = optuna.create_study(direction="maximize")
            study.add_trials(trials)
            evaluator = FanovaImportanceEvaluator(n_trees=N_TREES, max_depth=MAX_DEPTH, seed=seed)
            return {k: float(v) for k, v in evaluator.evaluate(study).items()}
    finally:
        optuna.logging.set_verbosity(verbosity)


def hparam_importance(df: pd.DataFrame) -> tuple[tuple[HparamEffect, ...], str | None]:
    """Importance by fANOVA per cell family and for all cells, with bootstrap intervals.

    Args:
        df: The report's trial frame (with `family`, `rel_cell` and `hp.*` columns).

    Returns:
        `(effects, note)`: `HparamEffect`s ordered by family (all cells first)
        then by importance, and a note saying why there are none (else None).
    """
    if not len(df) or "rel_cell" not in df:
        return (), "no completed trials"
    ok = df[df.rel_cell.notna()]
    hp_columns = [c for c in ok.columns if c.startswith("hp.")]
    families = [(ALL_CELLS, ok)] + [(f, rows) for f, rows in ok.groupby("family", sort=True)]
    if ok.family.nunique() <= 1:
        families = families[:1]
    effects: list[HparamEffect] = []
    for family, rows in families:
        if len(rows) < MIN_TRIALS:
            continue
        varied = [c for c in hp_columns
                  if rows[c].astype(object).where(rows[c].notna(), "default").map(str).nunique()
                  > 1]
        if not varied:
            continue
        if len(rows) > MAX_TRIALS:
            rows = rows.sample(n=MAX_TRIALS, random_state=SEED)
        rows = rows.reset_index(drop=True)
        point = fanova(rows[varied], rows.rel_cell)
        rng = np.random.default_rng(SEED)
        draws = []
        for k in range(N_RESAMPLES):
            idx = rng.choice(len(rows), int(round(SUBSAMPLE * len(rows))), replace=False)
            part = rows.iloc[idx].reset_index(drop=True)
            draws.append(fanova(part[varied], part.rel_cell, seed=k + 1))
        found = []
        for column in varied:
            name = column.removeprefix("hp.")
            if column not in point:
                continue
            boot = [point[column]] + [d.get(column, 0.0) for d in draws]
            grouped = levels(rows[column])
            means = rows.rel_cell.groupby(grouped).mean()
            found.append(HparamEffect(
                family=family, hparam=name, importance=point[column],
                low=float(min(boot)), high=float(max(boot)),
                n=len(rows), levels=int(grouped.nunique()), best_level=str(means.idxmax()),
                spread=float(means.max() - means.min())))
        effects.extend(sorted(found, key=lambda e: (-e.importance, e.hparam)))
    if effects:
        return tuple(effects), None
    return (), (f"too few trials for fANOVA: {len(ok)} completed task trials, needs at least "
                f"{MIN_TRIALS} per family with varying hyperparameters")
