"""Confirmation: the search's best cells retrained on seeds the search never used.

The best of many noisy draws is optimistic (the winner's curse), so a cell
chosen by its search score is not evidence that it is better. Confirmation
retrains, after the search, the `top` best distinct cells by search score,
plus the baseline and the seed cells as controls, with `seeds` fresh seeds
(no search trial used them), on every scoring task (roles `search` and
`report`), with the hyperparameters each cell won with on that task (its best
search trial's; the best on any scoring task where it has none). Cells and
hyperparameters are chosen on the validation split only; the report takes
the confirmed numbers from the test split.

Confirmation trials are ordinary trials run through the same executor
(populations, lease, write-once records), recorded with `phase: confirm`.
Their seeds come from a range search seeds never reach (`CONFIRM_SEEDS`).
Their ids are derived from what they train (`c` + a hash of cell, task, seed
and hyperparameters), so a resumed confirmation reruns exactly the trials
without a record, and a search's own numeric ids never collide with them.

Example:
    >>> trial_id({"cell": "0" * 32, "task": "arithmetic", "seed": 7, "lr": 0.1})
    'c9dfae0eb35fea6a7'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import statistics

import keras_tuner

from archsearch.search.oracles.base import TRIAL_KEYS
from archsearch.search.oracles.trials import IDLE, RUNNING, STOPPED, LeanTrials, new_trial

__all__ = ["CONFIRM_SEEDS", "ConfirmOracle", "Plan", "plan_confirmation", "trial_id"]

#: First confirmation seed. Search seeds count up from the space's seed, so a
#: range this far away is never theirs (any that is, is skipped), and a search
#: extended later keeps the confirmation's seeds: its trials keep their ids.
CONFIRM_SEEDS = 1_000_000


def trial_id(values: dict) -> str:
    """The id of a confirmation trial: `c` + 16 hex digits of its content."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return "c" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass
class Plan:
    """What a confirmation retrains.

    Attributes:
        cells: `(fingerprint, role, search score)` per cell, best first;
            role `top`, `baseline` or `seed`.
        seeds: The fresh seeds (shared by every cell: paired by seed).
        tasks: The scoring tasks.
        trials: Trial values (as an oracle trial holds them), each with its
            `trial_id`.
        genomes: Fingerprint -> genome dict of the planned cells.
        skipped: One line per cell that could not be planned (no record).
        seconds_per_trial: Median seconds of the search's trials (None if
            unknown), for the budget estimate.
    """

    cells: list[tuple[str, str, float | None]]
    seeds: list[int]
    tasks: list[str]
    trials: list[dict]
    genomes: dict[str, dict]
    skipped: list[str]
    seconds_per_trial: float | None

    def describe(self, workers: int | None = None) -> str:
        """One line: the budget (trials, estimated time) before confirmation starts."""
        top = sum(1 for _, role, _ in self.cells if role == "top")
        controls = len(self.cells) - top
        line = (f"confirmation: {top} top cell(s) + {controls} control(s) x {len(self.tasks)} "
                f"task(s) x {len(self.seeds)} fresh seed(s) = {len(self.trials)} trials")
        if self.seconds_per_trial is not None:
            minutes = self.seconds_per_trial * len(self.trials) / max(1, workers or 1) / 60
            line += (f", about {minutes:.1f} min at this run's median "
                     f"{self.seconds_per_trial:.1f} s per trial")
        return line


def _best_by_task(records) -> dict[tuple[str, str], object]:
    """(fingerprint, task) -> the search record with the best objective."""
    best: dict[tuple[str, str], object] = {}
    for r in records:
        if r.objective is None:
            continue
        key = (r.fingerprint, r.task)
        if key not in best or r.objective > best[key].objective:
            best[key] = r
    return best


