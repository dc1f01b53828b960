"""The zoo: named reference cells from the literature, as genomes.

Every entry has a one-line description and its source. Names are stable: search
spaces, reports and the CLI refer to them.

Example:
    >>> from archsearch.genome import zoo
    >>> "lstm_b" in zoo.names()
    True
    >>> zoo.get("lstm_b").states
    ('h', 'c')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archsearch.genome.builder import GenomeBuilder
from archsearch.genome.errors import GenomeError
from archsearch.genome.spec import Genome

__all__ = ["ZooEntry", "names", "get", "entry", "entries"]

JOZEFOWICZ = "Jozefowicz, Zaremba & Sutskever, ICML 2015"
GREFF = "Greff et al., LSTM: A Search Space Odyssey, IEEE TNNLS 2017"


@dataclass(frozen=True)
class ZooEntry:
    """A named cell: how to build it, what it is, where it comes from."""

    name: str
    description: str
    source: str
    build: Callable[[], Genome]

    @property
    def genome(self) -> Genome:
        """The cell's genome, named after the entry."""
        return self.build().with_name(self.name, self.description)


def _gate(b: GenomeBuilder, name: str, inputs, act: str = "sigmoid", bias: float = 0.0,
          peephole: str | None = None) -> str:
    pre = b.linear(*inputs, bias=bias, name=f"{name}_pre")
    if peephole is not None:
        pre = b.add(pre, b.scale(peephole, name=f"p_{name}"), name=f"{name}_sum")
    return getattr(b, act)(pre, name=name)


def _lstm(forget=True, input_gate=True, output_gate=True, forget_bias=0.0, peepholes=False,
          input_act=True, output_act=True, coupled=False, full_recurrence=False) -> Genome:
    """Builds the LSTM family; flags switch off the parts Greff et al. and the paper ablate."""
    states = ("h", "c", "gi", "gf", "go") if full_recurrence else ("h", "c")
    b = GenomeBuilder(states)
    rec = ("x", "h", "gi", "gf", "go") if full_recurrence else ("x", "h")
    peep = "c" if peepholes else None
    i = _gate(b, "i", rec, peephole=peep) if input_gate else None
    f = None
    if coupled:
        f = b.one_minus(i, name="f")
    elif forget:
        f = _gate(b, "f", rec, bias=forget_bias, peephole=peep)
    # Greff et al.'s FGR adds recurrence between the gates only (nine matrices):
    # the block input g reads x and h, as in the vanilla LSTM.
    g = _gate(b, "g", ("x", "h"), act="tanh") if input_act else b.linear("x", "h", name="g")
    kept = b.mul(f, "c", name="kept") if f is not None else "c"
    write = b.mul(i, g, name="write") if i is not None else g
    c_new = b.add(kept, write, name="c_new")
    out = b.tanh(c_new, name="tc") if output_act else c_new
    if output_gate:
        o = _gate(b, "o", rec, peephole=c_new if peepholes else None)
        h_new = b.mul(o, out, name="h_new")
    else:
        o, h_new = None, out
    next_state = {"h": h_new, "c": c_new}
    if full_recurrence:
        next_state.update(gi=i, gf=f, go=o)
    return b.build(next_state)


def _tanh_rnn() -> Genome:
    b = GenomeBuilder(("h",))
    return b.build({"h": b.tanh(b.linear("x", "h", name="h_pre"), name="h_new")})


def _gru(reset_after: bool = False) -> Genome:
    b = GenomeBuilder(("h",))
    z = _gate(b, "z", ("x", "h"))
    r = _gate(b, "r", ("x", "h"))
    if reset_after:
        gx = b.linear("x", name="gx")
        gh = b.linear("h", name="gh")
        g = b.tanh(b.add(gx, b.mul(r, gh, name="rgh"), name="g_sum"), name="g")
    else:
        g = _gate(b, "g", ("x", b.mul(r, "h", name="rh")), act="tanh")
    return b.build({"h": _interpolate(b, z, "h", g)})


def _interpolate(b: GenomeBuilder, z: str, keep: str, new: str, name="h_new") -> str:
    """Z * keep + (1 - z) * new, the GRU's update."""
    return b.add(b.mul(z, keep, name="zh"), b.mul(b.one_minus(z, name="nz"), new,
                                                   name="zg"), name=name)


def _mut(kind: int) -> Genome:
    b = GenomeBuilder(("h",))
    if kind == 1:
        z = _gate(b, "z", ("x",))
        r = _gate(b, "r", ("x", "h"))
        pre = b.add(b.linear(b.mul(r, "h", name="rh"), name="g_pre"), b.tanh("x", name="tx"),
                    name="g_sum")
    elif kind == 2:
        z = _gate(b, "z", ("x", "h"))
        r = b.sigmoid(b.add("x", b.linear("h", name="r_pre"), name="r_sum"), name="r")
        pre = b.linear(b.mul(r, "h", name="rh"), "x", name="g_pre")
    else:
        z = _gate(b, "z", ("x", b.tanh("h", name="th")))
        r = _gate(b, "r", ("x", "h"))
        pre = b.linear(b.mul(r, "h", name="rh"), "x", name="g_pre")
    g = b.tanh(pre, name="g")
    h_new = b.add(b.mul(g, z, name="gz"), b.mul("h", b.one_minus(z, name="nz"), name="hz"),
                  name="h_new")
    return b.build({"h": h_new})


