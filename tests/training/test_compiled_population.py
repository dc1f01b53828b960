"""Kept populations: a later population of the same shapes trains as a fresh one would."""

import pytest

from archsearch.training import Budget, compiled_population
from archsearch.training.population import run_population

SMALL = {"num_examples": 256, "batch_size": 32}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_later_population_of_the_same_shapes_reuses_the_traced_one_as_if_fresh(
        optimizer):
    compiled_population.cache_clear()
    budget = Budget(steps=20, eval_every=10)
    first = [{"units": 16, "optimizer": optimizer, "learning_rate": 0.5, "clip_norm": 1e-3},
             {"units": 16, "optimizer": optimizer, "learning_rate": 0.2, "clip_norm": 2e-3}]
    run_population("gru", first, "arithmetic", budget, seeds=[5, 6], task_options=SMALL)
    (entry,) = compiled_population.cached()
    # Other learning rates, clip norms and seeds: nothing of the first may carry over
    # (weights, Adam's moments, clip norms, best weights, step count).
    later = [{"units": 16, "optimizer": optimizer, "learning_rate": 0.05, "clip_norm": 5.0},
             {"units": 16, "optimizer": optimizer, "learning_rate": 0.3, "clip_norm": 1.0}]
    members = run_population("gru", later, "arithmetic", budget, seeds=[1, 2],
                             task_options=SMALL)
    assert compiled_population.cached() == [entry]  # the same traced functions
    compiled_population.cache_clear()
    fresh = run_population("gru", later, "arithmetic", budget, seeds=[1, 2], task_options=SMALL)
    for member, alone in zip(members, fresh, strict=True):
        for got, want in zip(member.curve, alone.curve, strict=True):
            assert {**got, "seconds": 0} == {**want, "seconds": 0}
        assert member.metrics == alone.metrics


def test_member_chunks_cover_the_split_once_with_k_members_logits_bounded(monkeypatch):
    import numpy as np

    from archsearch import tasks
    from archsearch.training import evaluate

    data = tasks.get("memorization").load(seed=0, num_examples=64, batch_size=8)
    whole = [np.concatenate(parts) for parts in zip(*evaluate.joined_batches(data, "valid", None),
                                                    strict=True)]
    steps = whole[0].shape[1]
    monkeypatch.setattr(evaluate, "MAX_CHUNK_LOGITS", 3 * 4 * steps * data.num_outputs)
    chunks = compiled_population.member_chunks(data, "valid", None, k=4)
    assert max(len(x) for x, _, _ in chunks) == 3  # 4 members x 3 rows fill the bound
    for got, want in zip(zip(*chunks, strict=True), whole, strict=True):
        np.testing.assert_array_equal(np.concatenate(got), want)
