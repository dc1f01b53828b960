"""population_groups / auto_k: which trials may share a population, and how many."""

import pytest

from archsearch import zoo
from archsearch.training.grouping import auto_k, population_groups


def _config(i, genome="gru", task="xml", **hparams):
    return {"trial_id": str(i), "task": task, "genome": genome,
            "hparams": {"units": 32, **hparams}}


def test_auto_k_follows_the_measured_crossover():
    assert [auto_k(u) for u in (8, 32, 64, 65, 128, 129, 256, 1024)] == [8, 8, 4, 2, 2, 1, 1, 1]
    assert auto_k(None) == 1


def test_auto_k_reads_the_table():
    # A table that folds (fewer rows than a batch has tokens) gets the
    # measured K; one that does not fold trains one by one at every size.
    assert [auto_k(u, vocab_size=40, tokens=416) for u in (32, 64, 128, 256)] == [8, 4, 2, 1]
    assert [auto_k(u, vocab_size=7360, tokens=1184) for u in (32, 64, 128)] == [1, 1, 1]
    assert auto_k(32, vocab_size=416, tokens=416) == 1  # as many rows as tokens
    assert auto_k(32, vocab_size=40, tokens=None) == 1  # tokens unknown: no fold to count on
    with pytest.raises(ValueError, match="Received: units=0"):
        auto_k(0)


def test_groups_split_on_every_shared_key_and_keep_order():
    configs = [_config(0, learning_rate=0.1), _config(1, learning_rate=0.2, clip_norm=1.0),
               _config(2, genome="lstm"), _config(3, task="arithmetic"),
               _config(4, units=64), _config(5, num_layers=2), _config(6, optimizer="adam"),
               _config(7, init_scale=2.0, forget_bias=1.0), _config(8, dropout=0.1),
               _config(9, dropout=0.1)]
    groups = population_groups(configs, max_k=4)
    assert [[c["trial_id"] for c in g] for g in groups] == [
        ["0", "1", "7"], ["2"], ["3"], ["4"], ["5"], ["6"], ["8"], ["9"]]


def test_max_k_caps_groups_and_auto_k_is_the_default():
    configs = [_config(i, learning_rate=0.01 * (i + 1)) for i in range(20)]
    assert [len(g) for g in population_groups(configs, max_k=8)] == [8, 8, 4]
    assert [len(g) for g in population_groups(configs)] == [8, 8, 4]  # auto_k(32) == 8
    big = [_config(i, units=256) for i in range(3)]
    assert [len(g) for g in population_groups(big)] == [1, 1, 1]
    with pytest.raises(ValueError, match="Received: max_k=0"):
        population_groups(configs, max_k=0)


def test_task_options_and_budget_come_from_the_config_or_the_plan():
    a, b = _config(0), _config(1)
    plan = {"xml": {"options": {"num_examples": 100}, "budget": {"steps": 10}}}
    assert len(population_groups([a, b], 4, plan)) == 1
    b_other = {**b, "budget": {"steps": 20}}
    assert len(population_groups([a, b_other], 4, plan)) == 2
    # The cell is identified by fingerprint, however it is given.
    c = {**_config(2), "genome": zoo.get("gru").to_json()}
    d = {**_config(3), "fingerprint": zoo.get("gru").fingerprint()}
    assert len(population_groups([a, c, d], 4)) == 1
