"""`CellPlan`: the fused weight layout and parameter counts, in pure Python."""

import pytest

from archsearch import GenomeBuilder, GenomeError
from archsearch.genome import CellPlan, zoo

SIZES = [(1, 1), (7, 5), (13, 29), (37, 19)]  # odd (input width, units)


def _keras_rnn_params(gates, e, u):
    """Keras' own count for LSTM (4 gates) / GRU reset_after=False (3 gates)."""
    return gates * (e * u + u * u + u)


@pytest.mark.parametrize(("e", "u"), SIZES)
def test_lstm_parameter_count_equals_keras(e, u):
    for name in ("lstm", "lstm_b", "np"):
        assert CellPlan(zoo.get(name), e, u).parameter_count() == _keras_rnn_params(4, e, u)
        assert zoo.get(name).parameter_count(e, u) == _keras_rnn_params(4, e, u)


@pytest.mark.parametrize(("e", "u"), SIZES)
def test_gru_parameter_counts(e, u):
    paper = _keras_rnn_params(3, e, u)
    assert CellPlan(zoo.get("gru"), e, u).parameter_count() == paper
    # Keras' GRU(reset_after=True) holds two bias vectors per gate (input and recurrent),
    # 3*(E*U + U*U + 2U). Only the candidate's recurrent bias sits inside r * (U h + b), so
    # it is the only one that is not redundant: the genome has one extra bias, paper + U.
    assert CellPlan(zoo.get("gru_reset_after"), e, u).parameter_count() == paper + u


def test_other_counts():
    e, u = 9, 7
    vanilla = _keras_rnn_params(4, e, u)
    assert zoo.get("tanh_rnn").parameter_count(e, u) == e * u + u * u + u
    assert zoo.get("peephole_lstm").parameter_count(e, u) == vanilla + 3 * u
    assert zoo.get("cifg").parameter_count(e, u) == 3 * (e * u + u * u + u) + 2 * u
    # mut1: z from x only, r from x and h, candidate from r*h (+ tanh(x)): square input.
    assert zoo.get("mut1").parameter_count(u, u) == (u * u + u) + 2 * (u * u + u) + u * u


def test_gru_sources_are_x_h_and_the_inner_value_rh():
    plan = CellPlan(zoo.get("gru"), 6, 4)
    assert [(s.name, s.kind, s.width, s.targets) for s in plan.sources] == [
        ("x", "input", 6, ("z_pre", "r_pre", "g_pre")),
        ("h", "state", 4, ("z_pre", "r_pre")),
        ("rh", "inner", 4, ("g_pre",)),
    ]
    assert [s.weight_name for s in plan.sources] == ["kernel", "recurrent_kernel_h",
                                                     "inner_kernel_rh"]
    assert plan.input_source.name == "x"
    assert plan.source("rh").block("g_pre") == 0
    assert plan.source("nothing") is None
    assert plan.reads_x == {"z_pre", "r_pre", "g_pre"}
    assert not plan.x_raw


def test_lstm_layout_and_bias_init():
    plan = CellPlan(zoo.get("lstm_b"), 5, 3)
    assert plan.linears == ("i_pre", "f_pre", "g_pre", "o_pre")
    assert [(s.name, len(s.targets)) for s in plan.sources] == [("x", 4), ("h", 4)]
    assert plan.bias_slice("f_pre") == slice(3, 6)
    assert plan.bias_init().tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert CellPlan(zoo.get("lstm"), 5, 3).bias_init().tolist() == [0] * 12


def test_x_reading_linears_come_first():
    b = GenomeBuilder(("h",))
    a = b.linear("h", name="a")
    c = b.linear("x", name="c")
    plan = CellPlan(b.build({"h": b.tanh(b.add(a, c))}), 4, 4)
    assert plan.linears == ("c", "a")
    assert plan.reads_x == {"c"}


def test_scales_and_identity_blocks():
    b = GenomeBuilder(("h",))
    q = b.linear_a(0.5, "h", name="q")
    r = b.linear("h", name="r")
    s = b.scale("h", name="s")
    plan = CellPlan(b.build({"h": b.tanh(b.add(b.add(q, r), s))}), 3, 4)
    assert plan.scales == ("s",)
    assert plan.source("h").targets == ("q", "r")
    assert plan.identity_blocks(plan.source("h")) == [(0, 0.5)]
    assert plan.parameter_count() == 2 * (4 * 4 + 4) + 4


def test_raw_x_and_width_check():
    plan = CellPlan(zoo.get("mut1"), 8, 8)
    assert plan.x_raw
    assert plan.width["tx"] == 8
    with pytest.raises(GenomeError, match="'g_sum'"):
        CellPlan(zoo.get("mut1"), 7, 8)


@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_cell_has_a_plan(name):
    g = zoo.get(name)
    e = 16 if g.needs_square_input else 11
    plan = CellPlan(g, e, 16)
    count = plan.parameter_count()
    assert count == g.parameter_count(e, 16) > 0
    linears = [n.id for n in g.nodes if n.op in ("linear", "linear_a")]
    assert sorted(plan.linears) == sorted(linears)
    assert len(plan.bias_init()) == 16 * len(linears)
    for source in plan.sources:
        for target in source.targets:
            assert source.name in g.node(target).inputs
