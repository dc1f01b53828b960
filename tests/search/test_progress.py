"""The progress line counts trials stopped early next to completed and failed ones."""

from types import SimpleNamespace

import pytest

import archsearch
from archsearch.search.oracles.cells import CellState
from archsearch.search.progress import SearchProgress, stopped_early


class FakeOracle:
    """What `SearchProgress` reads of an oracle: counts, a leader, the ended trials."""

    def __init__(self, ended=0, failed=0):
        self.end_order = ["x"] * ended
        self.failed = failed

    def counts(self):
        return len(self.end_order), self.failed

    def leader(self):
        return CellState("f" * 32, name="lstm", score=0.5)


def _trial(**result):
    return SimpleNamespace(last_result=result)


def test_a_stopped_trial_is_one_that_ended_on_a_curve_evaluation():
    assert stopped_early(_trial(progress=0.25, score=0.1, step=25))
    assert not stopped_early(_trial(score=0.9, failed=False))  # ran to its end
    assert not stopped_early(_trial(score=float("nan"), failed=True))
    assert not stopped_early(_trial())  # no result at all
    assert not stopped_early(SimpleNamespace())


def test_the_line_shows_stopped_next_to_running_and_failed(capsys):
    oracle = FakeOracle()
    view = SearchProgress(oracle, total=10, enabled=False)
    for _ in range(4):
        view.on_trial_start(0, [], None)
    endings = [("complete", _trial(score=0.9, failed=False)),
               ("complete", _trial(progress=0.25, score=0.1)),
               ("error", _trial(progress=0.5, score=0.2)),  # died mid-curve: failed
               ("complete", _trial(progress=0.5, score=0.3))]
    for kind, trial in endings:
        oracle.end_order.append(trial)
        oracle.failed += kind == "error"
        getattr(view, f"on_trial_{kind}")(0, [], trial)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" · ")[0] for line in lines] == [
        "trials 1/10 (3 running, 0 failed, 0 stopped)",
        "trials 2/10 (2 running, 0 failed, 1 stopped)",
        "trials 3/10 (1 running, 1 failed, 1 stopped)",
        "trials 4/10 (0 running, 1 failed, 2 stopped)"]
    assert lines[-1].split(" · ")[1] == "best lstm 0.500"


def test_in_a_log_the_view_is_a_line_now_and_then_and_at_the_end(capsys, monkeypatch):
    from archsearch.search import progress

    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    oracle = FakeOracle()
    with SearchProgress(oracle, total=5, enabled=True) as view:  # capsys: not a terminal
        assert view._live is None
        for at in (1.0, 2.0, 20.0, 40.0, 50.0):
            now[0] = at
            oracle.end_order.append("t")
            view.on_trial_complete(0, [], _trial(score=0.9, failed=False))
    lines = capsys.readouterr().err.splitlines()
    # The first ending (t = 1 s) prints, the next within LOG_EVERY (30 s) of it do not,
    # t = 40 s does, and the final count is printed on exit.
    assert [line.split(" · ")[0] for line in lines] == [
        "trials 1/5 (0 running, 0 failed, 0 stopped)",
        "trials 4/5 (0 running, 0 failed, 0 stopped)",
        "trials 5/5 (0 running, 0 failed, 0 stopped)"]


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_a_search_with_asha_counts_its_stopped_trial(
        tmp_path, ray_session, write_space, space_yaml, curve_trainer, capfd):
    from archsearch.search.executor import run_search

    curves = {"gru": [0.30, 0.50, 0.70, 0.90], "lstm": [0.35, 0.55, 0.75, 0.92],
              "tanh_rnn": [0.05, 0.05, 0.06, 0.05]}
    text = space_yaml(cells=("gru", "lstm", "tanh_rnn"),
                      tasks=("{name: memorization, budget: {steps: 100}}",))
    space = archsearch.load_search_space(write_space(text + "scheduler: asha\n"))
    summary = run_search(space, str(tmp_path / "run"), progress=False, workers=1,
                         trainer=curve_trainer(curves, pause=0.05))
    assert (summary.trials, summary.failed) == (3, 0)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("trials")]
    assert lines[-1].startswith("trials 3/3 (0 running, 0 failed, 1 stopped)")


def test_a_live_view_can_be_pickled_while_drawing(monkeypatch):
    """Each Tune run pickles its callbacks; the search starts runs while the view is live."""
    from ray import cloudpickle

    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws a live view as on a terminal

    with SearchProgress(FakeOracle(), total=10, enabled=True) as view:
        copy = cloudpickle.loads(cloudpickle.dumps(view))
    assert copy._live is None and copy.total == 10 and view._live is not None
