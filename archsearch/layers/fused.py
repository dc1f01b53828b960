"""The fused training path of `GenomeRNN`: a hand-written backward pass for any genome.

`fused_inner_loop` replaces the autodiff loop of `GenomeRNN.inner_loop` on the
TensorFlow backend with one `tf.custom_gradient` over the whole sequence. The
forward loop keeps what the backward needs (the values of activations, of
`mul`/`scale` operands and of projected values at every step); the backward
loop runs each op's elementwise derivative rule in reverse node order, and
its only matmul per step is `dZ @ U^T` from the projected values back to the
state. Every weight gradient (recurrent and inner kernels, biases, peepholes)
is one matmul or reduction over all steps after the loop, and the input
kernel's gradient comes from the hoisted input projection, also outside the
loop. Optionally both loops are XLA-compiled (`fused="xla"`).

`fused_member_loop` runs the same loops for K cells at once, each with its
own weights stacked on a leading member axis (population trials,
`archsearch.training.stacked`).

The autodiff loop (`GenomeCell.step` under `keras.src.backend.rnn`) stays the
reference: `tests/layers/test_fused.py` checks every gradient against it.
"""

from __future__ import annotations

import functools

import keras
from keras import ops

from archsearch.genome import INPUT
from archsearch.genome.layout import CellPlan
from archsearch.layers.fused_program import program

__all__ = ["FUSED_OPTIONS", "check_fused_option", "fused_inner_loop", "fused_member_loop",
           "uses_fused"]

FUSED_OPTIONS = ("auto", True, False, "xla")


def check_fused_option(value):
    """Returns `value` if it is a valid `GenomeRNN(fused=...)` option.

    Example:
        >>> check_fused_option("auto")
        'auto'
    """
    if not any(value is option or (isinstance(value, str) and value == option)
               for option in FUSED_OPTIONS):
        raise ValueError(f"fused must be one of {list(FUSED_OPTIONS)}. Received: fused={value!r}")
    return value


def uses_fused(layer) -> bool:
    """Whether `layer` (a `GenomeRNN`) trains through the fused path.

    `"auto"` means yes on the TensorFlow backend unless `unroll=True`; `True`
    and `"xla"` insist, and raise where the path cannot run.
    """
    option = getattr(layer, "fused", False)
    if option is False:
        return False
    supported = keras.backend.backend() == "tensorflow" and not layer.unroll
    if option == "auto" or supported:
        return supported
    raise ValueError("fused=True needs the TensorFlow backend and unroll=False. Received: "
                     f"backend={keras.backend.backend()!r}, unroll={layer.unroll!r}")



def _tf():
    import tensorflow as tf

    return tf


def _unstacked(seq, tf):
    return tf.TensorArray(seq.dtype, size=tf.shape(seq)[0]).unstack(seq)


def _forward(prog, xp, x, mask, states, w, return_sequences, zero_output):
    """The time loop: (outputs or last output, final states, kept values stacked)."""
    tf = _tf()
    steps = tf.shape(xp if xp is not None else x)[0]
    xp_ta, x_ta = (None if s is None else _unstacked(s, tf) for s in (xp, x))
    mask_ta = None if mask is None else _unstacked(mask, tf)
    dtype = states[0].dtype
    carry = {"states": tuple(states),
             "keep": tuple(tf.TensorArray(dtype, size=steps) for _ in prog.keep)}
    if mask is not None:
        carry["out"] = tf.zeros_like(states[prog.out])
    if return_sequences:
        carry["seq"] = tf.TensorArray(dtype, size=steps)

    def body(t, c):
        new, env = prog.step(None if xp_ta is None else xp_ta.read(t),
                             None if x_ta is None else x_ta.read(t), list(c["states"]), w, tf)
        c = dict(c, keep=tuple(ta.write(t, env[n]) for ta, n in zip(c["keep"], prog.keep,
                                                                      strict=True)))
        out = new[prog.out]
        if mask_ta is not None:
            m = mask_ta.read(t)
            new = [tf.where(m, a, b) for a, b in zip(new, c["states"], strict=True)]
            out = c["out"] = tf.where(m, out, tf.zeros((), dtype) if zero_output else c["out"])
        if return_sequences:
            c["seq"] = c["seq"].write(t, out)
        return t + 1, dict(c, states=tuple(new))

    _, c = tf.while_loop(lambda t, c: t < steps, body, (tf.constant(0), carry),
                         maximum_iterations=steps)
    outputs = c["seq"].stack() if return_sequences \
        else c["out"] if mask is not None else c["states"][prog.out]
    kept = {n: ta.stack() for n, ta in zip(prog.keep, c["keep"], strict=True)}
    return outputs, list(c["states"]), kept


