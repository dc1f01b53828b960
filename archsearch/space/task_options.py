"""What a task's `options` may hold, checked when a search space is loaded.

The schema of each option is derived from the task itself: its name and
type from the default in the task's `options` (`archsearch.tasks`), its
range from the checks the task makes when it builds data (e.g. arithmetic's
`max_digits` in [1, 18]) and, failing that, from `limits`; string options
with a fixed set of values (classification's `pooling`) take only those. So a space that
passes `archsearch spaces check` never fails later in a worker because of an
option, and a task that gains an option is checked here without an edit
(integers then get the generic range [0, `MAX_EXAMPLES`]).

Example:
    >>> check_options("arithmetic", {"max_digits": 3})
    {'max_digits': 3}
    >>> try:
    ...     check_options("arithmetic", {"max_digits": 30})
    ... except PathError as err:
    ...     print(err.path, err)  # doctest: +NORMALIZE_WHITESPACE
    ('max_digits',) expected an integer in [1, 18] for option 'max_digits' of task
    'arithmetic'. Received: 30
"""

from __future__ import annotations

import math
from typing import Any

from archsearch.space.cells import PathError
from archsearch.space.limits import MAX_EXAMPLES, MAX_SEQ_LEN

__all__ = ["FLOAT_RANGES", "INT_RANGES", "check_options", "option_defaults", "string_choices"]

#: (task, option) or option -> inclusive integer range; mirrors the tasks' own checks.
INT_RANGES: dict[tuple[str, str] | str, tuple[int, int]] = {
    "num_examples": (1, MAX_EXAMPLES),
    ("memorization", "length"): (1, MAX_SEQ_LEN // 2),
    ("memorization", "alphabet_size"): (1, 26),
    ("arithmetic", "max_digits"): (1, 18),
    ("arithmetic", "max_distractors"): (0, 1_000),
    ("xml", "max_iterations"): (1, 10_000),
    ("word_lm", "vocab_size"): (3, 1_000_000),
    "vocab_size": (2, 1_000_000),
    ("music", "resolution"): (1, 16),
    ("reber", "num_chunks"): (1, 1_000_000),
    ("reber", "eval_chunks"): (1, 1_000_000),
    ("adding", "length"): (2, MAX_SEQ_LEN),
    ("copy", "delay"): (1, MAX_SEQ_LEN),
    ("copy", "length"): (1, MAX_SEQ_LEN // 4),
    ("copy", "alphabet_size"): (1, 26),
}
#: (task, option) -> range of a number option, the low end exclusive; others are any finite number.
FLOAT_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("adding", "solved_below"): (0.0, 2.0),
}
#: Longest string option (paths such as ptb's `data_dir`).
MAX_STRING = 4096


def option_defaults(task: str) -> dict[str, Any] | None:
    """The task's options and their defaults, or `None` if tasks cannot be imported."""
    try:
        from archsearch import tasks

        return dict(tasks.get(task).options)
    except Exception:  # noqa: BLE001 - tasks is optional here; options are then unchecked
        return None


def string_choices(task: str, key: str) -> tuple[str, ...] | None:
    """The values a string option may take, or `None` for free text (paths).

    Read from the task modules' own tables (classification's `POOLINGS`), so
    the check here and the task's own check at data-building time agree.

    Example:
        >>> string_choices("sentiment", "pooling")
        ('last', 'attention')
    """
    if key == "pooling":  # the classification tasks (sentiment, trec)
        from archsearch.tasks.classification import POOLINGS

        return tuple(POOLINGS)
    return None


def _int_range(task: str, key: str) -> tuple[int, int]:
    return INT_RANGES.get((task, key)) or INT_RANGES.get(key) or (0, MAX_EXAMPLES)


def _check(task: str, key: str, default: Any, value: Any) -> Any:
    where = f"option {key!r} of task {task!r}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise PathError((key,), f"expected true or false for {where}. Received: {value!r}")
    elif isinstance(default, int):
        low, high = _int_range(task, key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise PathError((key,), f"expected an integer in [{low}, {high}] for {where}. "
                                    f"Received: {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise PathError((key,), f"expected a finite number for {where}. "
                                    f"Received: {value!r}")
        low, high = FLOAT_RANGES.get((task, key), (-math.inf, math.inf))
        if not low < value <= high:
            raise PathError((key,), f"expected a number in ({low:g}, {high:g}] for {where}. "
                                    f"Received: {value!r}")
    elif default is None or isinstance(default, str):
        if not (value is None and default is None) and not isinstance(value, str):
            raise PathError((key,), f"expected a string for {where}. Received: {value!r}")
        if isinstance(value, str) and not 0 < len(value) <= MAX_STRING:
            raise PathError((key,), f"expected a string of 1 to {MAX_STRING} characters "
                                    f"for {where}. Received: {len(value)} characters")
        choices = string_choices(task, key) if isinstance(value, str) else None
        if choices is not None and value not in choices:
            raise PathError((key,), f"expected one of {', '.join(choices)} for {where}. "
                                    f"Received: {value!r}")
    return value


def check_options(task: str, options: dict[str, Any]) -> dict[str, Any]:
    """Checks `options` of `task` against the option schema; returns them.

    Args:
        task: A registered task name.
        options: Option name -> value, as read from the space file.

    Returns:
        `options`, unchanged.

    Raises:
        PathError: an unknown option, or a value of the wrong type or out of
            range; its path is the option's key.
    """
    defaults = option_defaults(task)
    if defaults is None:
        return options
    for key, value in options.items():
        if key not in defaults:
            raise PathError((key,), f"unknown option for task {task!r}; expected one of: "
                                    f"{', '.join(defaults) or 'none'}")
        _check(task, key, defaults[key], value)
    return options