def _mgu() -> Genome:
    b = GenomeBuilder(("h",))
    f = _gate(b, "f", ("x", "h"))
    g = _gate(b, "g", ("x", b.mul(f, "h", name="fh")), act="tanh")
    h_new = b.add(b.mul(b.one_minus(f, name="nf"), "h", name="keep"), b.mul(f, g, name="fg"),
                  name="h_new")
    return b.build({"h": h_new})


def _ugrnn() -> Genome:
    b = GenomeBuilder(("h",))
    c = _gate(b, "c", ("x", "h"), act="tanh")
    g = _gate(b, "g", ("x", "h"))
    return b.build({"h": _interpolate(b, g, "h", c)})


_ENTRIES = [
    ZooEntry("tanh_rnn", "Elman RNN: h' = tanh(W x + U h + b)", JOZEFOWICZ, _tanh_rnn),
    ZooEntry("lstm", "LSTM without peepholes, forget bias 0 (the paper's 'LSTM')",
             JOZEFOWICZ, _lstm),
    ZooEntry("lstm_f", "LSTM without forget gate (f = 1)", JOZEFOWICZ,
             lambda: _lstm(forget=False)),
    ZooEntry("lstm_i", "LSTM without input gate (i = 1)", JOZEFOWICZ,
             lambda: _lstm(input_gate=False)),
    ZooEntry("lstm_o", "LSTM without output gate (o = 1)", JOZEFOWICZ,
             lambda: _lstm(output_gate=False)),
    ZooEntry("lstm_b", "LSTM with forget-gate bias initialised to 1 (= Keras' LSTM default)",
             JOZEFOWICZ, lambda: _lstm(forget_bias=1.0)),
    ZooEntry("gru", "GRU, reset applied before the recurrent matmul (Keras reset_after=False)",
             "Cho et al. 2014; " + JOZEFOWICZ, _gru),
    ZooEntry("gru_reset_after", "GRU, reset applied after the recurrent matmul (Keras default, "
             "cuDNN)", "Cho et al. 2014; Keras", lambda: _gru(reset_after=True)),
    ZooEntry("mut1", "MUT1: z from x only, tanh(x) added to the candidate (input width = "
             "units)", JOZEFOWICZ, lambda: _mut(1)),
    ZooEntry("mut2", "MUT2: raw x added to the reset gate (input width = units)", JOZEFOWICZ,
             lambda: _mut(2)),
    ZooEntry("mut3", "MUT3: update gate reads tanh(h)", JOZEFOWICZ, lambda: _mut(3)),
    ZooEntry("peephole_lstm", "Vanilla LSTM with peepholes p*c into i, f and p*c' into o",
             GREFF, lambda: _lstm(peepholes=True)),
    ZooEntry("nig", "Peephole LSTM, no input gate", GREFF,
             lambda: _lstm(peepholes=True, input_gate=False)),
    ZooEntry("nfg", "Peephole LSTM, no forget gate", GREFF,
             lambda: _lstm(peepholes=True, forget=False)),
    ZooEntry("nog", "Peephole LSTM, no output gate", GREFF,
             lambda: _lstm(peepholes=True, output_gate=False)),
    ZooEntry("niaf", "Peephole LSTM, no input activation (g is linear)", GREFF,
             lambda: _lstm(peepholes=True, input_act=False)),
    ZooEntry("noaf", "Peephole LSTM, no output activation (h' = o * c')", GREFF,
             lambda: _lstm(peepholes=True, output_act=False)),
    ZooEntry("np", "Peephole LSTM without peepholes: the same function as 'lstm'", GREFF,
             lambda: _lstm()),
    ZooEntry("cifg", "Peephole LSTM with coupled input and forget gate (f = 1 - i)", GREFF,
             lambda: _lstm(peepholes=True, coupled=True)),
    ZooEntry("fgr", "Peephole LSTM with full gate recurrence (gates read all previous gates)",
             GREFF, lambda: _lstm(peepholes=True, full_recurrence=True)),
    ZooEntry("mgu", "Minimal gated unit: one forget gate acts as reset and update",
             "Zhou et al. 2016", _mgu),
    ZooEntry("ugrnn", "Update-gate RNN: h' = g*h + (1-g)*tanh(W x + U h + b)",
             "Collins, Sohl-Dickstein & Sussillo, ICLR 2017", _ugrnn),
]
_BY_NAME = {e.name: e for e in _ENTRIES}


def names() -> list[str]:
    """Returns the zoo's cell names, in a stable order."""
    return [e.name for e in _ENTRIES]


def entry(name: str) -> ZooEntry:
    """Returns the zoo entry `name` (`GenomeError` listing the names if unknown)."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise GenomeError(f"unknown zoo cell {name!r}; known cells: {', '.join(names())}") \
            from None


def get(name: str) -> Genome:
    """Returns the genome of zoo cell `name`."""
    return entry(name).genome


def entries() -> list[ZooEntry]:
    """Returns every zoo entry."""
    return list(_ENTRIES)
