"""Confirmation: the best cells retrained on fresh seeds, through the same executor."""

import hashlib
import json
from pathlib import Path

import pytest

import archsearch
from archsearch.search.confirm import CONFIRM_SEEDS, ConfirmOracle, plan_confirmation, trial_id
from archsearch.search.oracles.cells import CellState
from archsearch.search.oracles.state import RecordSummary

REPO = Path(__file__).resolve().parents[2]
SPACE = REPO / "search_spaces" / "evolution_cpu.yaml"


def _summary(tid, fp, task, objective, seed, lr, sample=0, phase="search", genome=None):
    return RecordSummary(str(tid), f"2026-01-01T00:00:{int(tid) % 60:02d}", objective, task,
                         "search", seed, fp, genome or {"name": fp[:4]}, None, None, None,
                         {"learning_rate": lr, "units": 32}, phase, sample, 10.0)


def test_the_plan_takes_the_top_cells_controls_fresh_seeds_and_winning_hyperparameters():
    space = archsearch.load_search_space(SPACE)
    baseline = space.baseline_genome().fingerprint()
    lstm = [g for g in space.seed_genomes() if g.name == "lstm"][0].fingerprint()
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    records = [_summary(0, a, "arithmetic", 0.5, 0, 0.1), _summary(1, a, "arithmetic", 0.7, 1, 0.3),
               _summary(2, b, "arithmetic", 0.6, 2, 0.2), _summary(3, c, "arithmetic", 0.4, 3, 0.1),
               _summary(4, baseline, "arithmetic", 0.6, 4, 0.2)]
    scored = [CellState(a, score=1.2), CellState(b, score=1.0), CellState(c, score=0.7),
              CellState(baseline, score=1.0)]
    plan = plan_confirmation(space, scored, records, top=2, seeds=3)
    assert [(fp, role) for fp, role, _ in plan.cells] == [(a, "top"), (b, "top"),
                                                           (baseline, "baseline")]
    assert any(lstm[:12] in line for line in plan.skipped)  # never ran: nothing to retrain
    assert plan.seeds == [CONFIRM_SEEDS, CONFIRM_SEEDS + 1, CONFIRM_SEEDS + 2]
    assert len(plan.trials) == 3 * 1 * 3
    a_trials = [t for t in plan.trials if t["cell"] == a]
    assert {t["learning_rate"] for t in a_trials} == {0.3}  # the hyperparameters it won with
    assert all(t["phase"] == "confirm" and t["trial_id"].startswith("c") for t in plan.trials)
    again = plan_confirmation(space, scored, records, top=2, seeds=3)
    assert [t["trial_id"] for t in again.trials] == [t["trial_id"] for t in plan.trials]
    assert len({t["trial_id"] for t in plan.trials}) == len(plan.trials)
    assert "3 trials" not in plan.describe() and "9 trials" in plan.describe(workers=2)


def test_a_trial_id_is_its_content():
    values = {"cell": "0" * 32, "task": "t", "seed": 1, "learning_rate": 0.1}
    assert trial_id(values) == trial_id(dict(reversed(values.items())))
    assert trial_id(values) != trial_id({**values, "seed": 2})


def test_the_confirm_oracle_hands_out_what_has_no_record_and_stops():
    space = archsearch.load_search_space(SPACE)
    baseline = space.baseline_genome().fingerprint()
    records = [_summary(0, baseline, "arithmetic", 0.6, 0, 0.2)]
    plan = plan_confirmation(space, [CellState(baseline, score=1.0)], records, 1, 3)
    oracle = ConfirmOracle(plan, done={plan.trials[0]["trial_id"]})
    got = [oracle.create_trial(f"t{k}") for k in range(3)]
    assert [t.status for t in got] == ["RUNNING", "RUNNING", "IDLE"]
    assert {t.trial_id for t in got[:2]} == {t["trial_id"] for t in plan.trials[1:]}
    assert got[0].hyperparameters.values["phase"] == "confirm"
    oracle.ongoing_trials.clear()
    assert oracle.create_trial("t9").status == "STOPPED"


def _digests(run_dir):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (Path(run_dir) / "trials").glob("*.json")}


@pytest.mark.xdist_group("ray")
def test_a_space_with_confirm_retrains_its_best_cells_after_the_search(
        tmp_path, ray_session, read_records):
    from archsearch.search.executor import run_confirm, run_search

    path = tmp_path / "space.yaml"
    path.write_text(SPACE.read_text() + "\nconfirm: {top: 3, seeds: 3}\n")
    space = archsearch.load_search_space(path)
    run_dir = tmp_path / "run"
    said = []
    summary = run_search(space, run_dir, progress=False, simulate=True, max_trials=60,
                         say=said.append)
    records = read_records(run_dir)
    confirm = [r for r in records.values() if r["phase"] == "confirm"]
    search = [r for r in records.values() if r["phase"] == "search"]
    assert len(search) == 60 and summary.confirmed == len(confirm) > 0
    assert any(line.startswith("confirmation: 3 top cell(s)") for line in said)
    assert {r["seed"] for r in confirm}.isdisjoint({r["seed"] for r in search})
    cells = {r["cell"]["fingerprint"] for r in confirm}
    assert space.baseline_genome().fingerprint() in cells and len(cells) >= 3
    before = _digests(run_dir)
    # Resuming reruns nothing; the search goes on past its confirmation trials.
    again = run_search(space, run_dir, progress=False, simulate=True, max_trials=70)
    after = _digests(run_dir)
    assert all(after[name] == digest for name, digest in before.items())
    assert sum(1 for r in read_records(run_dir).values() if r["phase"] == "search") == 70
    assert again.finished
    # The same for an existing run: more cells, the recorded ones kept.
    ran = run_confirm(space, run_dir, top=5, seeds=3, progress=False, simulate=True)
    final = read_records(run_dir)
    assert ran > 0 and all(_digests(run_dir)[n] == d for n, d in after.items())
    assert len({r["cell"]["fingerprint"] for r in final.values() if r["phase"] == "confirm"}) \
        >= 5
    assert run_confirm(space, run_dir, top=5, seeds=3, progress=False, simulate=True) == 0
    assert json.loads((run_dir / "run.json").read_text())["space"]["confirm"] == \
        {"top": 3, "seeds": 3}
