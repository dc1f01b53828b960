"""Adversarial genome JSON: one `GenomeError` each, quickly, never another exception."""

import re
import time

import pytest
from corpus import malformed_cases, pathological_genomes

from archsearch import Genome, GenomeError
from archsearch.genome import limits

SECONDS = 5.0
MALFORMED = list(malformed_cases())
PATHOLOGICAL = list(pathological_genomes())


def test_the_corpus_is_large_and_names_are_unique():
    names = [name for name, *_ in MALFORMED] + [name for name, _ in PATHOLOGICAL]
    assert len(MALFORMED) >= 100
    assert len(PATHOLOGICAL) >= 10
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", name) for name in names)


@pytest.mark.parametrize(("name", "text", "fragment"), MALFORMED,
                         ids=[name for name, *_ in MALFORMED])
def test_malformed_genome_gives_one_genome_error(name, text, fragment):
    start = time.perf_counter()
    try:
        Genome.from_json(text)
    except GenomeError as err:
        error = err
    except Exception as err:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"{name}: {type(err).__name__} escaped: {str(err)[:200]}")
    else:
        pytest.fail(f"{name}: parsed without an error")
    elapsed = time.perf_counter() - start
    message = str(error)
    assert elapsed < SECONDS, f"{name} took {elapsed:.2f}s"
    assert type(error) is GenomeError
    assert error.__cause__ is None and error.__suppress_context__ or error.__context__ is None
    assert fragment in message, f"{name}: {fragment!r} not in {message!r}"
    assert "\n" not in message and len(message) < 1000, message[:300]


@pytest.mark.parametrize(("name", "text"), PATHOLOGICAL, ids=[n for n, _ in PATHOLOGICAL])
def test_pathological_but_valid_genome_is_handled_quickly(name, text):
    start = time.perf_counter()
    g = Genome.from_json(text)
    fp = g.fingerprint()
    lines = g.equations().splitlines()
    again = Genome.from_json(g.to_json())
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"{name} took {elapsed:.2f}s"
    assert again == g and again.fingerprint() == fp
    assert 1 <= len(lines) <= len(g.nodes) + len(g.states) + 1
    assert len(g.nodes) <= limits.MAX_NODES


def test_equations_of_a_deep_shared_dag_grow_linearly():
    # m_i = m_{i-1} * m_{i-1}: inlining the shared value would double the text per level.
    g = Genome.from_json(dict(PATHOLOGICAL)["shared-square-chain-200"])
    text = g.equations()
    assert len(text) < 40 * len(g.nodes)
    assert "m198 * m198" in text


def test_wrong_widths_are_a_genome_error_when_widths_are_known():
    g = Genome.from_json(dict(PATHOLOGICAL)["needs-square-input"])
    assert g.needs_square_input
    with pytest.raises(GenomeError, match="input width"):
        g.check_widths(3, 5)
    g.check_widths(5, 5)
