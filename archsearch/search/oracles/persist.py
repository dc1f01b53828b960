"""`OracleState`: saving an oracle's small snapshot and restoring it from the records.

`save()` writes `oracle.json` (see `state.OracleSnapshot`): the queue, the
trials started and not ended, the cells being evaluated and the strategy's
lists. Its size does not depend on how many trials ran. `reload()` reads the
trial records back (per-cell results, bests, scores, counts) and lays the
snapshot over them; without a usable snapshot it rebuilds one from the
records alone and says so in a warning.
"""

from __future__ import annotations

import json
import logging
import warnings

from archsearch.genome import Genome
from archsearch.search.oracles.cells import CellState, CellStatus
from archsearch.search.oracles.state import (
    STATE_FILE,
    STATE_FORMAT,
    STATE_VERSION,
    TRIALS_DIR,
    load_snapshot,
    read_records,
)
from archsearch.search.oracles.trials import COMPLETED, FAILED, EndedTrial, new_trial

__all__ = ["OracleState"]

log = logging.getLogger("archsearch.search")
# Bookkeeping of a cell that the records give back (not saved).
# Origins evaluated without cuts, whatever the strategy.
_UNCUT_ORIGINS = ("seed", "baseline", "fixed", "reevaluation")


class OracleState:
    """Mixin of `ArchitectureOracle`: `get_state`/`set_state`/`save`/`reload`.

    Strategies add their own lists through the persistence hooks declared on
    `ArchitectureOracle` (`strategy_state`, `set_strategy_state`,
    `rebuild_strategy`).
    """

    # -- snapshot -----------------------------------------------------------------
    def get_state(self) -> dict:
        """The snapshot as JSON data (size independent of the number of trials)."""
        active = {fp: self.cells[fp].snapshot() for fp in sorted(self._active)}
        return {"format": STATE_FORMAT, "version": STATE_VERSION, "strategy": self.strategy,
                "next_trial": self.next_trial, "steps": self.steps,
                "seed_state": self._seed_state, "ended": len(self.end_order),
                "queue": self.queue, "pending": self.pending_trials(),
                "ongoing": {tuner: t.trial_id for tuner, t in self.ongoing_trials.items()},
                "retry_queue": list(self._retry_queue), "cells": active,
                "genomes": {fp: self.genomes[fp] for fp in active if fp in self.genomes},
                "strategy_state": self.strategy_state()}

    def set_state(self, state: dict, records=()) -> None:
        """Restores a validated snapshot over the ended trials in `records`."""
        self._restore(state, list(records))

    def save(self):
        """Writes the snapshot to the run directory (atomically), if there is one."""
        if self.storage is not None:  # compact: json's C encoder (an indent forces Python's)
            self.storage.write_text(STATE_FILE, json.dumps(self.get_state(), allow_nan=False,
                                                           separators=(",", ":")))

    def reload(self) -> bool:
        """Restores the state from the run directory; False if it holds nothing yet.

        An unusable `oracle.json` (missing, empty, not a v2 state of this
        strategy) is rebuilt from the trial records with a warning. Reading
        only: nothing is written until the next `save()`.
        """
        # Confirmation trials retrain chosen cells after the search: not the search's own.
        records = [r for r in read_records(self.storage) if r.phase == "search"]
        snapshot, why = load_snapshot(self.storage, self.strategy)
        if snapshot is not None:  # a snapshot ahead of the readable records is repaired
            pending = set(snapshot.pending)
            ended = sum(1 for r in records if r.trial_id not in pending)
            if ended < snapshot.ended:
                why = (f"{self.storage.path(STATE_FILE)}: counts {snapshot.ended} ended trials, "
                       f"but {ended} have readable records (a record was damaged or removed)")
                snapshot = None
        if snapshot is None and not records and why.endswith("missing"):
            return False
        if snapshot is None:
            message = (f"{why}; rebuilding the oracle's state from {len(records)} trial "
                       f"records (finished trials are kept; cells being evaluated count as "
                       f"done)")
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        self._restore(None if snapshot is None else snapshot.model_dump(mode="json"), records)
        return True  # writes nothing: the next `save()` replaces the file

    # -- restoring -----------------------------------------------------------------
    def _restore(self, snap: dict | None, records: list) -> None:
        pending = dict(snap["pending"]) if snap else {}
        # A record exists once its trial finished; the ones still pending in the
        # snapshot are ended by the executor (`reconcile`), as after any restart.
        ended = [r for r in records if r.trial_id not in pending]
        seen: dict[str, dict] = {}  # fingerprint -> first record, origins, last sequence
        for rec in ended:
            self._ingest(rec, seen)
        if snap:
            self.steps, self._seed_state = snap["steps"], snap["seed_state"]
            self.queue = [dict(v) for v in snap["queue"]]
            for fp, saved in snap["cells"].items():
                cell = self.cells.setdefault(fp, CellState(fp))
                cell.restore(saved)
                self._set_status(cell, cell.status)
            self.genomes.update(snap["genomes"])
            for trial_id, values in pending.items():
                self.trials[trial_id] = new_trial(trial_id, values)
            self.ongoing_trials = {tuner: self.trials[tid]
                                   for tuner, tid in snap["ongoing"].items()}
            self._retry_queue = list(snap["retry_queue"])
            if snap["ended"] != len(ended):
                log.warning("oracle state counts %d ended trials, the records %d",
                            snap["ended"], len(ended))
        else:
            seeds = [self._seed_index(r.seed) for r in records if r.seed is not None]
            self._seed_state = max([self._seed_state, *seeds])
            self.steps = len(ended) + len(self.cells)
        for fp, cell in self.cells.items():
            if cell.status == CellStatus.DONE:
                self._derive_cut(cell, seen.get(fp))
                self._rescore(cell)
        # The next id follows the readable records; a file no readable record
        # explains (damaged, foreign, a FIFO) only blocks its own id.
        files = [n[:-len(".json")] for n in self.storage.list_json(TRIALS_DIR)] \
            if self.storage is not None else []
        readable = {r.trial_id for r in records}
        self.taken_ids = {f for f in files if f not in readable}
        ids = [int(t) for t in [*pending, *readable] if t.isdigit()]
        self.next_trial = max([snap["next_trial"] if snap else 0, *(i + 1 for i in ids)])
        if snap:
            self.set_strategy_state(snap["strategy_state"])
        else:
            order = sorted((fp for fp in seen if self.cells[fp].status == CellStatus.DONE),
                           key=lambda fp: seen[fp]["last"])
            self.rebuild_strategy(order)
        self._restore_genomes(records)

    def _ingest(self, rec, seen: dict) -> None:
        """Adds one ended trial's record to its cell (created as done if new)."""
        cell = self.cells.get(rec.fingerprint)
        if cell is None:
            cell = self.cells[rec.fingerprint] = CellState(
                rec.fingerprint, rec.name, rec.parent, rec.origin)
        info = seen.setdefault(rec.fingerprint, {"first": rec, "origins": set()})
        info["origins"].add(rec.origin)
        info["last"] = len(self.end_order)
        cell.origin = rec.origin or cell.origin
        self._add_result(cell, rec.task, rec.objective)
        status = COMPLETED if rec.objective is not None else FAILED
        self.trials[rec.trial_id] = EndedTrial(rec.trial_id, status, rec.objective)
        self._count_end(rec.trial_id, status)

    def _derive_cut(self, cell: CellState, seen: dict | None) -> None:
        """A done cell evaluated with cuts that lacks a stage was cut after the last one."""
        if cell.stages is not None or seen is None:
            return  # restored from the snapshot
        cuts = self.apply_cuts and seen["first"].origin not in _UNCUT_ORIGINS \
            and "reevaluation" not in seen["origins"]
        stages = self.prefilter_stages + self.search_stages + self.report_stages
        missing = [t for t in stages if t not in cell.results]
        if not cuts or not missing:
            cell.cut = None
            return
        index = stages.index(missing[0])
        task = stages[index - 1] if index else None
        reason = self._cut_reason(cell, task) if task else None
        cell.cut = reason if reason not in (None, "wait") else \
            f"unfinished when the state was rebuilt (after {task or 'no stage'})"

    def _restore_genomes(self, records) -> None:
        needed = (self._active | self.kept() | {self.baseline_fp}) - set(self.genomes)
        known = {g.fingerprint(): g for g in [*self.space.seed_genomes(),
                                              self.space.baseline_genome()]}
        for rec in records:
            if rec.fingerprint in needed and rec.genome:
                self.genomes[rec.fingerprint] = rec.genome
                needed.discard(rec.fingerprint)
        for fp in needed:
            if fp in known:
                self.genomes[fp] = Genome.to_dict(known[fp])
