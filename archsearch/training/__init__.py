"""Training: the paper's hyperparameter distribution and the one-trial trainer."""

from archsearch.training.budget import Budget
from archsearch.training.hparams import (
    DEFAULTS,
    PAPER_SPACE,
    paper_hyperparameters,
    resolve,
    sample,
    units_for_budget,
)
from archsearch.training.trainer import TrialResult, build_model, run_trial, with_forget_bias

__all__ = ["Budget", "DEFAULTS", "PAPER_SPACE", "TrialResult", "build_model",
           "paper_hyperparameters", "resolve", "run_trial", "sample", "units_for_budget",
           "with_forget_bias"]
