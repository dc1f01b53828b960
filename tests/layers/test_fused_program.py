"""The fused path's per-op reverse-mode rules, each against TensorFlow's autodiff."""

import numpy as np
import pytest
import tensorflow as tf

from archsearch import zoo
from archsearch.genome.layout import CellPlan
from archsearch.genome.ops import OPS
from archsearch.layers import fused_program
from archsearch.layers.cell import apply_op


def test_every_op_kind_has_a_backward_rule():
    """A new op kind fails here until its reverse-mode rule exists in `_BACKWARD`."""
    kinds = {spec.keras for spec in OPS.values()} - {"project"}
    assert kinds == set(fused_program._BACKWARD)


@pytest.mark.parametrize("kind", sorted(set(fused_program._BACKWARD)))
def test_backward_rule_matches_autodiff_of_the_forward_op(kind):
    """Each rule alone equals TensorFlow's gradient of `apply_op` for that kind."""
    spec = next(s for s in OPS.values() if s.keras == kind)
    rng = np.random.default_rng(0)
    args = [tf.constant(rng.normal(size=(2, 3))) for _ in range(spec.min_arity)]
    scale, dy = tf.constant(rng.normal(size=(3,))), tf.constant(rng.normal(size=(2, 3)))
    with tf.GradientTape() as tape:
        tape.watch(args)
        y = apply_op(spec, args, scale)
    expected = tape.gradient(y, args, output_gradients=dy)
    got = fused_program._BACKWARD[kind](dy, y, args, scale, tf)
    assert len(got) == len(args)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12, atol=1e-12)


def test_the_widest_state_projection_comes_first_in_the_kept_dz_groups():
    plan = CellPlan(zoo.get("gru"), 4, 8)
    prog = fused_program.program(plan)
    widest = max((s for s in prog.sources if s.kind == "state"), key=lambda s: len(s.targets))
    assert prog.groups[0] == widest.targets
    assert fused_program.program(plan) is prog  # one Program per plan (a layer keeps its plan)
