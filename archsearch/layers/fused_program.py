"""A genome's step as a forward interpreter plus its reverse-mode rules (the fused path).

`Program.step` runs one step of a genome on TensorFlow tensors the way the
fused loops of `archsearch.layers.fused` need it: projections that feed the
same nodes summed whole and split once, every value named. `backward_step`
is its reverse: each op's elementwise derivative rule in reverse node order,
with one matmul per step, `dZ @ U^T`, back to the state. Weights may carry a
leading member axis (population trials): matmuls batch over it.
"""

from __future__ import annotations

import functools

from archsearch.genome import INPUT
from archsearch.genome.layout import CellPlan
from archsearch.genome.ops import OPS
from archsearch.layers.cell import apply_op

__all__ = ["Program", "program"]

#: `OpSpec.keras` kinds whose derivative reads the node's own value (kept per step).
_ACTIVATIONS = ("tanh", "sigmoid", "relu")
#: `OpSpec.keras` kinds whose derivatives read the node's input values.
_READS_INPUTS = ("multiply", "scale")

#: Reverse-mode rule per `OpSpec.keras` kind (every kind but `project`, whose
#: dZ goes to the weight gradients): `rule(dy, y, args, scale, tf)` returns
#: the gradient of each input, in the node's input order. `y` is the node's
#: value and `args` its inputs' values (`None` where not kept); `scale` is
#: the learned vector of a `scale` node.
_BACKWARD = {
    # dy * (1 - y^2), dy * y * (1 - y): TensorFlow's own fused kernels.
    "tanh": lambda dy, y, args, scale, tf: [tf.raw_ops.TanhGrad(y=y, dy=dy)],
    "sigmoid": lambda dy, y, args, scale, tf: [tf.raw_ops.SigmoidGrad(y=y, dy=dy)],
    # dy where y > 0 (y > 0 exactly where the input is).
    "relu": lambda dy, y, args, scale, tf: [tf.raw_ops.ReluGrad(gradients=dy, features=y)],
    "pass": lambda dy, y, args, scale, tf: [dy],
    "add": lambda dy, y, args, scale, tf: [dy, dy],
    "subtract": lambda dy, y, args, scale, tf: [dy, -dy],
    "one_minus": lambda dy, y, args, scale, tf: [-dy],
    "multiply": lambda dy, y, args, scale, tf: [dy * args[1], dy * args[0]],
    "scale": lambda dy, y, args, scale, tf: [dy * scale],
}


