"""`GenomeCell`: any genome as a Keras RNN cell (the portable, per-step path)."""

from __future__ import annotations

import json

import keras
import numpy as np
from keras import ops

from archsearch.compat.keras import DropoutRNNCell
from archsearch.genome import INPUT, Genome, GenomeError, zoo
from archsearch.genome.layout import CellPlan
from archsearch.genome.ops import OPS
from archsearch.layers.chrono import CHRONO, ChronoInitializer
from archsearch.layers.chrono import forget_bias_initializer as resolve_forget_initializer

__all__ = ["GenomeCell", "apply_op", "as_genome", "check_forget_gate", "wants_chrono"]

FORGET_NODE = "f_pre"  # the zoo's forget-gate pre-activation (lstm, lstm_b, peephole_lstm)
INPUT_GATE_NODE = "i_pre"  # its input gate's, which chrono starts at minus the forget bias
_REGULARIZERS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")
_CONSTRAINTS = ("kernel_constraint", "recurrent_constraint", "bias_constraint")


def as_genome(genome) -> Genome:
    """Accepts a `Genome`, its dict or JSON text, or a zoo cell name."""
    if isinstance(genome, Genome):
        return genome
    if isinstance(genome, dict):
        return Genome.from_dict(genome)
    if isinstance(genome, str):
        text = genome.strip()
        return Genome.from_json(text) if text.startswith("{") else zoo.get(text)
    raise GenomeError(f"expected a Genome, its JSON or a zoo cell name. Received: {genome!r}")


def apply_op(spec, args, scale=None):
    """Computes a non-projection op from its input values, as `spec.keras` says.

    The one compiler branch per kind of `archsearch.genome.ops.KERAS_SPECIAL`
    (`project` is the caller's: it needs the cell's fused kernels); any other
    kind names a `keras.ops` function applied to the inputs in order.

    Args:
        spec: The op's `OpSpec` (`archsearch.genome.ops.OPS[node.op]`).
        args: The input values, in the node's order.
        scale: The node's learned per-unit vector, for `scale` ops.

    Returns:
        The node's value.

    Example:
        >>> from archsearch.genome.ops import OPS
        >>> float(apply_op(OPS["one_minus"], [0.25]))
        0.75
    """
    if spec.keras == "project":
        raise ValueError("expected a non-projection op: `project` needs the cell's kernels. "
                         f"Received: spec.name={spec.name!r}")
    if spec.keras == "scale":
        return args[0] * scale
    if spec.keras == "pass":
        return args[0]
    if spec.keras == "one_minus":
        return 1.0 - args[0]
    return getattr(ops, spec.keras)(*args)


class _NearIdentity(keras.initializers.Initializer):
    """Wraps an initializer; blocks for the paper's Linear(a, x) become a*I + small noise."""

    def __init__(self, base, blocks, units):
        self.base, self.blocks, self.units = base, blocks, units

    def __call__(self, shape, dtype=None):
        value = self.base(shape, dtype=dtype)
        scale = np.ones(shape, dtype="float32")
        shift = np.zeros(shape, dtype="float32")
        for offset, a in self.blocks:
            scale[:, offset:offset + self.units] = 0.1
            shift[:, offset:offset + self.units] = a * np.eye(shape[0], self.units)
        return value * ops.convert_to_tensor(scale, dtype) + ops.convert_to_tensor(shift, dtype)


def check_forget_gate(genome: Genome, what: str) -> None:
    """Raises ValueError naming `genome` unless it has the forget-gate node `f_pre`.

    Args:
        genome: The cell.
        what: The option that needs the gate, with its value (for the message).
    """
    node = next((n for n in genome.nodes if n.id == FORGET_NODE), None)
    if node is None or OPS[node.op].keras != "project":
        name = genome.name or f"fingerprint {genome.fingerprint()[:12]}"
        raise ValueError(
            f"{what} needs a cell whose forget gate is identifiable: a linear node "
            f"{FORGET_NODE!r}, as in the LSTM family (lstm, lstm_b, peephole_lstm, ...). "
            f"Received: cell {name!r}, which has none")


def wants_chrono(genome: Genome) -> bool:
    """Whether the genome starts its forget gate chrono-initialised (`f_pre` param `chrono: 1`).

    The genome stays data: the flag says "draw this bias as
    `ChronoInitializer` does", and the layer that builds the cell supplies
    T_max (`chrono_tmax`, in a search the task's dependency length).

    Raises:
        ValueError: `chrono` set on a node other than the forget gate's
            linear node `f_pre`, or to a value other than 0 or 1.

    Example:
        >>> from archsearch.genome import zoo
        >>> wants_chrono(zoo.get("lstm"))
        False
    """
    flagged = [n for n in genome.nodes if n.param("chrono")]
    name = genome.name or f"fingerprint {genome.fingerprint()[:12]}"
    for node in flagged:
        if node.id != FORGET_NODE or OPS[node.op].keras != "project":
            raise ValueError(f"cell {name!r}: param chrono is only read on the forget gate's "
                             f"linear node {FORGET_NODE!r}. Received: chrono on node {node.id!r}")
        if node.param("chrono") != 1.0:
            raise ValueError(f"cell {name!r}: expected chrono to be 0 (off) or 1 (on) on node "
                             f"{node.id!r}. Received: chrono={node.param('chrono')!r}")
    return bool(flagged)


