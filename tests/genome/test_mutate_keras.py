"""Mutants compile with `GenomeRNN` and run forward to finite outputs (imports TensorFlow)."""

import numpy as np
import pytest

from archsearch.genome import zoo
from archsearch.genome.mutate import mutate

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def layers():
    return pytest.importorskip("archsearch.layers")


def _compile_and_run(layers, name, seeds):
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    for seed in seeds:
        child = mutate(zoo.get(name), seed)
        layer = layers.GenomeRNN(child, units=8, return_sequences=True)
        y = np.asarray(layer(x))
        assert y.shape == (2, 5, 8), (name, seed)
        assert np.all(np.isfinite(y)), (name, seed, child.equations())


@pytest.mark.parametrize("name", ["lstm", "gru", "mut1", "fgr"])
def test_mutants_compile_and_run(layers, name):
    _compile_and_run(layers, name, SEEDS[:1])


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.names())
def test_mutants_of_every_zoo_cell_compile_and_run(layers, name):
    _compile_and_run(layers, name, SEEDS)


def test_deep_descendants_compile_and_run(layers):
    x = np.random.default_rng(1).normal(size=(2, 5, 8)).astype("float32")
    genome = zoo.get("lstm")
    for generation in range(20):
        genome = mutate(genome, 1000 + generation)
    y = np.asarray(layers.GenomeRNN(genome, units=8)(x))
    assert np.all(np.isfinite(y)), genome.equations()
