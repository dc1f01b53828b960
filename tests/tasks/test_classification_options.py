"""The classification tasks' `pooling` option: checked, and handed to the model builder."""

import pytest

from archsearch.tasks import TaskError, classification, get

TEXTS = tuple(f"review number {i} is {'good' if i % 2 else 'bad'}" for i in range(40))
LABELS = tuple(i % 2 for i in range(40))


@pytest.fixture
def synthetic_sentiment(monkeypatch):
    monkeypatch.setattr(classification, "sentiment_examples", lambda: (TEXTS, LABELS))
    return get("sentiment")


def test_pooling_defaults_to_last_and_reaches_the_data_info(synthetic_sentiment):
    assert synthetic_sentiment.prepare().info["pooling"] == "last"
    assert synthetic_sentiment.prepare(pooling="attention").info["pooling"] == "attention"
    assert get("trec").options["pooling"] == "last"


def test_unknown_pooling_is_refused(synthetic_sentiment):
    with pytest.raises(TaskError, match=r"expected pooling in \('last', 'attention'\)\. "
                                        r"Received: pooling='max'"):
        synthetic_sentiment.prepare(pooling="max")


def test_a_search_space_can_select_attention():
    from archsearch.space.task_options import check_options

    assert check_options("trec", {"pooling": "attention"}) == {"pooling": "attention"}
