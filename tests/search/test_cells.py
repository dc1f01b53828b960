"""`CellState`: named statuses, snapshots that read like the old dict format, restore."""

import doctest
import json

import pytest

from archsearch.search.oracles import cells
from archsearch.search.oracles.cells import CellState, CellStatus

#: A cell of an `oracle.json` written before the dataclass (the dict format).
OLD = {"fingerprint": "f" * 32, "name": None, "parent": "p" * 32, "origin": "mutation",
       "status": "running", "cut": None, "stages": ["memorization", "xml"], "stage": 1,
       "pending": 2, "cuts": True}


def test_doctests():
    assert doctest.testmod(cells).failed == 0


def test_snapshot_is_the_json_of_the_old_format():
    cell = CellState.from_snapshot(OLD)
    assert cell.status is CellStatus.RUNNING and cell.results == {} and cell.score is None
    assert json.loads(json.dumps(cell.snapshot())) == OLD  # same keys and values


def test_restore_sets_saved_fields_and_keeps_what_the_records_rebuilt():
    cell = CellState("f" * 32, origin="seed", results={"xml": [0.5]}, bests={"xml": 0.5},
                     score=1.1)
    cell.restore({"status": "waiting", "stage": 1})
    assert (cell.status, cell.stage, cell.origin) == (CellStatus.WAITING, 1, "seed")
    assert cell.results == {"xml": [0.5]} and cell.score == 1.1


@pytest.mark.parametrize("status", ["finished", "", None])
def test_an_unknown_status_is_refused(status):
    with pytest.raises(ValueError, match="is not a valid CellStatus"):
        CellState.from_snapshot({**OLD, "status": status})


def test_statuses_compare_as_their_names():
    assert CellStatus.DONE == "done" and CellStatus("waiting") in cells.ACTIVE
    assert CellStatus.DONE not in cells.ACTIVE


def test_a_snapshot_with_a_bad_cell_is_not_usable():
    from pydantic import ValidationError

    from archsearch.search.oracles.state import OracleSnapshot

    base = {"strategy": "evolution", "next_trial": 1, "steps": 0, "seed_state": 0}
    assert OracleSnapshot.model_validate({**base, "cells": {OLD["fingerprint"]: OLD}})
    with pytest.raises(ValidationError, match="not a valid CellStatus"):
        OracleSnapshot.model_validate({**base, "cells": {"f": {**OLD, "status": "lost"}}})
