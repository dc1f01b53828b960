"""Render a genome as readable math, e.g. `f = sigmoid(W_f·x + U_f·h + b_f)`.

Rules: a value gets its own line when it is a next state, is read by several
nodes, or is an activation of a compound expression (a gate); everything else
is written inline where it is read. Next states are primed (`c'`). Weights are
named after the node that owns them (a `linear` node called `f_pre` owns
`W_f`, `U_f` and `b_f`); a non-zero bias initialiser is noted at the line's end.
"""

from __future__ import annotations

from archsearch.genome.ops import ACTIVATIONS
from archsearch.genome.spec import INPUT, Genome

__all__ = ["equations"]

_SUM, _PROD, _ATOM = 1, 2, 3


def _owner(node_id: str) -> str:
    return node_id[:-4] if node_id.endswith("_pre") and len(node_id) > 4 else node_id


def _fmt(value: float) -> str:
    return f"{value:g}"


def equations(genome: Genome) -> str:
    """Returns one line per named value of `genome` (see the module docstring).

    Example:
        >>> from archsearch.genome import zoo
        >>> print(zoo.get("tanh_rnn").equations())
        h' = tanh(W_h·x + U_h·h + b_h)
    """
    try:
        return _render(genome, inline=True)
    except RecursionError:  # thousands of nested inline values: one line per node
        return _render(genome, inline=False)


def _render(genome: Genome, inline: bool) -> str:
    consumers = genome.consumers()
    next_slots: dict[str, list[str]] = {}
    for slot, ref in zip(genome.states, genome.next_state, strict=True):
        next_slots.setdefault(ref, []).append(slot)
    nodes = {n.id: n for n in genome.nodes}
    named: set[str] = set()
    for node in genome.nodes:
        if not inline or node.id in next_slots or len(consumers[node.id]) != 1:
            named.add(node.id)
        elif node.op in ACTIVATIONS:
            arg = node.inputs[0]
            if arg in nodes and arg not in named:
                named.add(node.id)
    display: dict[str, str] = {}
    aliases: list[str] = []
    for node_id, slots in next_slots.items():
        if node_id not in nodes:
            continue
        gate = nodes[node_id].op in ACTIVATIONS and consumers[node_id]
        if gate:
            aliases.extend(f"{s}' = {node_id}" for s in slots)
        else:
            display[node_id] = f"{slots[0]}'"
            aliases.extend(f"{s}' = {slots[0]}'" for s in slots[1:])
    notes: list[str] = []

    def render(ref: str) -> tuple[str, int]:
        if ref not in nodes or ref in named:
            return display.get(ref, ref), _ATOM
        return expr(nodes[ref])

    def wrap(ref: str, level: int) -> str:
        text, prec = render(ref)
        return f"({text})" if prec < level else text

    def expr(node) -> tuple[str, int]:
        op = node.op
        if op == "linear":
            owner = _owner(node.id)
            others = [r for r in node.inputs if r != INPUT]
            terms = []
            for ref in node.inputs:
                if ref == INPUT:
                    terms.append(f"W_{owner}·x")
                else:
                    sub = owner if len(others) == 1 else f"{owner},{ref}"
                    terms.append(f"U_{sub}·{wrap(ref, _ATOM)}")
            terms.append(f"b_{owner}")
            if node.param("bias"):
                notes.append(f"b_{owner} = {_fmt(node.param('bias'))} at init")
            return " + ".join(terms), _SUM
        if op == "linear_a":
            return f"Linear({_fmt(node.param('a'))}, {wrap(node.inputs[0], 0)})", _ATOM
        if op in ACTIVATIONS:
            return f"{op}({wrap(node.inputs[0], 0)})", _ATOM
        if op == "scale":
            sym = node.id if node.id.startswith("p_") else f"p_{node.id}"
            return f"{sym} * {wrap(node.inputs[0], _PROD + 1)}", _PROD
        if op == "one_minus":
            return f"1 - {wrap(node.inputs[0], _SUM + 1)}", _SUM
        a, b = node.inputs
        if op == "mul":
            return f"{wrap(a, _PROD)} * {wrap(b, _PROD)}", _PROD
        sign = "+" if op == "add" else "-"
        return f"{wrap(a, _SUM)} {sign} {wrap(b, _SUM + (op == 'sub'))}", _SUM

    lines = []
    for node in genome.nodes:
        if node.id not in named:
            continue
        notes.clear()
        text, _ = expr(node)
        line = f"{display.get(node.id, node.id)} = {text}"
        if notes:
            line += "    [" + "; ".join(notes) + "]"
        lines.append(line)
    for slot, ref in zip(genome.states, genome.next_state, strict=True):
        if ref not in nodes:
            lines.append(f"{slot}' = {ref}")
    lines.extend(aliases)
    if genome.output != genome.states[0]:
        lines.append(f"output = {genome.output}'")
    return "\n".join(lines)
