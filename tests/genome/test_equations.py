"""`Genome.equations()`: readable math, one line per named value."""

import pytest

from archsearch import Genome, GenomeBuilder, Node
from archsearch.genome import zoo
from archsearch.genome.equations import equations

LSTM = """\
i = sigmoid(W_i·x + U_i·h + b_i)
f = sigmoid(W_f·x + U_f·h + b_f)
g = tanh(W_g·x + U_g·h + b_g)
c' = f * c + i * g
o = sigmoid(W_o·x + U_o·h + b_o)
h' = o * tanh(c')"""

GRU = """\
z = sigmoid(W_z·x + U_z·h + b_z)
r = sigmoid(W_r·x + U_r·h + b_r)
g = tanh(W_g·x + U_g·(r * h) + b_g)
h' = z * h + (1 - z) * g"""


def test_tanh_rnn():
    assert zoo.get("tanh_rnn").equations() == "h' = tanh(W_h·x + U_h·h + b_h)"


def test_lstm():
    assert zoo.get("lstm").equations() == LSTM
    assert equations(zoo.get("lstm")) == LSTM


def test_lstm_b_notes_the_forget_bias():
    lines = LSTM.splitlines()
    lines[1] += "    [b_f = 1 at init]"
    assert zoo.get("lstm_b").equations() == "\n".join(lines)


def test_gru_resets_before_the_recurrent_matmul():
    assert zoo.get("gru").equations() == GRU
    assert "g = tanh(W_g·x + U_g·(r * h) + b_g)" in zoo.get("gru").equations().splitlines()


def test_gru_reset_after_and_peepholes():
    eq = zoo.get("gru_reset_after").equations()
    assert "g = tanh(W_gx·x + b_gx + r * (U_gh·h + b_gh))" in eq.splitlines()
    peep = zoo.get("peephole_lstm").equations().splitlines()
    assert "i = sigmoid(W_i·x + U_i·h + b_i + p_i * c)" in peep
    assert "o = sigmoid(W_o·x + U_o·h + b_o + p_o * c')" in peep
    assert "c' = (1 - i) * c + i * g" in zoo.get("cifg").equations().splitlines()
    assert "h' = o * c'" in zoo.get("noaf").equations().splitlines()


@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_cell_renders_and_primes_every_state(name):
    g = zoo.get(name)
    text = g.equations()
    lines = text.splitlines()
    assert lines and all(" = " in line for line in lines)
    for slot in g.states:
        assert any(line.startswith(f"{slot}' = ") for line in lines), (slot, text)
    assert "_pre" not in text  # weights are named after the gate, not the pre-activation
    assert ("[b_f = 1 at init]" in text) == (name == "lstm_b")


def test_bias_note_uses_the_value_and_multiple_notes_share_a_line():
    b = GenomeBuilder(("h",))
    a = b.linear("x", bias=-0.5, name="a_pre")
    c = b.linear("h", bias=2.0, name="c")
    g = b.build({"h": b.tanh(b.add(a, c), name="h_new")})
    assert g.equations() == ("h' = tanh(W_a·x + b_a + U_c·h + b_c)"
                             "    [b_a = -0.5 at init; b_c = 2 at init]")


def test_linear_a_relu_and_sub_render():
    b = GenomeBuilder(("h",))
    q = b.linear_a(0.9, "h", name="q")
    g = b.build({"h": b.relu(b.sub(b.linear("x", name="w"), b.sub(q, "h")))})
    assert g.equations() == "h' = relu(W_w·x + b_w - (Linear(0.9, h) - h))"


def test_multiple_readers_get_their_own_line_and_shared_next_state_aliases():
    b = GenomeBuilder(("h", "c"))
    z = b.linear("x", "h", name="z")
    t = b.tanh(z, name="t")
    g = b.build({"h": t, "c": t}, output="c")
    assert g.equations() == "h' = tanh(W_z·x + U_z·h + b_z)\nc' = h'\noutput = c'"
    passthrough = Genome([Node("z", "linear", ("x", "h"))], {"h": "z", "c": "h"},
                         states=("h", "c"))
    assert passthrough.equations() == "h' = W_z·x + U_z·h + b_z\nc' = h"


def test_multi_source_linear_names_each_matrix():
    text = zoo.get("fgr").equations()
    assert "U_i,gf·gf" in text and "U_o,go·go" in text
    assert "gi' = i" in text.splitlines()
