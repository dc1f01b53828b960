"""The task registry: names -> `Task` objects, and the table `archsearch tasks list` shows."""

from __future__ import annotations

from archsearch.tasks.adding import Adding
from archsearch.tasks.arithmetic import Arithmetic
from archsearch.tasks.base import Task, TaskError
from archsearch.tasks.classification import Sentiment, Trec
from archsearch.tasks.copy_memory import Copy
from archsearch.tasks.language_model import PTB, CharLM, WordLM
from archsearch.tasks.memorization import Memorization
from archsearch.tasks.music import Music
from archsearch.tasks.reber import Reber
from archsearch.tasks.xml_modelling import Xml

_REGISTRY: dict[str, Task] = {}


def register(task: Task, *, replace: bool = False) -> Task:
    """Adds a task under `task.name`; returns it.

    Raises:
        TaskError: the name is taken and `replace` is False.
    """
    if not isinstance(task, Task):
        raise TaskError(f"Expected a Task instance. Received: task={task!r}")
    if task.name in _REGISTRY and not replace:
        raise TaskError(f"A task named {task.name!r} is already registered.")
    _REGISTRY[task.name] = task
    return task


for _task in (
    Memorization(),
    Arithmetic(),
    Xml(),
    WordLM(),
    CharLM(),
    PTB(),
    Sentiment(),
    Trec(),
    Music(),
    Reber(),
    Adding(),
    Copy(),
):
    register(_task)


def names() -> tuple[str, ...]:
    """Names of the registered tasks, in registration order.

    Example:
    >>> import archsearch.tasks as tasks
    >>> tasks.names()[:3]
    ('memorization', 'arithmetic', 'xml')
    """
    return tuple(_REGISTRY)


def get(name: str) -> Task:
    """The task registered as `name`.

    Raises:
        TaskError: no such task; the message lists the known names.

    Example:
    >>> import archsearch.tasks as tasks
    >>> tasks.get("arithmetic").metrics
    ('accuracy', 'exact_match')
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise TaskError(
            f"Unknown task. Expected one of: {', '.join(_REGISTRY)}. Received: name={name!r}"
        ) from None


def describe() -> list[dict[str, str]]:
    """One row per task (keys name, kind, source, size, metric); loads no data."""
    return [task.describe() for task in _REGISTRY.values()]
