"""Compatibility shims: every private name archsearch takes from a library.

One module per library (`keras`, `keras_tuner`, `ray`), each small, each name
imported by `tests/compat/test_compat.py`, with an upper version bound on the
library in `pyproject.toml`: an upgrade that moves or renames a private name
breaks here, in one place, and in that test. Everything else in archsearch
imports these names from here, never from `keras.src`, `keras_tuner.src` or
`ray._private`, and never touches an underscore attribute of a library object
directly. This package imports no library itself: import the submodule you
need.
"""