def _backward(prog, x, mask, kept, w, d_out, d_final, return_sequences, zero_output,
              members=False, steps=None):
    """The reverse time loop, then every weight gradient as one matmul or sum.

    With `members`, values carry a member axis after time (`(T, K, B, ...)`)
    and every weight one in front (`(K, ...)`): the gradients are per member.
    `steps` is the sequence length (by default read from a kept value or `x`;
    a step that keeps nothing and reads `x` only through its projection has
    neither).
    """
    tf = _tf()
    plan, u, n_x = prog.plan, prog.units, prog.n_x
    if steps is None:
        steps = tf.shape(next(iter(kept.values())) if kept else x)[0]
    dtype = d_final[0].dtype
    zero = tf.zeros((), dtype)
    tas = {n: _unstacked(v, tf) for n, v in kept.items()}
    if x is not None:
        tas[INPUT] = _unstacked(x, tf)
    mask_ta = None if mask is None else _unstacked(mask, tf)
    seq_ta = _unstacked(d_out, tf) if return_sequences else None
    carry = {"d": tuple(d_final)}
    if mask is not None:
        carry["out"] = tf.zeros_like(d_final[0]) if return_sequences else d_out
    writes = [f"dz{k}" for k in range(len(prog.groups))] + list(plan.scales) \
        + ([INPUT] if x is not None else [])
    carry["w"] = tuple(tf.TensorArray(dtype, size=steps) for _ in writes)

    def body(i, c):
        t = steps - 1 - i
        values = {n: ta.read(t) for n, ta in tas.items()}
        d_new, passed = list(c["d"]), [None] * len(c["d"])
        d_o = seq_ta.read(t) if seq_ta is not None else None
        if mask_ta is not None:
            m = mask_ta.read(t)
            d_o = c["out"] if d_o is None else d_o + c["out"]
            passed = [tf.where(m, zero, d) for d in d_new]
            d_new = [tf.where(m, d, zero) for d in d_new]
            d_new[prog.out] += tf.where(m, d_o, zero)
            c = dict(c, out=tf.zeros_like(d_o) if zero_output else tf.where(m, zero, d_o))
        elif d_o is not None:
            d_new[prog.out] += d_o
        grads, grouped, dscale = prog.backward_step(d_new, values, w, tf)
        d_prev = []
        for slot, p, d in zip(prog.genome.states, passed, c["d"], strict=True):
            g = grads.get(slot)
            d_prev.append(tf.zeros_like(d) if g is None and p is None
                          else g if p is None else p if g is None else g + p)
        got = {**{f"dz{k}": v for k, v in enumerate(grouped)}, **dscale,
               INPUT: grads.get(INPUT)}
        out = tuple(ta.write(t, got[k] if got[k] is not None else tf.zeros_like(values[INPUT]))
                    for ta, k in zip(c["w"], writes, strict=True))
        return i + 1, dict(c, d=tuple(d_prev), w=out)

    _, c = tf.while_loop(lambda i, c: i < steps, body, (tf.constant(0), carry),
                         maximum_iterations=steps)
    stacked = {k: ta.stack() for k, ta in zip(writes, c["w"], strict=True)}
    dz = [stacked[f"dz{k}"] for k in range(len(prog.groups))]
    d_kernels = {}
    for source in prog.sources:
        v = kept[source.name]
        if source.kind == "state" and w["rec_mask"] is not None:
            v = v * w["rec_mask"]
        cols = prog.columns(dz, source.targets, tf)
        if members:  # (T, K, B, W) x (T, K, B, N) -> (K, W, N)
            d_kernels[source.name] = tf.einsum("tkbw,tkbn->kwn", v, cols)
        else:
            d_kernels[source.name] = tf.matmul(tf.reshape(v, (-1, source.width)),
                                               tf.reshape(cols, (-1, len(source.targets) * u)),
                                               transpose_a=True)
    all_values = {INPUT: x, **kept}
    axes = (0, 2) if members else (0, 1)  # time and batch
    d_scales = {s: tf.reduce_sum(stacked[s] * all_values[prog.genome.node(s).inputs[0]], axes)
                for s in plan.scales}
    bias_targets = plan.linears[n_x:]
    return {"xp": prog.columns(dz, plan.input_source.targets, tf) if n_x else None,
            "x": stacked.get(INPUT),
            "states": list(c["d"]), "kernels": d_kernels, "scales": d_scales,
            "bias": prog.columns([tf.reduce_sum(d, axes) for d in dz], bias_targets, tf)
            if bias_targets else None}


