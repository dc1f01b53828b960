"""Symmetric genome shapes that stress a canonical labelling.

Each function builds a valid genome whose automorphism group grows with `k`
(k! for the symmetric branches), the case where individualisation-refinement
without automorphism pruning explores k! leaves.
"""

from archsearch import GenomeBuilder


def symmetric_branches(k):
    """Builds k identical `linear(x, h) -> tanh` branches read by one linear: 2k + 2 nodes."""
    b = GenomeBuilder(("h",))
    branches = [b.tanh(b.linear("x", "h", name=f"l{i}"), name=f"t{i}") for i in range(k)]
    return b.build({"h": b.tanh(b.linear(*branches, name="s"), name="h_new")})


def fan_in_adds(k):
    """Builds k identical sigmoid gates summed by a chain of adds (commutative, unbalanced)."""
    b = GenomeBuilder(("h",))
    gates = [b.sigmoid(b.linear("x", "h", name=f"l{i}"), name=f"g{i}") for i in range(k)]
    total = gates[0]
    for gate in gates[1:]:
        total = b.add(total, gate)
    return b.build({"h": b.tanh(total, name="h_new")})


def balanced_adds(k):
    """Builds k identical tanh gates summed by a balanced tree of adds."""
    b = GenomeBuilder(("h",))
    level = [b.tanh(b.linear("x", "h", name=f"l{i}"), name=f"g{i}") for i in range(k)]
    while len(level) > 1:
        pairs = [b.add(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return b.build({"h": level[0]})


def mul_chain(k):
    """Builds h' = g_1 * g_2 * ... * g_k * h as a chain of muls of k identical gates."""
    b = GenomeBuilder(("h",))
    value = "h"
    for i in range(k):
        value = b.mul(value, b.sigmoid(b.linear("x", "h", name=f"l{i}"), name=f"g{i}"))
    return b.build({"h": b.tanh(b.linear("x", value, name="out_pre"), name="h_new")})


def duplicated_subdags(k):
    """Builds k copies of a GRU-like sub-DAG (6 nodes each) summed by one linear node."""
    b = GenomeBuilder(("h",))
    outs = []
    for i in range(k):
        z = b.sigmoid(b.linear("x", "h", name=f"z{i}_pre"), name=f"z{i}")
        r = b.sigmoid(b.linear("x", "h", name=f"r{i}_pre"), name=f"r{i}")
        hh = b.tanh(b.linear("x", b.mul(r, "h", name=f"rh{i}"), name=f"hh{i}_pre"),
                    name=f"hh{i}")
        outs.append(b.mul(z, hh, name=f"o{i}"))
    return b.build({"h": b.tanh(b.linear(*outs, name="s"), name="h_new")})


def shared_grid(k):
    """Builds two layers of k gates where every top gate reads every bottom gate (k^2 edges)."""
    b = GenomeBuilder(("h",))
    low = [b.tanh(b.linear("x", "h", name=f"a{i}"), name=f"ta{i}") for i in range(k)]
    top = [b.tanh(b.linear(*low, name=f"b{i}"), name=f"tb{i}") for i in range(k)]
    return b.build({"h": b.linear(*top, name="s")})


SHAPES = {"symmetric_branches": symmetric_branches, "fan_in_adds": fan_in_adds,
          "balanced_adds": balanced_adds, "mul_chain": mul_chain,
          "duplicated_subdags": duplicated_subdags, "shared_grid": shared_grid}
