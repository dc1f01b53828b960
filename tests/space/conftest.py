"""Search-space tests build no Keras model, so they skip the Keras session reset.

The root conftest resets Keras after every test once Keras is imported; that
costs ~2 s per test on a loaded 2-core machine, which would make the ~400
malformed-space cases take minutes.
"""

import pytest


@pytest.fixture(autouse=True)
def _clear_keras_session():
    """Overrides the root fixture of the same name: nothing to reset here."""
    yield
