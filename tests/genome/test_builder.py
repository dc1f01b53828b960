"""`GenomeBuilder`: cells written as Python expressions."""

import pytest

from archsearch import Genome, GenomeBuilder, GenomeError, Node


def test_docstring_example():
    b = GenomeBuilder(states=("h",))
    h_new = b.tanh(b.linear("x", "h", name="a_pre"), name="a")
    g = b.build({"h": h_new}, name="tanh_rnn")
    assert g.equations().splitlines()[0] == "h' = tanh(W_a·x + U_a·h + b_a)"
    assert g.name == "tanh_rnn"


def test_automatic_names_skip_taken_ones():
    b = GenomeBuilder(("h", "n1"))
    first = b.linear("x", "h")
    b.tanh(first, name="n2")
    third = b.sigmoid(first)
    fourth = b.relu(third)
    assert first == "n0"
    assert third == "n3"
    assert fourth == "n4"
    assert len({first, third, fourth, "n2"}) == 4


def test_every_op_method_builds_the_matching_node():
    b = GenomeBuilder(("h",))
    lin = b.linear("x", "h", bias=1.5)
    la = b.linear_a(0.9, "h", bias=-1.0)
    ops = [b.add(lin, la), b.sub(lin, la), b.mul(lin, la), b.one_minus(lin), b.scale(la),
           b.tanh(lin), b.sigmoid(lin), b.relu(lin), b.identity(lin)]
    expected = ["add", "sub", "mul", "one_minus", "scale", "tanh", "sigmoid", "relu",
                "identity"]
    by_id = {n.id: n for n in b.nodes}
    assert [by_id[v].op for v in ops] == expected
    assert by_id[lin].params == {"bias": 1.5}
    assert by_id[la].params == {"a": 0.9, "bias": -1.0}
    assert by_id[ops[1]].inputs == (lin, la)  # order kept for sub


def test_zero_bias_is_left_out():
    b = GenomeBuilder(("h",))
    assert b.nodes == [] and b.linear("x") == "n0"
    assert b.nodes[0].params == {}
    assert b.nodes[0] == Node("n0", "linear", ("x",))


def test_build_validates_and_prunes():
    b = GenomeBuilder(("h",))
    z = b.linear("x", "h")
    b.tanh("x", name="dead")
    g = b.build({"h": b.tanh(z)}, description="d")
    assert isinstance(g, Genome) and g.pruned == ("dead",) and g.description == "d"
    with pytest.raises(GenomeError, match="'c'"):
        GenomeBuilder(("h", "c")).build({"h": "x"})


def test_invalid_node_is_rejected_when_added():
    b = GenomeBuilder(("h",))
    with pytest.raises(GenomeError, match="'q'"):
        b.linear("x", "x", name="q")
    with pytest.raises(GenomeError, match="'1st'"):
        b.tanh("x", name="1st")