def plan_confirmation(space, scored: list, records, top: int, seeds: int) -> Plan:
    """The confirmation of a finished search.

    Args:
        space: The run's `SearchSpace`.
        scored: The search oracle's scored cells (`oracle.scored()`).
        records: The run's `RecordSummary`s (search phase only are used).
        top: Cells to confirm, best search score first.
        seeds: Fresh seeds per cell and task.
    """
    search = [r for r in records if r.phase == "search"]
    tasks = [t.name for t in space.tasks if t.role in ("search", "report")]
    roles = {t.name: t.role for t in space.tasks}
    chosen: dict[str, tuple[str, float | None]] = {}
    for cell in sorted(scored, key=lambda c: (-c.score, c.fingerprint))[:top]:
        chosen[cell.fingerprint] = ("top", cell.score)
    score_of = {c.fingerprint: c.score for c in scored}
    baseline = space.baseline_genome()
    for role, genome in (("baseline", baseline), *(("seed", g) for g in space.seed_genomes())):
        chosen.setdefault(genome.fingerprint(), (role, score_of.get(genome.fingerprint())))
    used = {r.seed for r in search if r.seed is not None}
    fresh = [s for s in range(CONFIRM_SEEDS, CONFIRM_SEEDS + seeds + len(used)) if s not in used]
    fresh = fresh[:seeds]
    best = _best_by_task(search)
    genomes = {r.fingerprint: r.genome for r in search if r.genome}
    genomes.update({g.fingerprint(): g.to_dict() for g in [baseline, *space.seed_genomes()]})
    trials, skipped, cells = [], [], []
    for fp, (role, score) in chosen.items():
        wins = [best[(fp, t)] for t in tasks if (fp, t) in best]
        if not wins or fp not in genomes:
            skipped.append(f"{fp[:12]} ({role}): no successful search trial to take its "
                           f"hyperparameters from")
            continue
        cells.append((fp, role, score))
        overall = max(wins, key=lambda r: r.objective)
        for task in tasks:
            won = best.get((fp, task), overall)
            hparams = {k: v for k, v in won.hparams.items() if k not in TRIAL_KEYS}
            for seed in fresh:
                values = {"cell": fp, "task": task, "stage": roles[task], "seed": seed,
                          "sample": won.sample, "phase": "confirm", **hparams}
                trials.append({**values, "trial_id": trial_id(values)})
    times = [r.seconds for r in search if r.seconds]
    return Plan(cells, fresh, tasks, trials, {fp: genomes[fp] for fp, _, _ in cells}, skipped,
                statistics.median(times) if times else None)


class ConfirmOracle(LeanTrials, keras_tuner.Oracle):
    """Hands out a `Plan`'s trials that have no record yet; keeps no state file.

    The records are its state: a trial whose record exists is done, so a
    resumed confirmation runs exactly the rest.

    Args:
        plan: The `Plan`.
        done: Ids of the plan's trials already recorded.
    """

    strategy = "confirm"

    def __init__(self, plan: Plan, done=()):
        super().__init__(objective=keras_tuner.Objective("score", "max"),
                         max_trials=len(plan.trials), max_consecutive_failed_trials=10**9)
        self._init_trials()
        self.plan, self.genomes, self.cells = plan, dict(plan.genomes), {}
        done = set(done)
        self.queue = [dict(t) for t in plan.trials if t["trial_id"] not in done]
        self.next_trial = len(plan.trials) - len(self.queue)

    def create_trial(self, tuner_id):
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        if self._retry_queue:
            trial = self.trials[self._retry_queue.pop()]
            trial.status = RUNNING
        elif self.queue:
            values = self.queue.pop(0)
            trial = new_trial(values.pop("trial_id"), values)
            self.next_trial += 1
            self.trials[trial.trial_id] = trial
        else:
            return new_trial("", {}, IDLE if self.ongoing_trials else STOPPED)
        self.ongoing_trials[tuner_id] = trial
        return trial

    def remaining_trials(self):
        """Plan trials not yet handed out."""
        return len(self.queue) + len(self._retry_queue)

    def in_flight(self) -> int:
        """Trials handed out and not yet ended."""
        return len(self.ongoing_trials)

    def on_trial_end(self, trial_id, values, objective) -> None:
        """Nothing to decide: the plan is fixed."""

    def save(self):
        """The records are the state (content-addressed ids): nothing to write."""

    def scored(self) -> list:
        """No search scores here (the progress view shows counts)."""
        return []
