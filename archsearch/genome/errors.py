"""The one exception the genome package raises."""

from __future__ import annotations

__all__ = ["GenomeError"]


class GenomeError(ValueError):
    """A genome (or its JSON) is malformed.

    The message names the node or JSON field at fault and what was expected.
    It is a `ValueError`, so code that already guards against bad values keeps
    working.
    """
