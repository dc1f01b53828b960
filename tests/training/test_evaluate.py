import numpy as np
import pytest

from archsearch import tasks
from archsearch.tasks.metrics import MetricSums
from archsearch.training.evaluate import evaluate, joined_batches, predictor
from archsearch.training.hparams import resolve
from archsearch.training.model import build_model
from archsearch.zoo import get


def _logits_path(model, data, split, max_batches):
    """The reference: every logit back to numpy, reduced by `MetricSums.update`."""
    sums = MetricSums(data.output, data.metrics)
    for x, y, w in joined_batches(data, split, max_batches):
        sums.update(predictor(model)(x).numpy(), y, w)
    return sums.result()


@pytest.mark.parametrize("task,options", [
    ("arithmetic", {"max_digits": 2, "max_distractors": 1, "num_examples": 256}),
    ("trec", {}),
])
def test_compiled_evaluation_equals_the_logits_path(task, options):
    data = tasks.get(task).load(seed=0, batch_size=32, **options)
    hp = resolve({"units": 16, "optimizer": "adam", "learning_rate": 0.01})
    model = build_model(get("gru"), hp, data)[0]
    got = evaluate(model, data, "valid", max_batches=3)
    want = _logits_path(model, data, "valid", 3)
    assert set(got) == set(want)
    assert got == pytest.approx(want, rel=1e-5, abs=1e-6)
    assert np.isfinite(got["loss"]) and 0.0 <= got["accuracy"] <= 1.0
