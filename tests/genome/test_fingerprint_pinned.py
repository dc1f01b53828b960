"""Fingerprints are identities on disk: run directories key trials by them.

`data/pinned_fingerprints.json` holds the fingerprints of every zoo cell and of
66 mutants (some four generations deep) as the first algorithm computed them.
Any change to the canonical form must keep them, or old runs lose their trials.
"""

import json
from pathlib import Path

import pytest
from shapes import SHAPES

from archsearch import Genome
from archsearch.genome import zoo

PINNED = json.loads((Path(__file__).parent / "data" / "pinned_fingerprints.json").read_text())


@pytest.mark.parametrize("name", sorted(PINNED["zoo"]))
def test_zoo_fingerprints_are_unchanged(name):
    assert zoo.get(name).fingerprint() == PINNED["zoo"][name]


def test_every_zoo_cell_is_pinned():
    assert sorted(PINNED["zoo"]) == sorted(zoo.names())


def test_mutant_fingerprints_are_unchanged():
    assert len(PINNED["mutants"]) >= 60
    changed = [item["fingerprint"] for item in PINNED["mutants"]
               if Genome.from_json(item["genome"]).fingerprint() != item["fingerprint"]]
    assert changed == []


def test_symmetric_shape_fingerprints_are_unchanged():
    # The shapes small enough for the first (exponential) search, pinned by it.
    changed = []
    for key, expected in PINNED["shapes"].items():
        name, k = key.split("/")
        if SHAPES[name](int(k)).fingerprint() != expected:
            changed.append(key)
    assert len(PINNED["shapes"]) >= 30
    assert changed == []