class _GenomeBias(keras.initializers.Initializer):
    """`base` everywhere except where `mask` is set: there the fixed `values`.

    `forget`, if given, is `(forget slice, initializer, tied slice or None)`:
    the forget gate's block is drawn from the initializer, and the tied block
    (chrono's input gate) set to its negation.
    """

    def __init__(self, base, mask, values, forget=None):
        self.base, self.mask, self.values, self.forget = base, mask, values, forget

    def __call__(self, shape, dtype=None):
        fixed = ops.convert_to_tensor(self.values, dtype)
        value = ops.where(ops.convert_to_tensor(self.mask), fixed, self.base(shape, dtype=dtype))
        if self.forget is not None:
            where, init, tied = self.forget
            drawn = ops.cast(init((where.stop - where.start,), dtype=dtype), value.dtype)
            value = ops.slice_update(value, [where.start], drawn)
            if tied is not None:
                value = ops.slice_update(value, [tied.start], -drawn)
        return value


@keras.saving.register_keras_serializable(package="archsearch")
class GenomeCell(keras.layers.Layer, DropoutRNNCell):
    """A recurrent cell computed from a genome, for `keras.layers.RNN`.

    Follows the Keras cell contract (`state_size`, `output_size`, `build`,
    `call(inputs, states, training)`), so it works in `keras.layers.RNN`,
    `Bidirectional`, stacks of cells, with masking and `return_state`. The
    genome travels in `get_config` as JSON data, so models reload with
    `keras.saving.load_model(..., safe_mode=True)` once archsearch is imported.
    For speed over whole sequences use `GenomeRNN`, which runs the same weights.

    Args:
        genome: A `Genome`, its JSON text or dict, or a zoo cell name.
        units: Width of every state slot and of the output.
        kernel_initializer: Initializer of the projections of `x`.
        recurrent_initializer: Initializer of the projections of states and of
            values computed inside the step.
        peephole_initializer: Initializer of `scale` (peephole) vectors.
        use_bias: Whether linear nodes have biases. Without them the genome's
            own bias values (e.g. LSTM-b's forget bias) are unused.
        bias_initializer: Initializer of the biases of linear nodes whose
            genome sets no bias (a node's own non-zero bias, such as LSTM-b's
            forget bias 1, is kept).
        unit_forget_bias: `None` keeps the genome's forget bias; `True` starts
            the forget-gate node `f_pre` at 1 (as Keras' `LSTM`); `False`
            draws it from `bias_initializer` like the other biases. Needs a
            genome with an `f_pre` node when not `None`.
        kernel_regularizer: Regularizer of the projections of `x`.
        recurrent_regularizer: Regularizer of the other projections.
        bias_regularizer: Regularizer of the biases.
        kernel_constraint: Constraint on the projections of `x`.
        recurrent_constraint: Constraint on the other projections.
        bias_constraint: Constraint on the biases.
        dropout: Fraction of the input units to drop (same mask at every step).
        recurrent_dropout: Fraction of the state units to drop before the
            recurrent projections.
        seed: Seed of the dropout masks (and of a `"chrono"` draw).
        forget_bias_initializer: `None` keeps the genome's forget bias;
            `"chrono"` draws it as `log(U[1, chrono_tmax - 1])` per unit and
            starts the input gate `i_pre` at its negation (Tallec & Ollivier
            2018, see `ChronoInitializer`); a number or any Keras initializer
            initialises the forget gate `f_pre` alone. Needs a genome with an
            `f_pre` node when not `None`; excludes `unit_forget_bias`.
        chrono_tmax: T_max of `forget_bias_initializer="chrono"`: the
            longest dependency in steps (> 2).

    Call arguments:
        inputs: `(batch, input_dim)` input at one step.
        states: List of `(batch, units)` tensors, one per state slot.
        training: Whether dropout is active.

    Example:
        >>> import keras, numpy as np
        >>> cell = GenomeCell("gru", units=8)
        >>> layer = keras.layers.RNN(cell, return_sequences=True)
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 5, 8)
    """

    def __init__(self, genome, units, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", peephole_initializer=None, use_bias=True,
                 bias_initializer="zeros", unit_forget_bias=None, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, forget_bias_initializer=None,
                 chrono_tmax=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int | np.integer) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        self.genome = as_genome(genome)
        self.units = int(units)
        if unit_forget_bias is not None and not any(
                n.id == FORGET_NODE for n in self.genome.nodes):
            raise ValueError(
                f"unit_forget_bias needs a genome with a forget-gate node {FORGET_NODE!r}; "
                f"use None for other cells. Received: unit_forget_bias={unit_forget_bias!r} "
                f"for genome {self.genome.name!r}")
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = None if unit_forget_bias is None else bool(unit_forget_bias)
        if forget_bias_initializer is None and wants_chrono(self.genome):
            if chrono_tmax is None:
                raise ValueError(
                    f"cell {self.genome.name or 'genome'!r} starts its forget gate chrono-"
                    f"initialised (node {FORGET_NODE!r}, param chrono=1), which needs "
                    f"chrono_tmax, the longest dependency in steps. Received: chrono_tmax=None")
            forget_bias_initializer = CHRONO
        self.forget_bias_initializer = resolve_forget_initializer(
            forget_bias_initializer, chrono_tmax, seed)
        if self.forget_bias_initializer is not None:
            what = f"forget_bias_initializer={forget_bias_initializer!r}"
            check_forget_gate(self.genome, what)
            if unit_forget_bias is not None or not self.use_bias:
                raise ValueError(f"{what} sets the forget-gate bias: expected "
                                 "unit_forget_bias=None and use_bias=True. Received: "
                                 f"unit_forget_bias={unit_forget_bias!r}, use_bias={use_bias!r}")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.peephole_initializer = keras.initializers.get(
            peephole_initializer or keras.initializers.RandomUniform(-0.1, 0.1, seed=seed))
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = [self.units] * len(self.genome.states)
        self.output_size = self.units
        self.plan: CellPlan | None = None

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        self.plan = plan = CellPlan(self.genome, input_dim, self.units)
        self.kernels = {}
        for source in plan.sources:
            is_x = source.kind == "input"
            base = self.kernel_initializer if is_x else self.recurrent_initializer
            blocks = plan.identity_blocks(source)
            init = _NearIdentity(base, blocks, self.units) if blocks else base
            self.kernels[source.name] = self.add_weight(
                shape=(source.width, len(source.targets) * self.units),
                initializer=init, name=source.weight_name,
                regularizer=self.kernel_regularizer if is_x else self.recurrent_regularizer,
                constraint=self.kernel_constraint if is_x else self.recurrent_constraint)
        self.bias = None
        if self.use_bias and plan.linears:
            self.bias = self.add_weight(
                shape=(len(plan.linears) * self.units,), name="bias",
                initializer=_GenomeBias(self.bias_initializer, *self._fixed_biases(),
                                        forget=self._forget_bias()),
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.scales = {
            node_id: self.add_weight(
                shape=(plan.width[self.genome.node(node_id).inputs[0]],),
                initializer=self.peephole_initializer, name=f"peephole_{node_id}")
            for node_id in plan.scales}
        self.n_x = len(plan.input_source.targets) if plan.input_source else 0

    def _fixed_biases(self):
        """(mask, values): bias entries set by the genome or `unit_forget_bias`."""
        values = self.plan.bias_init()
        mask = values != 0
        if self.unit_forget_bias is not None:
            where = self.plan.bias_slice(FORGET_NODE)
            mask[where] = self.unit_forget_bias
            values[where] = 1.0
        return mask, values

    def _forget_bias(self):
        """`_GenomeBias`'s `forget` argument, or None without `forget_bias_initializer`."""
        init = self.forget_bias_initializer
        if init is None:
            return None
        tied = None
        if isinstance(init, ChronoInitializer) and INPUT_GATE_NODE in self.plan.linears:
            tied = self.plan.bias_slice(INPUT_GATE_NODE)
        return self.plan.bias_slice(FORGET_NODE), init, tied

    # -- the math of one step, shared with GenomeRNN ---------------------------
    def sequence_dropout(self, sequences, initial_state, training):
        """`(sequences, recurrent mask)` for a whole-sequence loop of this cell.

        Input dropout is applied to `sequences` (batch-major, one mask for all
        steps, as Keras' RNN layers do); the recurrent mask is None without
        recurrent dropout or outside training.
        """
        if training and self.dropout > 0:
            mask = self.get_dropout_mask(sequences[:, 0, :])
            sequences = sequences * ops.expand_dims(mask, 1)
        rec_mask = None
        if training and self.recurrent_dropout > 0:
            rec_mask = self.get_recurrent_dropout_mask(initial_state[0])
        return sequences, rec_mask

    def project_input(self, x):
        """X @ kernel + the biases of x-reading nodes; works on (..., input_dim)."""
        if not self.n_x:
            return None
        y = ops.matmul(x, self.kernels[INPUT])
        return y if self.bias is None else y + self.bias[: self.n_x * self.units]

    def step(self, x_projection, x, states, recurrent_mask=None):
        """Runs one step from the already projected input; returns (output, states)."""
        plan, genome = self.plan, self.genome
        env = dict(zip(genome.states, states, strict=True))
        env[INPUT] = x
        parts: dict[str, list] = {}

        def project(name, value):
            source = plan.source(name)
            if recurrent_mask is not None and source.kind == "state":
                value = value * recurrent_mask
            y = ops.matmul(value, self.kernels[name])
            blocks = ops.split(y, len(source.targets), axis=-1) if len(source.targets) > 1 \
                else [y]
            for target, block in zip(source.targets, blocks, strict=True):
                parts.setdefault(target, []).append(block)

        if x_projection is not None:
            blocks = ops.split(x_projection, self.n_x, axis=-1) if self.n_x > 1 \
                else [x_projection]
            for target, block in zip(plan.input_source.targets, blocks, strict=True):
                parts[target] = [block]
        for name in genome.states:
            if plan.source(name) is not None:
                project(name, env[name])
        projected = {INPUT, *genome.states}
        for node in genome.nodes:
            spec = OPS[node.op]
            if spec.keras == "project":
                for ref in node.inputs:
                    if ref not in projected:
                        project(ref, env[ref])
                        projected.add(ref)
                total = parts[node.id][0]
                for extra in parts[node.id][1:]:
                    total = total + extra
                if self.bias is not None and node.id not in plan.reads_x:
                    total = total + self.bias[plan.bias_slice(node.id)]
                env[node.id] = total
            else:
                env[node.id] = apply_op(spec, [env[ref] for ref in node.inputs],
                                        self.scales.get(node.id))
        new_states = [env[ref] for ref in genome.next_state]
        return new_states[genome.states.index(genome.output)], new_states

    def call(self, inputs, states, training=False):
        if not isinstance(states, list | tuple):
            states = [states]
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        rec_mask = None
        if training and self.recurrent_dropout > 0:
            rec_mask = self.get_recurrent_dropout_mask(states[0])
        return self.step(self.project_input(inputs), inputs, list(states), rec_mask)

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
                for _ in self.genome.states]

    # -- weights by node, for conversions and inspection ----------------------
    def _block(self, node_id: str, source_name: str):
        source = self.plan.source(source_name)
        if source is None or node_id not in source.targets:
            raise GenomeError(f"node {node_id!r} has no projection of {source_name!r}")
        k = source.block(node_id) * self.units
        return self.kernels[source_name], slice(k, k + self.units)

    def set_projection(self, node_id: str, source_name: str, value) -> None:
        """Sets linear node `node_id`'s matrix applied to `source_name`."""
        weight, cols = self._block(node_id, source_name)
        full = ops.convert_to_numpy(weight).copy()
        full[:, cols] = np.asarray(value)
        weight.assign(full)

    def get_projection(self, node_id: str, source_name: str):
        """Returns linear node `node_id`'s matrix applied to `source_name` (numpy)."""
        weight, cols = self._block(node_id, source_name)
        return ops.convert_to_numpy(weight)[:, cols]

    def get_bias(self, node_id: str):
        """Returns linear node `node_id`'s bias vector (numpy)."""
        if self.bias is None:
            raise ValueError(f"the cell was built with use_bias=False, so node {node_id!r} "
                             "has no bias. Received: use_bias=False")
        return ops.convert_to_numpy(self.bias)[self.plan.bias_slice(node_id)]

    def set_bias(self, node_id: str, value) -> None:
        """Sets linear node `node_id`'s bias vector."""
        if self.bias is None:
            raise ValueError(f"the cell was built with use_bias=False, so node {node_id!r} "
                             "has no bias to set. Received: use_bias=False")
        full = ops.convert_to_numpy(self.bias).copy()
        full[self.plan.bias_slice(node_id)] = np.asarray(value)
        self.bias.assign(full)

    def get_config(self):
        config = {
            "genome": self.genome.to_dict(),
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "peephole_initializer": keras.initializers.serialize(self.peephole_initializer),
            "use_bias": self.use_bias,
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "forget_bias_initializer": None if self.forget_bias_initializer is None else
            keras.initializers.serialize(self.forget_bias_initializer),
            "chrono_tmax": self.forget_bias_initializer.t_max if isinstance(
                self.forget_bias_initializer, ChronoInitializer) else None,
            **{name: keras.regularizers.serialize(getattr(self, name)) for name in _REGULARIZERS},
            **{name: keras.constraints.serialize(getattr(self, name)) for name in _CONSTRAINTS},
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        genome = config.pop("genome")
        if isinstance(genome, str):
            genome = json.loads(genome)
        return cls(as_genome(genome), **config)
