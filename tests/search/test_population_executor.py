"""`resources.population` through the Ray executor: members recorded as if trained alone."""

import pytest

import archsearch
from archsearch import GenomeBuilder
from archsearch.search.executor import run_search

# One relu cell, three settings: lr 5.0 diverges (at step 2) whatever the
# batch; the others train. The fixed strategy draws each setting once.
SPACE = """\
name: population
seed: 0
max_trials: 3
baseline: gru
strategy: {{name: fixed, cells: [relu.json], hyperparameter_samples: 3}}
hyperparameters: {{units: [32], layers: [1], optimizer: [sgd], learning_rate: [5.0, 0.05, 0.02],
                  init_scale: [1.0], clip_norm: [1.0]}}
tasks:
  - {{name: arithmetic, budget: {{steps: 20, batch_size: 32}}, options: {{num_examples: 256}}}}
resources: {{cpus: 1, gpu: 0, population: {population}}}
"""


def _relu_cell():
    b = GenomeBuilder(("h",))
    return b.build({"h": b.relu(b.add(b.relu(b.linear("x", "h")), "h"))}, name="relu_everywhere")


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_a_population_records_each_member_like_its_solo_trial(tmp_path, ray_session,
                                                              read_records):
    (tmp_path / "relu.json").write_text(_relu_cell().to_json())
    runs = {}
    for population in ("none", 3):
        path = tmp_path / f"space_{population}.yaml"
        path.write_text(SPACE.format(population=population))
        space = archsearch.load_search_space(path)
        summary = run_search(space, str(tmp_path / f"run_{population}"), progress=False,
                             workers=1)
        assert summary.finished and summary.trials == 3
        runs[population] = read_records(tmp_path / f"run_{population}")

    solo, together = runs["none"], runs[3]
    assert sorted(solo) == sorted(together) == ["0", "1", "2"]
    for trial_id, alone in solo.items():
        member = together[trial_id]
        for key in ("hparams", "seed", "sample", "task", "cell", "status", "units", "params",
                    "score_metric", "failure"):
            assert member[key] == alone[key], (trial_id, key)
        assert member["timings"]["population_size"] == 3  # trained as one population
        assert "population_size" not in alone["timings"]
        if alone["status"] == "completed":  # (a failed solo trial records 0 steps,
            assert member["steps"] == alone["steps"]  # a failed member the step it failed at)
            assert member["score"] == pytest.approx(alone["score"], rel=1e-3, abs=1e-3)
            assert [p["step"] for p in member["curve"]] == [p["step"] for p in alone["curve"]]
    by_lr = {r["hparams"]["learning_rate"]: r for r in together.values()}
    assert by_lr[5.0]["status"] == "failed" and by_lr[5.0]["failure"].startswith("diverged")
    for lr in (0.05, 0.02):  # the diverging member did not take the others down
        assert by_lr[lr]["status"] == "completed" and by_lr[lr]["steps"] == 20
    assert not list((tmp_path / "run_3").glob("curves/**/*.json"))  # live curves removed


AUTO_SPACE = """\
name: population_auto
seed: 0
max_trials: 3
baseline: gru
strategy: {{name: fixed, cells: [gru], hyperparameter_samples: 3}}
hyperparameters: {{units: [32], num_layers: [1], optimizer: [adam],
                  learning_rate: [0.01, 0.02, 0.03], init_scale: [1.0], clip_norm: [5.0]}}
tasks:
  - name: arithmetic
    budget: {{steps: 10, batch_size: {batch}}}
    options: {{num_examples: 256, max_digits: 2, max_distractors: 1}}
resources: {{cpus: 1, gpu: 0, population: auto}}
"""


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_auto_populations_follow_the_task_table(tmp_path, ray_session, read_records):
    # Arithmetic's table has 40 rows, its examples 13 steps. With 32 rows a
    # batch (416 tokens) the table folds and 3 members of 32 units train
    # together (auto_k 8); with 2 rows (26 tokens) it does not, and the
    # worker, which knows the table, trains them one by one although the
    # driver batched them.
    sizes = {}
    for batch in (32, 2):
        path = tmp_path / f"space_{batch}.yaml"
        path.write_text(AUTO_SPACE.format(batch=batch))
        summary = run_search(archsearch.load_search_space(path), str(tmp_path / f"run_{batch}"),
                             progress=False, workers=1)
        assert summary.finished and summary.trials == 3
        records = read_records(tmp_path / f"run_{batch}")
        assert all(r["status"] == "completed" for r in records.values())
        sizes[batch] = sorted(r["timings"].get("population_size", 1) for r in records.values())
    assert sizes == {32: [3, 3, 3], 2: [1, 1, 1]}
