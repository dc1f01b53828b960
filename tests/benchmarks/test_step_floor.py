"""The step floor times exactly the matmuls it counts (benchmarks/step_floor.py)."""

import doctest
import importlib.util
import math
import pathlib
import re

import pytest
import tensorflow as tf

_PATH = pathlib.Path(__file__).parents[2] / "benchmarks" / "step_floor.py"
_SPEC = importlib.util.spec_from_file_location("step_floor", _PATH)
step_floor = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(step_floor)

_DEFINED = re.compile(r"%([\w.\-]+) = \w+\[([\d,]*)\]")
_DOT = re.compile(r"= \w+\[([\d,]*)\](?:\{[\d,]*\})? dot\(%([\w.\-]+), %([\w.\-]+)\)")


def _compiled_dot_flops(fn):
    """FLOPs of the dots XLA keeps in `fn`'s optimized program (what is timed)."""
    text = tf.function(fn, jit_compile=True).experimental_get_compiler_ir()(
        stage="optimized_hlo")
    shapes = {m[1]: [int(d) for d in m[2].split(",") if d] for m in _DEFINED.finditer(text)}
    total = 0
    for line in text.splitlines():
        dot = _DOT.search(line)
        if dot is None:
            continue
        out = math.prod(int(d) for d in dot[1].split(",") if d)
        contracting = re.search(r"lhs_contracting_dims=\{([\d,]*)\}", line)[1]
        lhs = shapes[dot[2]]
        total += 2 * out * math.prod(lhs[int(i)] for i in contracting.split(","))
    return total


@pytest.mark.parametrize("folded", [None, 6])
@pytest.mark.parametrize("gates", [4, 3])
@pytest.mark.parametrize("k", [1, 3])
def test_skeleton_runs_the_counted_matmuls(k, gates, folded):
    shape = (k, 4, 5, 7, 8, gates, 9)  # k, batch, steps, embed, units, gates, vocab
    fn = step_floor._skeleton(*shape, unroll=True, folded=folded)
    assert _compiled_dot_flops(fn) == step_floor.step_flops(*shape, folded)


def test_docstring_example_runs():
    result = doctest.testmod(step_floor)
    assert result.attempted > 0 and result.failed == 0, result
