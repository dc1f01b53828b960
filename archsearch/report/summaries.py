"""Typed records a report is made of: extracted once, then rendered.

`load_runs` turns run directories into `RunInfo` and `TrialRecord`s (a
`RunSet`); `summarize` turns those into `CellSummary`, `TaskStats`,
`TaskSummary`, `FailureGroup`, `HparamEffect` and `CellCard` records (a
`Report`). Renderers (HTML, Markdown, CSV, figures) only read these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from archsearch import scoring

__all__ = ["RunInfo", "TrialRecord", "RunSet", "TaskStats", "CellSummary", "TaskSummary",
           "FailureGroup", "HparamEffect", "CellCard", "Comparison", "ExpectedBest",
           "NoiseSplit", "ClaimCheck", "Findings", "Report"]


@dataclass(frozen=True)
class RunInfo:
    """One run directory, as its `run.json` describes it.

    Args:
        label: Unique name of the run in this report (its `name`, made unique).
        source: The path or URI it was read from.
        name: The search's name (`run.json` `name`, else the directory's name).
        strategy: The search strategy (`fixed`, `evolution`, ...).
        seed: The search seed, if recorded.
        baseline: The baseline cell named in `run.json` (e.g. `gru`).
        tasks: Tasks the run was configured with.
        created_at: When the run started, if recorded.
        version: The run format version it was written with (None if unknown).
        space: The resolved search space, as recorded.
        trials: Trial records read from it (valid ones).
        skipped: Trial files that could not be read.
    """

    label: str
    source: str
    name: str
    strategy: str
    seed: int | None
    baseline: str | None
    tasks: tuple[str, ...]
    created_at: datetime | None
    version: int | None
    space: Mapping[str, Any] = field(default_factory=dict)
    trials: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class TrialRecord:
    """One trial: a cell trained with one hyperparameter setting on one task.

    Field names follow the trial JSON record (`archsearch.trial` version 1); the
    nested `cell`, `timings` and `worker` objects are flattened. `stage` is the
    task's role: `prefilter` (a pass/fail gate), `search` (scored; also what
    a missing stage or the older name `task` is read as) or `report` (shown in
    the tables, not part of the min-ratio score).
    """

    run: str
    trial_id: str
    sequence: int | None
    strategy: str
    status: str
    failure: str | None
    fingerprint: str
    cell_name: str | None
    parent: str | None
    origin: str | None
    task: str
    stage: str
    hparams: Mapping[str, Any]
    seed: int | None
    score: float | None
    score_metric: str | None
    score_mode: str | None
    metrics: Mapping[str, Any]
    curve: tuple[Mapping[str, Any], ...]
    params: int | None
    units: int | None
    steps: int | None
    seconds: float | None
    started_at: datetime | None
    finished_at: datetime | None
    node: str | None
    file: str
    sample: int | None = None
    simulated: bool = False
    #: `search` or `confirm` (a chosen cell retrained on a fresh seed).
    phase: str = "search"

    @property
    def completed(self) -> bool:
        """True when the trial finished and has a score."""
        return self.status == "completed" and self.score is not None


@dataclass(frozen=True)
class RunningTrial:
    """A trial still training: its curve so far (`curves/<trial_id>.json`), no record yet.

    Args:
        run: Label of its run.
        trial_id: The trial's id.
        cell_name: The cell's name, if it has one.
        fingerprint: The cell's fingerprint.
        task: Task name.
        score_metric: The metric ranked by; `score_mode` `max` or `min`.
        curve: One dict per evaluation so far (step, seconds, valid_* ...).
        updated_at: When the curve was last written.
    """

    run: str
    trial_id: str
    cell_name: str | None
    fingerprint: str | None
    task: str | None
    score_metric: str | None
    score_mode: str | None
    curve: tuple[Mapping[str, Any], ...]
    updated_at: str | None = None

    @property
    def best(self) -> float | None:
        """The best validation value of `score_metric` so far."""
        values = [p.get(f"valid_{self.score_metric}") for p in self.curve]
        return scoring.best([v for v in values if isinstance(v, int | float)],
                            self.score_mode if self.score_mode in scoring.MODES else "max")


@dataclass(frozen=True)
class RunSet:
    """What `load_runs` read: runs, their trials, genomes and warnings.

    Args:
        runs: One `RunInfo` per source, in the order given.
        trials: All valid trial records, run by run, in finishing order.
        genomes: Genome JSON data (`Genome.to_dict()`) by cell fingerprint.
        warnings: One line per problem found (file name and what is wrong).
        running: Trials of a running search that have a curve and no record yet.
        confirmations: Confirmation trials (`phase: confirm`), kept apart from
            `trials`: every search-phase analysis reads `trials` only, and a
            mutant's confirmed numbers come from these alone.
    """

    runs: tuple[RunInfo, ...]
    trials: tuple[TrialRecord, ...]
    genomes: Mapping[str, Mapping[str, Any]]
    warnings: tuple[str, ...] = ()
    running: tuple[RunningTrial, ...] = ()
    confirmations: tuple[TrialRecord, ...] = ()


@dataclass(frozen=True)
class TaskStats:
    """One cell on one task: the best score and its spread over trials.

    Args:
        task: Task name.
        metric: The score metric (e.g. `accuracy`).
        mode: `max` or `min`: which direction is better.
        n: Completed trials (seeds x hyperparameter samples).
        failed: Failed trials.
        seeds: Distinct trial seeds among the completed trials.
        best: Best score.
        median: Median score.
        q25: 25th percentile of the scores.
        q75: 75th percentile of the scores.
        ratio: Best relative to the baseline's best (> 1 is better than the
            baseline for both modes); None without a baseline result.
        best_trial: `run/trial_id` of the best trial.
        best_hparams: Hyperparameters of the best trial.
        best_units: Units of the best trial.
        ratio_low: Lower end of the ratio's interval (the verdict's test inverted).
        ratio_high: Upper end.
        reliable: False when the interval rests on fewer than 5 trials a side.
        p_value: Two-sided Mann-Whitney p of the cell's trials vs the baseline's.
        p_holm: The same, Holm-corrected within its family (the verdicts vs the
            baseline, or the paper-claim pairs).
        verdict: `better`, `worse`, `tied` (vs the baseline) or `baseline`.
    """

    task: str
    metric: str
    mode: str
    n: int
    failed: int
    seeds: int
    best: float | None
    median: float | None
    q25: float | None
    q75: float | None
    ratio: float | None = None
    best_trial: str | None = None
    best_hparams: Mapping[str, Any] = field(default_factory=dict)
    best_units: int | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    reliable: bool = False
    p_value: float | None = None
    p_holm: float | None = None
    verdict: str | None = None

    @property
    def iqr(self) -> float | None:
        """Interquartile range of the scores."""
        return None if self.q25 is None or self.q75 is None else self.q75 - self.q25


@dataclass(frozen=True)
class CellSummary:
    """Everything known about one cell (keyed by fingerprint), across runs.

    Args:
        fingerprint: The genome fingerprint.
        label: Display name: the cell's name, else `mut-` and a short fingerprint.
        name: Name recorded in the trials (or the zoo name of the fingerprint).
        zoo_name: The zoo cell with this fingerprint, if any.
        origin: How it entered the search (`seed`, `mutation`, `fixed`, ...).
        parent: Fingerprint of its parent, for mutants.
        family: The named cell it descends from (itself if named).
        params: Median parameter count over its trials.
        trials: All its trials (any stage, any status).
        completed: Completed trials.
        failed: Failed trials.
        tasks: Per task (stages `search` and `report`), its `TaskStats`.
        prefilter: Its pre-filter (stage `prefilter`) stats, if any.
        score: Min over the scored (`search` stage) tasks of its ratio to the
            baseline.
        complete: True when it has results on every scored task the baseline
            has.
        rank: 1-based position on the leaderboard.
        runs: Runs it appears in.
        score_low: Lower end of the score's interval (follows the overall verdict).
        score_high: Upper end.
        score_reliable: False when some task has fewer than 5 trials a side.
        verdict: Overall verdict vs the baseline: `worse` if any scored task
            is `worse`, `better` if all are `better`, else `tied`
            (`baseline` for the baseline itself).
        rank_low: Best plausible rank (2.5% of its bootstrap ranks).
        rank_high: Worst plausible rank (97.5%).
        group: Group of statistically tied cells (1 = the top group).
        stopped: Trials a scheduler stopped early; their partial scores are
            left out of every best, ratio and score.
    """

    fingerprint: str
    label: str
    name: str | None
    zoo_name: str | None
    origin: str | None
    parent: str | None
    family: str
    params: int | None
    trials: int
    completed: int
    failed: int
    tasks: Mapping[str, TaskStats]
    prefilter: TaskStats | None
    score: float | None
    complete: bool
    rank: int = 0
    runs: tuple[str, ...] = ()
    score_low: float | None = None
    score_high: float | None = None
    score_reliable: bool = False
    verdict: str | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    group: int | None = None
    stopped: int = 0

    @property
    def rank_range(self) -> str:
        """`3` or `2-5`: the plausible ranks (the strict rank when there is no range)."""
        if self.rank_low is None or self.rank_high is None:
            return str(self.rank)
        if self.rank_low == self.rank_high:
            return str(self.rank_low)
        return f"{self.rank_low}-{self.rank_high}"

    @property
    def is_mutant(self) -> bool:
        """True for cells that are not in the zoo and carry no name."""
        return self.zoo_name is None and self.name is None


@dataclass(frozen=True)
class TaskSummary:
    """One task across all cells (`scored`: part of the min-ratio score)."""

    task: str
    metric: str
    mode: str
    scored: bool
    trials: int
    completed: int
    failed: int
    cells: int
    best: float | None
    best_cell: str | None
    baseline_best: float | None


@dataclass(frozen=True)
class FailureGroup:
    """Failed trials sharing a reason once numbers are taken out of it.

    Args:
        reason: The normalised reason (numbers replaced by `N`).
        count: Failed trials with this reason.
        cells: Labels of the cells affected.
        tasks: Tasks affected.
        example: One full original reason.
        trials: Up to five `run/trial_id`s.
    """

    reason: str
    count: int
    cells: tuple[str, ...]
    tasks: tuple[str, ...]
    example: str
    trials: tuple[str, ...]


@dataclass(frozen=True)
class HparamEffect:
    """How much one hyperparameter matters for one cell family (fANOVA).

    `importance` is fANOVA's main-effect share of the variance (Hutter et al.
    2014, through Optuna's `FanovaImportanceEvaluator`): the fraction of the
    variance of the trials' scores relative to their own cell's best on the
    same task that a random forest attributes to this hyperparameter alone.
    0 = irrelevant, 1 = decides it.

    Args:
        family: Cell family (`all cells` for everything together).
        hparam: Hyperparameter name.
        importance: Main-effect fraction of variance, in [0, 1].
        low: Lowest importance over the fit on all trials and fits on random
            80% subsamples of them (each with its own forest seed).
        high: Highest.
        n: Completed trials used.
        levels: Distinct values (or bins) seen.
        best_level: The value with the highest mean relative score.
        spread: Highest minus lowest mean relative score over the values (0.1 =
            the worst value costs 10% of the cell's best score on average).
    """

    family: str
    hparam: str
    importance: float
    low: float | None
    high: float | None
    n: int
    levels: int
    best_level: str
    spread: float


@dataclass(frozen=True)
class CellCard:
    """What a report shows for one top cell.

    Args:
        cell: The cell's summary.
        equations: Its equations (None if its genome is unknown).
        nearest_zoo: The zoo cell whose equations are closest.
        distance: Line edit distance to that zoo cell (0 = the same cell; see
            `cards.line_distance`).
        diff: Unified diff of the equations, zoo cell -> this cell.
        genome_file: Path of the exported genome JSON, relative to the report.
        snippet: Copy-paste Keras code that loads the exported genome.
    """

    cell: CellSummary
    equations: str | None
    nearest_zoo: str | None
    distance: float | None
    diff: str
    genome_file: str | None
    snippet: str | None


@dataclass(frozen=True)
class Comparison:
    """One cell against a reference cell on one task (or on the score), with its evidence.

    Args:
        cell: The cell's label.
        fingerprint: Its fingerprint.
        task: Task name, or `score` for the min-over-tasks score.
        reference: Label of the cell compared against (the baseline, or
            another cell for the paper's claims).
        n: The cell's trials the test compared (min over tasks for `score`).
        reference_n: The reference's.
        ratio: The cell's best / the reference's best (> 1 = better).
        ratio_low: Lower end of the interval: the verdict's test inverted at its Holm level.
        ratio_high: Upper end (`inf` when unbounded).
        reliable: False with fewer than 5 trials (settings, if seeded) on a side.
        p_value: Two-sided p of `test` (None for `score` rows).
        p_holm: Holm-adjusted p over every test of the report (for `score`:
            the adjusted p that decided the verdict, None when tied).
        effect: P(a trial of the cell beats one of the reference); 0.5 = even.
        verdict: `better`, `worse`, `tied` or `baseline`.
        test: The test behind `p_value` (`stratified`, `cluster` or `trial`; see `stats.compare`).
    """

    cell: str
    fingerprint: str
    task: str
    reference: str
    n: int
    reference_n: int
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    reliable: bool
    p_value: float | None
    p_holm: float | None
    effect: float | None
    verdict: str
    test: str | None = None


@dataclass(frozen=True)
class ExpectedBest:
    """Expected best score after k = 1..n hyperparameter samples (Dodge et al. 2019).

    Args:
        cell: The cell's label.
        task: Task name.
        mode: `max` or `min`.
        curve: Element k-1 is the expected best of k samples.
    """

    cell: str
    task: str
    mode: str
    curve: tuple[float, ...]


@dataclass(frozen=True)
class NoiseSplit:
    """Training noise (across seeds) apart from the spread across hyperparameter samples.

    Args:
        cell: The cell's label.
        task: Task name.
        settings: Distinct hyperparameter settings tried.
        repeated: Settings trained with two or more seeds.
        seed_sd: Pooled standard deviation of the score across seeds of the
            same setting (None without repeated settings).
        hparam_sd: Standard deviation across settings of their mean score
            (None with fewer than two settings).
    """

    cell: str
    task: str
    settings: int
    repeated: int
    seed_sd: float | None
    hparam_sd: float | None


@dataclass(frozen=True)
class ClaimCheck:
    """One claim of Jozefowicz et al. (2015) checked against this report.

    Args:
        claim: The claim in words.
        verdict: `reproduced`, `contradicted` or `inconclusive`.
        evidence: The comparisons behind the verdict, in words with numbers.
    """

    claim: str
    verdict: str
    evidence: str


@dataclass(frozen=True)
class Findings:
    """What a report establishes, in words.

    Args:
        established: Significant differences from the baseline, one sentence each.
        not_established: Differences that are ties at this budget.
        claims: The paper's claims whose cells are present.
        notes: Caveats (small samples, omitted lines).
        confirmed: What confirmation on fresh seeds showed (test split).
        speed: Established differences in learning speed (steps to threshold).
    """

    established: tuple[str, ...] = ()
    not_established: tuple[str, ...] = ()
    claims: tuple[ClaimCheck, ...] = ()
    notes: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()
    speed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """A summarised set of runs, ready to render.

    Args:
        title: Report title.
        runs: The runs, in the order given.
        baseline: Name of the baseline cell the ratios refer to.
        baseline_fingerprint: Its fingerprint (None if not found).
        tasks: One summary per scored task.
        cells: All cells, in leaderboard order.
        failures: Failure groups, most frequent first.
        importance: Hyperparameter importance, per family and hyperparameter.
        cards: Cards of the top cells.
        genomes: Genome JSON text of the top cells, by fingerprint.
        trials: One row per trial (see `trials_frame`; hyperparameters as
            `hp.NAME`), plus `label`, `family`, `rel_cell` (score / the cell's
            best on the task) and `forget_bias` (the effective LSTM forget-gate
            bias; NaN for other cells).
        progress: Best-so-far per run and task, one row per completed trial.
        warnings: Problems met while reading or summarising.
        running: Trials still training, with their curves so far.
        created_at: When the report was made.
        comparisons: Every cell vs the baseline per task and on the score
            (`comparisons.csv`).
        pairs: Cell vs cell comparisons behind the paper's claims.
        expected: Expected best after k samples, per cell and task.
        noise: Seed noise vs hyperparameter spread, per cell and task.
        findings: The findings in words.
        importance_note: Why there are no importance numbers, if there are none.
        running: Trials still training, with their curves so far.
        confirmed: The Confirmed table (`archsearch.report.confirmed.ConfirmRow`):
            cells retrained on fresh seeds vs the baseline, test split.
        controls: Search vs random search (`archsearch.report.controls.ControlRow`),
            when the runs hold both.
        speed: Steps to each task's threshold, per cell against the baseline
            (`archsearch.report.speed.SpeedRow`), for cells with 2 or more
            completed trials on a task whose metric has a threshold.
    """

    title: str
    runs: tuple[RunInfo, ...]
    baseline: str
    baseline_fingerprint: str | None
    tasks: tuple[TaskSummary, ...]
    cells: tuple[CellSummary, ...]
    failures: tuple[FailureGroup, ...]
    importance: tuple[HparamEffect, ...]
    cards: tuple[CellCard, ...]
    genomes: Mapping[str, str]
    trials: pd.DataFrame
    progress: pd.DataFrame
    warnings: tuple[str, ...]
    created_at: datetime
    comparisons: tuple[Comparison, ...] = ()
    pairs: tuple[Comparison, ...] = ()
    expected: tuple[ExpectedBest, ...] = ()
    noise: tuple[NoiseSplit, ...] = ()
    findings: Findings = field(default_factory=Findings)
    importance_note: str | None = None
    running: tuple[RunningTrial, ...] = ()
    confirmed: tuple = ()
    controls: tuple = ()
    speed: tuple = ()

    def cell(self, key: str) -> CellSummary:
        """Returns the cell with this label, name or fingerprint (prefix)."""
        for c in self.cells:
            if key in (c.label, c.name, c.zoo_name, c.fingerprint):
                return c
        hits = [c for c in self.cells if c.fingerprint.startswith(key)]
        if len(hits) == 1:
            return hits[0]
        raise KeyError(f"no cell {key!r} in this report")
