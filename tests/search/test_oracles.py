"""Strategies as KerasTuner oracles, driven by a fake trainer (no Ray, no training)."""

import pytest

import archsearch
from archsearch.search import (
    EvolutionOracle,
    FixedListOracle,
    RandomArchitectureOracle,
    RegularizedEvolutionOracle,
)

SPACE = """
name: unit
seed: {seed}
max_trials: {max_trials}
baseline: gru
seed_cells: [lstm, gru]
strategy: {strategy}
hyperparameters: {{units: [8], learning_rate: [0.1, 0.5, 1.0], layers: [1]}}
tasks:
  - {{name: memorization, role: prefilter, budget: {{steps: 5}}}}
  - {{name: arithmetic, budget: {{steps: 5}}}}
  - {{name: xml, budget: {{steps: 5}}}}
"""


def _space(tmp_path, strategy, max_trials=60, seed=0):
    path = tmp_path / "space.yaml"
    path.write_text(SPACE.format(strategy=strategy, max_trials=max_trials, seed=seed))
    return archsearch.load_search_space(path)


def fake_score(genome_dict, task, lr):
    """Deterministic pseudo-accuracy: depends on the cell, the task and the lr."""
    fp = archsearch.Genome.from_dict(genome_dict).fingerprint()
    base = int(fp[:6], 16) / 0xFFFFFF
    return {"memorization": 0.9 + 0.1 * base, "arithmetic": 0.5 + 0.3 * base,
            "xml": 0.4 + 0.2 * base}[task] * (0.9 + 0.1 * lr)


def drive(oracle, fail=lambda values: False, limit=10_000):
    """Runs the oracle to the end sequentially; returns the trials' values in order."""
    order = []
    for k in range(limit):
        trial = oracle.create_trial(f"w{k}")
        if trial.status == "STOPPED":
            return order
        assert trial.status == "RUNNING", "a sequential driver never waits"
        values = dict(trial.hyperparameters.values)
        order.append(values)
        if fail(values):
            trial.status = "FAILED"
        else:
            genome = oracle.genomes[values["cell"]]
            score = fake_score(genome, values["task"], values["learning_rate"])
            oracle.update_trial(trial.trial_id, {"score": score})
            trial.status = "COMPLETED"
        oracle.end_trial(trial)
    raise AssertionError("oracle never stopped")


def test_fixed_list_trains_every_cell_on_every_task(tmp_path):
    space = _space(tmp_path, "{name: fixed, cells: [lstm, lstm_b, gru], "
                             "hyperparameter_samples: 2}")
    order = drive(FixedListOracle(space))
    cells = {v["cell"] for v in order}
    assert len(cells) == 3
    # 3 cells x 2 samples x 3 tasks, no cut (ablations train everything).
    assert len(order) == 18
    for fp in cells:
        assert sorted(v["task"] for v in order if v["cell"] == fp) == \
            ["arithmetic"] * 2 + ["memorization"] * 2 + ["xml"] * 2


def test_same_seed_same_trial_order_other_seed_differs(tmp_path):
    strategy = "{name: evolution, top_n: 5, hyperparameter_samples: 2}"
    first = drive(EvolutionOracle(_space(tmp_path, strategy, seed=1)))
    again = drive(EvolutionOracle(_space(tmp_path, strategy, seed=1)))
    other = drive(EvolutionOracle(_space(tmp_path, strategy, seed=2)))
    assert first == again
    assert first != other


def test_evolution_dedups_prefilters_cuts_and_keeps_top_n(tmp_path):
    space = _space(tmp_path, "{name: evolution, top_n: 3, hyperparameter_samples: 2, "
                             "reevaluate_probability: 0.2}", max_trials=80)
    oracle = EvolutionOracle(space)
    order = drive(oracle)
    assert len(order) == 80
    mutants = [c for c in oracle.cells.values() if c.origin == "mutation"]
    assert mutants, "evolution mutated nothing"
    # Deduplicated: each fingerprint is one cell; mutants start with the prefilter.
    for cell in mutants:
        tasks = [v["task"] for v in order if v["cell"] == cell.fingerprint]
        assert tasks[0] == "memorization"
        if (cell.cut or "").startswith("below 0.95"):
            assert set(tasks) == {"memorization"}
    # The GRU baseline (also a seed) was trained on the search tasks only, without cuts.
    baseline = oracle.cells[oracle.baseline_fp]
    assert set(baseline.results) == {"arithmetic", "xml"}
    assert len(oracle.top) <= 3
    scores = [oracle.score(fp) for fp in oracle.top]
    assert scores == sorted(scores, reverse=True)
    # Score = min over search tasks of best / baseline best.
    for fp in oracle.top:
        ratios = [oracle.best(fp, t) / oracle.best(oracle.baseline_fp, t)
                  for t in ("arithmetic", "xml")]
        assert oracle.score(fp) == pytest.approx(min(ratios))


