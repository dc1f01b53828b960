"""Training order depends on (seed, epoch) only, not on earlier passes over the data."""

import numpy as np

from archsearch import tasks


def _order(ds):
    return np.concatenate([x.numpy().reshape(len(x), -1)[:, :4] for x, _, _ in ds])


def test_epoch_order_is_a_function_of_seed_and_epoch():
    data = tasks.get("memorization").load(seed=3, num_examples=64, batch_size=8)
    first = [_order(data.train_epoch(e)) for e in range(3)]
    for _ in range(2):  # iterate the shared pipeline, as an earlier trial would
        list(data.train)
    again = [_order(data.train_epoch(e)) for e in range(3)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # a new order every epoch
    # A fresh load with the same seed gives the same orders.
    fresh = tasks.get("memorization").load(seed=3, num_examples=64, batch_size=8)
    np.testing.assert_array_equal(first[2], _order(fresh.train_epoch(2)))


def test_other_seed_other_order():
    a = tasks.get("memorization").load(seed=1, num_examples=64, batch_size=8)
    b = tasks.get("memorization").load(seed=2, num_examples=64, batch_size=8)
    assert not np.array_equal(_order(a.train_epoch(1)), _order(b.train_epoch(1)))


def test_reused_data_gives_the_same_trial():
    from archsearch.training import Budget, run_trial

    data = tasks.get("memorization").load(seed=0, num_examples=64, batch_size=8)
    hp = {"units": 8, "optimizer": "adam", "learning_rate": 0.01}
    budget = Budget(steps=20, eval_every=10)  # 8 batches per epoch: 3 epochs
    first = run_trial("gru", hp, "memorization", budget, seed=0, data=data)
    run_trial("lstm", hp, "memorization", budget, seed=5, data=data)  # another trial in between
    again = run_trial("gru", hp, "memorization", budget, seed=0, data=data)
    assert first.status == again.status == "completed"
    assert [p["train_loss"] for p in first.curve] == [p["train_loss"] for p in again.curve]


def test_an_epoch_is_every_row_once_in_full_batches():
    data = tasks.get("memorization").load(seed=0, num_examples=70, batch_size=8)
    rows = len(data.arrays["train"][0])
    batches = list(data.train_epoch(0))
    assert [len(x) for x, _, _ in batches] == [8] * (rows // 8)  # the partial batch dropped
    seen = np.concatenate([x.numpy() for x, _, _ in batches])
    order = [int(np.flatnonzero((data.arrays["train"][0] == r).all(axis=1))[0]) for r in seen]
    assert len(set(order)) == len(order)  # no row twice
    again = np.concatenate([x.numpy() for x, _, _ in data.train_epoch(0)])
    np.testing.assert_array_equal(seen, again)  # a second pass over epoch 0: the same order


def test_fewer_rows_than_a_batch_give_one_partial_batch():
    data = tasks.get("memorization").load(seed=0, num_examples=12, batch_size=64)
    rows = len(data.arrays["train"][0])
    assert rows < 64
    assert [len(x) for x, _, _ in data.train_epoch(3)] == [rows]


def test_a_stateful_task_yields_its_batches_in_order_every_epoch():
    data = tasks.get("xml").load(seed=0, num_examples=30, batch_size=4, seq_len=10)
    assert data.stateful
    want = data.arrays["train"][0]
    for epoch in (0, 1):
        got = np.stack([x.numpy() for x, _, _ in data.train_epoch(epoch)])
        np.testing.assert_array_equal(got, want)
