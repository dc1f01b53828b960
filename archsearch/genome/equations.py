"""Render a genome as readable math, e.g. `f = sigmoid(W_f·x + U_f·h + b_f)`.

Rules: a value gets its own line when it is a next state, is read by several
nodes, or is an activation of a compound expression (a gate); everything else
is written inline where it is read. Next states are primed (`c'`). Weights are
named after the node that owns them (a `linear` node called `f_pre` owns
`W_f`, `U_f` and `b_f`); a non-zero bias initialiser is noted at the line's end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archsearch.genome.ops import ACTIVATIONS, INPUT, OPS, PRECEDENCE

if TYPE_CHECKING:
    from archsearch.genome.spec import Genome

__all__ = ["equations"]

_ATOM = PRECEDENCE["atom"]


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
        spec = OPS[node.op]
        if not spec.render:  # linear: one term per projection, then the bias
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
            return " + ".join(terms), PRECEDENCE["sum"]
        levels = spec.arg_precedence
        args = [wrap(ref, levels[min(k, len(levels) - 1)]) for k, ref in enumerate(node.inputs)]
        symbol = node.id if node.id.startswith("p_") else f"p_{node.id}"
        text = spec.render.format(*args, op=node.op, a=_fmt(node.param("a")), p=symbol)
        return text, PRECEDENCE[spec.precedence]

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
