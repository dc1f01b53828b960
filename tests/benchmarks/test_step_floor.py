"""The step floor times exactly the matmuls it counts (benchmarks/step_floor.py)."""

import importlib.util
import pathlib

import pytest
import tensorflow as tf

_PATH = pathlib.Path(__file__).parents[2] / "benchmarks" / "step_floor.py"
_SPEC = importlib.util.spec_from_file_location("step_floor", _PATH)
step_floor = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(step_floor)


def _traced_matmul_flops(fn):
    """FLOPs of every matmul in `fn`'s graph, from the ops' static input shapes."""
    graph = tf.function(fn, autograph=False).get_concrete_function().graph
    total = 0
    for op in graph.get_operations():
        if op.type not in ("MatMul", "BatchMatMulV2", "BatchMatMulV3"):
            continue
        a, b = (t.shape.as_list() for t in op.inputs[:2])
        ta = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
        tb = op.get_attr("transpose_b" if op.type == "MatMul" else "adj_y")
        rows, inner = (a[-1], a[-2]) if ta else (a[-2], a[-1])
        cols = b[-2] if tb else b[-1]
        batch = 1
        for d in a[:-2]:
            batch *= d
        total += 2 * batch * rows * inner * cols
    return total


@pytest.mark.parametrize("gates", [4, 3])
@pytest.mark.parametrize("k", [1, 3])
def test_skeleton_does_the_counted_matmuls(gates, k):
    shape = (k, 4, 5, 6, 7, gates, 9)  # k, batch, steps, embed, units, gates, vocab
    fn = step_floor._skeleton(*shape, unroll=True)
    assert _traced_matmul_flops(fn) == step_floor.step_flops(*shape)


def test_floor_parts_add_up():
    floor = step_floor.step_floor("lstm", 2, 4, 3, 8, 8, 10, calls=2, rounds=1)
    assert floor["matmul"] > 0 and floor["elementwise"] >= 0
    assert floor["total"] == pytest.approx(floor["matmul"] + floor["elementwise"])
