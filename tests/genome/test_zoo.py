"""The zoo of reference cells."""

import pytest

import archsearch
from archsearch import Genome, GenomeError
from archsearch.genome import zoo

ISSUE_NAMES = ["tanh_rnn", "lstm", "lstm_f", "lstm_i", "lstm_o", "lstm_b", "gru",
               "gru_reset_after", "mut1", "mut2", "mut3", "peephole_lstm", "nig", "nfg", "nog",
               "niaf", "noaf", "np", "cifg", "fgr", "mgu", "ugrnn"]


def test_every_issue_cell_is_present_once():
    names = zoo.names()
    assert set(ISSUE_NAMES) <= set(names)
    assert len(names) == len(set(names))
    assert archsearch.zoo.names() == names  # the public alias
    assert [e.name for e in zoo.entries()] == names


@pytest.mark.parametrize("name", zoo.names())
def test_entry_has_description_source_and_a_named_genome(name):
    entry = zoo.entry(name)
    assert entry.name == name
    assert entry.description.strip() and "\n" not in entry.description
    assert entry.source.strip() and "\n" not in entry.source
    g = zoo.get(name)
    assert isinstance(g, Genome)
    assert g.name == name and g.description == entry.description
    assert g.pruned == ()  # no zoo cell carries dead nodes
    assert g == zoo.get(name)  # a fresh, equal genome every time
    assert "h" in g.states and g.output == "h"


@pytest.mark.parametrize("bad", ["lstm2", "", "LSTM", None, 3, ["lstm"]])
def test_unknown_name_lists_the_known_ones(bad):
    with pytest.raises(GenomeError) as info:
        zoo.get(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in ("lstm_b", "gru", "ugrnn"):
        assert name in message


def test_square_input_cells():
    square = {name for name in zoo.names() if zoo.get(name).needs_square_input}
    assert square == {"mut1", "mut2"}
    zoo.get("lstm").check_widths(3, 128)
    for name in ("mut1", "mut2"):
        with pytest.raises(GenomeError):
            zoo.get(name).check_widths(64, 128)
        zoo.get(name).check_widths(128, 128)


def _node(name, node_id):
    return zoo.get(name).node(node_id)


def test_lstm_family_structure():
    assert _node("lstm", "f_pre").param("bias") == 0.0
    assert _node("lstm_b", "f_pre").param("bias") == 1.0
    assert zoo.get("lstm").states == ("h", "c")
    for name, missing in [("lstm_f", "f"), ("lstm_i", "i"), ("lstm_o", "o"),
                          ("nig", "i"), ("nfg", "f"), ("nog", "o")]:
        ids = {n.id for n in zoo.get(name).nodes}
        assert missing not in ids and f"{missing}_pre" not in ids, name
    assert _node("cifg", "f").op == "one_minus" and _node("cifg", "f").inputs == ("i",)
    assert _node("niaf", "g").op == "linear"
    assert zoo.get("noaf").node("h_new").inputs == ("o", "c_new")
    # Peepholes: i and f look at c, o at the new c'.
    assert _node("peephole_lstm", "p_i").inputs == ("c",)
    assert _node("peephole_lstm", "p_f").inputs == ("c",)
    assert _node("peephole_lstm", "p_o").inputs == ("c_new",)
    assert not any(n.op == "scale" for n in zoo.get("np").nodes)


def test_fgr_adds_recurrence_between_the_gates_only():
    g = zoo.get("fgr")
    assert g.states == ("h", "c", "gi", "gf", "go")
    assert dict(zip(g.states, g.next_state, strict=True)) == {
        "h": "h_new", "c": "c_new", "gi": "i", "gf": "f", "go": "o"}
    for gate in ("i", "f", "o"):
        assert g.node(f"{gate}_pre").inputs == ("x", "h", "gi", "gf", "go")
    # Greff et al.: nine extra recurrent matrices (3 gates x 3 gates); the block input g
    # reads x and h as in the vanilla LSTM.
    assert g.node("g_pre").inputs == ("x", "h")
    units = 11
    extra = g.parameter_count(7, units) - zoo.get("peephole_lstm").parameter_count(7, units)
    assert extra == 9 * units * units


def test_gru_family_structure():
    gru = zoo.get("gru")
    assert gru.node("g_pre").inputs == ("x", "rh")
    assert gru.node("rh").op == "mul" and set(gru.node("rh").inputs) == {"r", "h"}
    after = zoo.get("gru_reset_after")
    assert after.node("gx").inputs == ("x",) and after.node("gh").inputs == ("h",)
    assert set(after.node("rgh").inputs) == {"r", "gh"}
    assert zoo.get("mut1").node("z_pre").inputs == ("x",)
    assert "x" in zoo.get("mut2").node("r_sum").inputs
    assert zoo.get("mut3").node("z_pre").inputs == ("x", "th")
    assert zoo.get("mut3").node("th").op == "tanh"


def test_docstring_examples_hold():
    assert "lstm_b" in zoo.names()
    assert zoo.get("lstm_b").states == ("h", "c")
