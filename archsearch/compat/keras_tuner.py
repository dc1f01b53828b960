"""KerasTuner's private names used by archsearch, in one place (keras-tuner 1.4, < 1.5).

KerasTuner's `Oracle` keeps a queue of trial ids to run again (`_retry_queue`,
read by `create_trial`) and its storage location (`_set_project_dir`, which
the `Tuner` calls); archsearch drives oracles without a `Tuner`, so it sets
both itself. The executor uses these on archsearch's own oracles (which keep
the same attribute) and on KerasTuner's built-in ones.

Example:
    >>> import os, tempfile, keras_tuner
    >>> oracle = keras_tuner.Oracle(objective=keras_tuner.Objective("score", "max"))
    >>> parent = tempfile.mkdtemp()
    >>> set_project_dir(oracle, parent, "kt")
    >>> oracle.save()
    >>> os.path.isfile(os.path.join(parent, "kt", "oracle.json"))
    True
"""

from __future__ import annotations

__all__ = ["retry_trial", "set_project_dir"]


def retry_trial(oracle, trial_id: str) -> None:
    """Queues `trial_id` so that the oracle's next `create_trial` hands it out again.

    Args:
        oracle: A `keras_tuner.Oracle` (or an archsearch oracle, which keeps
            the same queue).
        trial_id: The id of a trial the oracle knows, no longer ongoing.
    """
    oracle._retry_queue.append(trial_id)


def set_project_dir(oracle, directory, project_name: str) -> None:
    """Makes `oracle` save and reload its state under `directory/project_name`.

    Args:
        oracle: A `keras_tuner.Oracle`.
        directory: The parent directory (a path or path-like).
        project_name: The sub-directory holding `oracle.json` and the trials.
    """
    oracle._set_project_dir(directory, project_name)