@functools.lru_cache(maxsize=1)
def _loops(jit_compile: bool):
    if not jit_compile:
        return _forward, _backward
    tf = _tf()
    return (tf.function(_forward, jit_compile=True, reduce_retracing=True),
            tf.function(_backward, jit_compile=True, reduce_retracing=True))


def _fused_sequence(prog, xp, x, mask, rec_mask, states, kernels, bias, scales,
                    return_sequences, zero_output, jit_compile):
    """Runs the loop under one `tf.custom_gradient`; returns (outputs, final states)."""
    tf = _tf()
    forward, backward = _loops(jit_compile)
    names, scale_ids, n = [s.name for s in prog.sources], list(prog.plan.scales), len(states)
    optional = {"xp": xp is not None, "x": x is not None, "bias": bias is not None}
    args = [*([xp] if optional["xp"] else []), *([x] if optional["x"] else []), *states,
            *(kernels[k] for k in names), *([bias] if optional["bias"] else []),
            *(scales[s] for s in scale_ids)]
    u, n_x = prog.units, prog.n_x
    sg = tf.stop_gradient
    # Member-stacked weights (population trials): a leading K axis on every
    # weight, and per-member vectors broadcast over the batch as (K, 1, n).
    members = len(states[0].shape) == 3
    vector = (lambda v: v[:, None, :]) if members else (lambda v: v)

    @tf.custom_gradient
    def run(*args):
        it = iter(args)
        xp_, x_ = (next(it) if optional[k] else None for k in ("xp", "x"))
        states_ = [next(it) for _ in range(n)]
        kernels_ = {k: next(it) for k in names}
        bias_ = next(it) if optional["bias"] else None
        w = {"kernels": {k: sg(v) for k, v in kernels_.items()},
             "scales": {s: vector(sg(next(it))) for s in scale_ids},
             "rec_mask": None if rec_mask is None else sg(rec_mask),
             "bias": None if bias_ is None else {
                 node: vector(sg(bias_[..., (prog.lin[node] - n_x) * u:
                                       (prog.lin[node] - n_x + 1) * u]))
                 for node in prog.plan.linears[n_x:]}}
        x_in = None if x_ is None else sg(x_)
        outputs, finals, kept = forward(prog, None if xp_ is None else sg(xp_), x_in, mask,
                                        [sg(s) for s in states_], w, return_sequences,
                                        zero_output)

        def grad(*dys, variables=None):
            d_out, d_final = dys[0], list(dys[1:])
            d_out = tf.zeros_like(outputs) if d_out is None else d_out
            d_final = [tf.zeros_like(f) if d is None else d
                       for d, f in zip(d_final, finals, strict=True)]
            if mask is None and not return_sequences:
                d_final[prog.out] = d_final[prog.out] + d_out
            w_back = dict(w, kernels_t={k: tf.linalg.matrix_transpose(v)
                                        for k, v in w["kernels"].items()})
            g = backward(prog, x_in, mask, kept, w_back, d_out, d_final, return_sequences,
                         zero_output, members, tf.shape(xp_ if xp_ is not None else x_)[0])
            grads = [*([g["xp"]] if optional["xp"] else []), *([g["x"]] if optional["x"] else []),
                     *g["states"], *(g["kernels"][k] for k in names),
                     *([g["bias"]] if optional["bias"] else []),
                     *(g["scales"][s] for s in scale_ids)]
            if variables:
                raise ValueError("the fused GenomeRNN loop expects weights as tensors. Received: "
                                 f"variables={[v.name for v in variables]}")
            return grads

        return (outputs, *finals), grad

    result = run(*args)
    return result[0], list(result[1:])