class Program:
    """A genome's step as a forward interpreter plus its reverse-mode rules.

    Args:
        plan: The cell's `CellPlan` (genome, input width, units).

    Example:
        >>> from archsearch import zoo
        >>> prog = Program(CellPlan(zoo.get("lstm"), 4, 8))
        >>> prog.units, prog.n_x, [s.name for s in prog.sources]
        (8, 4, ['h'])
    """

    def __init__(self, plan: CellPlan):
        genome = self.genome = plan.genome
        self.plan, self.units = plan, plan.units
        self.n_x = len(plan.input_source.targets) if plan.input_source else 0
        self.lin = {node_id: k for k, node_id in enumerate(plan.linears)}
        self.sources = tuple(s for s in plan.sources if s.kind != "input")
        self.out = genome.states.index(genome.output)
        # dZ of the linear nodes is kept per step in groups: first the nodes
        # of the widest state projection in its column order, so its dZ U^T
        # needs no gather, then the others.
        states = sorted((s for s in self.sources if s.kind == "state"),
                        key=lambda s: -len(s.targets))
        first = states[0].targets if states else ()
        rest = tuple(n for n in plan.linears if n not in first)
        self.groups = tuple(g for g in (first, rest) if g)
        keep = {s.name for s in self.sources}  # projected values: weight gradients
        for node in genome.nodes:
            kind = OPS[node.op].keras
            if kind in _ACTIVATIONS:
                keep.add(node.id)
            elif kind in _READS_INPUTS:
                keep.update(node.inputs)
        self.keep = tuple(n for n in (*genome.states, *(n.id for n in genome.nodes))
                          if n in keep)

    def columns(self, grouped, targets, tf):
        """The blocks of `targets` (linear node ids) out of values laid out as `groups`."""
        u, where = self.units, [(g, ids.index(t)) for t in targets
                                for g, ids in enumerate(self.groups) if t in ids]
        g, first = where[0]
        if all(w == (g, first + k) for k, w in enumerate(where)):
            if len(targets) == len(self.groups[g]):
                return grouped[g]
            return grouped[g][..., first * u:(first + len(targets)) * u]
        return tf.concat([grouped[g][..., k * u:(k + 1) * u] for g, k in where], axis=-1)

    def step(self, xp_t, x_t, states, w, tf):
        """One forward step; returns (new states, every named value)."""
        plan, genome = self.plan, self.genome
        env = {INPUT: x_t, **dict(zip(genome.states, states, strict=True))}
        parts: dict[str, list] = {}

        def project(name):
            value = env[name]
            if w["rec_mask"] is not None and name in genome.states:
                value = value * w["rec_mask"]
            return tf.matmul(value, w["kernels"][name])

        def distribute(targets, wide):
            blocks = tf.split(wide, len(targets), axis=-1) if len(targets) > 1 else [wide]
            for target, block in zip(targets, blocks, strict=True):
                parts.setdefault(target, []).append(block)

        # Projections feeding the same nodes are summed whole, then split once
        # (for the LSTM: x W + b + h U, then four gates).
        wide = {} if xp_t is None else {plan.input_source.targets: xp_t}
        for name in genome.states:
            if plan.source(name) is not None:
                targets, y = plan.source(name).targets, project(name)
                wide[targets] = wide[targets] + y if targets in wide else y
        for targets, value in wide.items():
            distribute(targets, value)
        done = {INPUT, *genome.states}
        for node in genome.nodes:
            spec = OPS[node.op]
            if spec.keras == "project":
                for ref in node.inputs:
                    if ref not in done:
                        distribute(plan.source(ref).targets, project(ref))
                        done.add(ref)
                value = functools.reduce(lambda a, b: a + b, parts[node.id])
                if node.id not in plan.reads_x and w["bias"] is not None:
                    value = value + w["bias"][node.id]
            else:
                value = apply_op(spec, [env[r] for r in node.inputs], w["scales"].get(node.id))
            env[node.id] = value
        return [env[r] for r in genome.next_state], env

    def backward_step(self, d_new, values, w, tf):
        """Reverse of `step`: (grads of step inputs by name, dZ by linear node, d scale nodes)."""
        plan, genome = self.plan, self.genome
        grads: dict = {}

        def add(name, value):
            grads[name] = value if name not in grads else grads[name] + value

        for ref, d in zip(genome.next_state, d_new, strict=True):
            add(ref, d)
        dz, dscale = {}, {}
        for node in reversed(genome.nodes):
            dy = grads.pop(node.id, None)
            source = plan.source(node.id)
            if source is not None:  # an inner value projected by later linear nodes
                back = tf.matmul(tf.concat([dz[t] for t in source.targets], -1)
                                 if len(source.targets) > 1 else dz[source.targets[0]],
                                 w["kernels_t"][node.id])
                dy = back if dy is None else dy + back
            kind = OPS[node.op].keras
            if kind == "project":
                dz[node.id] = dy
                continue
            args = [values.get(ref) for ref in node.inputs]
            for ref, d in zip(node.inputs, _BACKWARD[kind](dy, values.get(node.id), args,
                                                            w["scales"].get(node.id), tf),
                              strict=True):
                add(ref, d)
            if node.id in plan.scales:
                dscale[node.id] = dy
        grouped = [tf.concat([dz[n] for n in ids], -1) if len(ids) > 1 else dz[ids[0]]
                   for ids in self.groups]
        for source in self.sources:
            if source.kind == "state":
                back = tf.matmul(self.columns(grouped, source.targets, tf),
                                 w["kernels_t"][source.name])
                add(source.name, back if w["rec_mask"] is None else back * w["rec_mask"])
        return grads, grouped, dscale


@functools.lru_cache(maxsize=256)
def program(plan: CellPlan) -> Program:
    """The (cached) `Program` of a cell plan."""
    return Program(plan)
