"""Training: the paper's hyperparameter distribution, the trial trainer, population trials."""

from archsearch.training.budget import Budget
from archsearch.training.grouping import auto_k, population_groups
from archsearch.training.hparams import (
    DEFAULTS,
    PAPER_SPACE,
    paper_hyperparameters,
    resolve,
    sample,
    units_for_budget,
)
from archsearch.training.model import build_model, with_forget_bias
from archsearch.training.population import run_population
from archsearch.training.result import TrialResult
from archsearch.training.trainer import run_trial

__all__ = ["Budget", "DEFAULTS", "PAPER_SPACE", "TrialResult", "auto_k", "build_model",
           "paper_hyperparameters", "population_groups", "resolve", "run_population",
           "run_trial", "sample", "units_for_budget", "with_forget_bias"]