def test_failed_trials_never_stop_the_search(tmp_path):
    space = _space(tmp_path, "{name: fixed, cells: [lstm, gru], hyperparameter_samples: 1}")
    oracle = FixedListOracle(space)
    order = drive(oracle, fail=lambda v: v["task"] == "xml")
    assert len(order) == 6
    failed = [t for t in oracle.trials.values() if t.status == "FAILED"]
    assert len(failed) == 2


def test_regularized_evolution_ages_out_the_oldest(tmp_path):
    space = _space(tmp_path, "{name: regularized_evolution, population: 4, sample_size: 2}",
                   max_trials=70)
    oracle = RegularizedEvolutionOracle(space)
    drive(oracle)
    assert len(oracle.population) == 4
    children = [fp for fp, c in oracle.cells.items() if c.origin == "mutation"
                and c.status == "done"]
    assert oracle.population == children[-4:]


def test_random_search_chains_mutations_from_seeds(tmp_path):
    space = _space(tmp_path, "{name: random, mutations: 3}", max_trials=40)
    oracle = RandomArchitectureOracle(space)
    drive(oracle)
    seeds = {g.fingerprint() for g in space.seed_genomes()}
    mutants = [c for c in oracle.cells.values() if c.origin == "mutation"]
    assert mutants and all(c.parent in seeds for c in mutants)


def test_fixed_list_gives_every_cell_the_same_samples_and_seeds(tmp_path):
    space = _space(tmp_path, "{name: fixed, cells: [lstm, lstm_b, gru], "
                             "hyperparameter_samples: 3}")
    order = drive(FixedListOracle(space))
    by_cell: dict = {}
    for v in order:
        key = (v["task"], v["sample"], v["seed"], v["learning_rate"])
        by_cell.setdefault(v["cell"], []).append(key)
    settings = [sorted(keys) for keys in by_cell.values()]
    assert len(settings) == 3 and settings[0] == settings[1] == settings[2]
    # Three samples from a three-value grid: each value once, per task.
    for task in ("memorization", "arithmetic", "xml"):
        lrs = sorted(k[3] for k in settings[0] if k[0] == task)
        assert lrs == [0.1, 0.5, 1.0]
        assert sorted(k[1] for k in settings[0] if k[0] == task) == [1, 2, 3]
    seeds = [k[2] for k in settings[0]]
    assert len(set(seeds)) == len(seeds), "a seed reused across samples or tasks"
    # Deterministic by search seed; another seed draws another order of the grid.
    again = drive(FixedListOracle(_space(tmp_path, "{name: fixed, cells: [lstm, lstm_b, gru], "
                                                   "hyperparameter_samples: 3}")))
    assert again == order


def test_a_strategy_chooses_a_stages_trials_by_overriding_one_hook(tmp_path):
    class TwoTrials(RandomArchitectureOracle):
        def stage_trials(self, cell, task):
            return [({"learning_rate": 0.5}, 7, 11), ({"learning_rate": 1.0}, 8, 12)]

    oracle = TwoTrials(_space(tmp_path, "{name: random, mutations: 1}"))
    genome = oracle.space.baseline_genome()
    assert oracle.evaluate(genome, "baseline", stages=["xml"], cuts=False)
    fp = genome.fingerprint()
    assert oracle.queue == [
        {"learning_rate": 0.5, "cell": fp, "task": "xml", "stage": "search", "sample": 7,
         "seed": 11},
        {"learning_rate": 1.0, "cell": fp, "task": "xml", "stage": "search", "sample": 8,
         "seed": 12}]
    assert oracle.cells[fp].pending == 2
