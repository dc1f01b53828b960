"""run_trial(on_eval=...): every evaluation is reported; a returned reason stops the trial."""

import json

from archsearch.training import Budget, run_trial

SMALL = {"num_examples": 256, "batch_size": 32}


def test_on_eval_sees_every_point_and_a_reason_stops_the_trial():
    seen = []

    def stop_at_second(point):
        seen.append(point)
        return "cut by the baseline's curve" if len(seen) == 2 else None

    result = run_trial("gru", {"units": 8}, "arithmetic", Budget(steps=50, eval_every=5),
                       seed=1, task_options=SMALL, on_eval=stop_at_second)
    assert result.status == "stopped"
    assert result.failure == "cut by the baseline's curve"
    assert [p["step"] for p in seen] == [5, 10] and result.steps == 10
    assert seen == result.curve  # the callback gets the curve points as recorded
    assert {"step", "seconds", "train_loss", "learning_rate", "valid_accuracy"} <= set(seen[0])
    # Final metrics are computed as usual, at the best evaluation.
    assert set(result.metrics) == {"valid", "test"} and result.score is not None
    json.dumps(result.to_dict())


def test_on_eval_returning_nothing_changes_nothing():
    kwargs = dict(hparams={"units": 8}, task="memorization", budget=Budget(steps=10, eval_every=5),
                  seed=2, task_options={"num_examples": 64})
    calls = []
    plain, hooked = run_trial("lstm", **kwargs), run_trial("lstm", on_eval=calls.append, **kwargs)
    assert hooked.status == plain.status == "completed" and len(calls) == 2
    assert hooked.metrics == plain.metrics and hooked.steps == plain.steps == 10


def test_a_raising_callback_fails_the_trial_with_its_message():
    def broken(point):
        raise RuntimeError("tune session gone")

    result = run_trial("gru", {"units": 8}, "memorization", Budget(steps=10, eval_every=5),
                       task_options={"num_examples": 64}, on_eval=broken)
    assert result.status == "failed" and "tune session gone" in result.failure


def test_trials_of_the_same_shapes_reuse_one_traced_step_and_match_fresh_models():
    from archsearch.training import compiled

    compiled.cache_clear()
    kwargs = dict(hparams={"units": 8, "optimizer": "adam", "learning_rate": 0.01},
                  task="memorization", budget=Budget(steps=10, eval_every=5),
                  task_options={"num_examples": 64})
    first = run_trial("gru", seed=3, **kwargs)
    assert compiled.cache_size() == 1
    (entry,) = compiled._CACHE.values()
    traces = entry.step.experimental_get_tracing_count()
    other = run_trial("gru", seed=4, **{**kwargs, "hparams": {**kwargs["hparams"],
                                                              "clip_norm": 0.1}})
    again = run_trial("gru", seed=3, **kwargs)
    assert compiled.cache_size() == 1 and entry.step.experimental_get_tracing_count() == traces
    # A reused model starts from the new trial's own weights with a fresh optimizer.
    assert again.metrics == first.metrics and again.curve[-1]["train_loss"] == \
        first.curve[-1]["train_loss"]
    assert other.curve[-1]["train_loss"] != first.curve[-1]["train_loss"]
    compiled.cache_clear()
    fresh = run_trial("gru", seed=3, **kwargs)  # a newly built and traced model
    assert fresh.metrics == first.metrics


def test_cells_that_differ_only_in_initial_values_share_one_step():
    # LSTM-b is the LSTM with forget bias 1: one traced step, and the kept
    # model takes LSTM-b's own initial weights (the bias of 1 included).
    from archsearch import zoo
    from archsearch.genome import Genome, Node
    from archsearch.training import compiled

    kwargs = dict(hparams={"units": 8, "optimizer": "adam", "learning_rate": 0.01},
                  task="memorization", budget=Budget(steps=10, eval_every=5), seed=2,
                  task_options={"num_examples": 64}, xla="off")
    compiled.cache_clear()
    fresh_b = run_trial("lstm_b", **kwargs)
    compiled.cache_clear()
    run_trial("lstm", **kwargs)
    shared_b = run_trial("lstm_b", **kwargs)
    assert compiled.cache_size() == 1
    assert shared_b.metrics == fresh_b.metrics
    assert [{k: v for k, v in p.items() if k != "seconds"} for p in shared_b.curve] == \
        [{k: v for k, v in p.items() if k != "seconds"} for p in fresh_b.curve]
    # The same cell with its nodes listed in another order lays out its
    # weights differently: its own step.
    lstm = zoo.get("lstm")
    order = [n for n in lstm.nodes if n.id == "f_pre"] + [
        n for n in lstm.nodes if n.id != "f_pre"]
    shuffled = Genome([Node(n.id, n.op, n.inputs, n.params) for n in order],
                      dict(zip(lstm.states, lstm.next_state, strict=True)), lstm.states,
                      lstm.output, "lstm_reordered")
    assert shuffled.fingerprint() == lstm.fingerprint()
    run_trial(shuffled, **kwargs)
    assert compiled.cache_size() == 2
    compiled.cache_clear()


def test_trials_on_given_data_do_not_depend_on_earlier_trials_in_the_process():
    # With `data` given (a worker's cached data), run_trial leaves TensorFlow's
    # global seed alone (setting it clears the kernel cache). Note: one
    # TaskData object reshuffles on every pass, so each run gets a fresh one.
    from archsearch import tasks

    def run(seed):
        return run_trial("lstm", {"units": 8}, "memorization", Budget(steps=10, eval_every=5),
                         seed=seed, data=tasks.get("memorization").load(seed=0, num_examples=64))

    a, b, c = run(3), run(4), run(3)
    assert a.status == b.status == c.status == "completed"
    assert a.curve[-1]["train_loss"] != b.curve[-1]["train_loss"]
    assert c.metrics == a.metrics
    assert [p["train_loss"] for p in c.curve] == [p["train_loss"] for p in a.curve]