def fused_inner_loop(layer, sequences, initial_state, mask, training=False):
    """`GenomeRNN.inner_loop` through the fused path; same inputs and results.

    Args:
        layer: A built `GenomeRNN`.
        sequences: `(batch, timesteps, input_dim)` tensor.
        initial_state: List of `(batch, units)` tensors, one per state slot.
        mask: `(batch, timesteps)` boolean mask or None.
        training: Whether dropout is active.

    Returns:
        `(last_output, outputs, states)` as `keras.src.backend.rnn` returns them.
    """
    tf = _tf()
    cell = layer.cell
    dtype = cell.compute_dtype
    if isinstance(mask, list | tuple):
        mask = mask[0]
    sequences, rec_mask = cell.sequence_dropout(sequences, initial_state, training)
    x = tf.transpose(sequences, (1, 0, 2))
    xp = cell.project_input(x)
    if mask is not None:
        mask = tf.expand_dims(tf.transpose(tf.cast(mask, "bool")), -1)
    seqs = [xp, x if cell.plan.x_raw else None, mask]
    if layer.go_backwards:
        seqs = [None if s is None else tf.reverse(s, [0]) for s in seqs]
    prog = program(cell.plan)
    kernels = {s.name: ops.cast(cell.kernels[s.name].value, dtype) for s in prog.sources}
    bias = getattr(cell, "bias", None)
    bias = None if bias is None or len(prog.plan.linears) == prog.n_x \
        else ops.cast(bias.value, dtype)[prog.n_x * prog.units:]
    scales = {s: ops.cast(cell.scales[s].value, dtype) for s in prog.plan.scales}
    states = [ops.cast(s, dtype) for s in initial_state]
    outputs, states = _fused_sequence(
        prog, seqs[0], seqs[1], seqs[2], rec_mask, states, kernels, bias, scales,
        layer.return_sequences, layer.zero_output_for_mask, layer.fused == "xla")
    if layer.return_sequences:
        return outputs[-1], tf.transpose(outputs, (1, 0, 2)), states
    return outputs, tf.expand_dims(outputs, 1), states


def fused_member_loop(plan: CellPlan, xp, x, mask, states, kernels, bias, scales,
                      return_sequences: bool):
    """The fused loop of K cells at once, each with its own weights (population trials).

    The same interpreter and hand-written backward as `fused_inner_loop`,
    with a member axis: matmuls are batched over it, and every weight
    gradient is per member. Masked steps keep the previous states and output.

    Args:
        plan: The cell's `CellPlan`.
        xp: `(T, K, B, n_x * units)` projected inputs, or None.
        x: `(T, K, B, input_dim)` raw inputs where the plan reads them, else None.
        mask: `(T, K, B, 1)` booleans, or None.
        states: Initial states, each `(K, B, units)`.
        kernels: `(K, width, n * units)` per projected source, by name (not the input's).
        bias: `(K, n * units)` bias of the linear nodes that do not read the input, or None.
        scales: `(K, units)` per `scale` node.
        return_sequences: Whether to return every step's output.

    Returns:
        `(outputs, final states)`: outputs `(T, K, B, units)`, or the last `(K, B, units)`.
    """
    return _fused_sequence(program(plan), xp, x, mask, None, list(states), kernels, bias,
                           scales, return_sequences, False, False)
