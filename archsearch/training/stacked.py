"""`StackedModel`: K copies of `build_model`'s network as one batched computation.

Every weight of the K member models is stacked on a leading member axis, so
one matmul per projection serves all members (`tf.matmul` on `(K, ...)`
operands). The recurrent loop is `GenomeRNN`'s fused path with a member axis
(`archsearch.layers.fused.fused_member_loop`): the same interpreter of the
genome and the same hand-written backward, so the math of a cell exists once.
The optimizer (Keras' Adam or plain SGD, clipped by each member's global
gradient norm as `build_model`'s optimizer is) is `MemberOptimizer`, over
one `(K, P)` matrix of every member's weights, with a learning rate, clip
norm and on/off switch per member.

Supported: `build_model`'s embedding (or dense input) -> stacked GenomeRNN ->
dense head, masked ("last"), regression or sequence outputs, one or more
layers, no dropout, not stateful, no attention pooling.
"""

from __future__ import annotations

import numpy as np

from archsearch.genome import INPUT
from archsearch.layers import GenomeCell
from archsearch.training.member_optimizer import MemberOptimizer

__all__ = ["StackedModel"]


class _MemberSlices:
    """`bias[cols]` on a stacked `(K, n)` bias gives `(K, 1, len(cols))`."""

    def __init__(self, stacked):
        self.stacked = stacked

    def __getitem__(self, cols):
        return self.stacked[:, None, cols]


class _StackedCell:
    """What `GenomeCell.step` reads from a cell, with member-stacked weights."""

    def __init__(self, cell, kernels, bias, scales):
        self.plan, self.genome, self.units, self.n_x = cell.plan, cell.genome, cell.units, cell.n_x
        self.kernels = kernels
        self.bias = None if bias is None else _MemberSlices(bias)
        self.scales = {k: v[:, None, :] for k, v in scales.items()}

    def __getattr__(self, name):
        # Helper methods `GenomeCell.step` calls run on the stacked weights too.
        attr = getattr(GenomeCell, name, None)
        if callable(attr):
            return attr.__get__(self)
        raise AttributeError(f"Expected a GenomeCell method. Received: name={name!r}")


def _proxy(cell, weights):
    """`cell` reading one layer's member-stacked `weights` (`GenomeCell` methods work on it)."""
    return _StackedCell(cell, weights["kernels"], weights["bias"], weights["scales"])


def _layers(model):
    from keras import layers

    from archsearch.layers import GenomeRNN

    found = {"input": None, "rnn": [], "head": None}
    for layer in model.layers:
        if isinstance(layer, GenomeRNN):
            found["rnn"].append(layer)
        elif isinstance(layer, layers.Embedding | layers.Dense):
            found["head" if found["rnn"] else "input"] = layer
        elif not isinstance(layer, layers.InputLayer):
            raise ValueError("population trials support embedding/dense -> GenomeRNN -> dense "
                             f"models. Received: a {type(layer).__name__} layer")
    return found


class StackedModel:
    """The K member models of a population, stacked into one set of variables.

    Args:
        models: K Keras models from `build_model` with identical shapes.
        data: the `TaskData` they were built for (output kind and loss).
        optimizer: `"adam"` or `"sgd"` (Keras' defaults otherwise).
        clip_norms: per-member global-norm clip.

    Example:
        >>> from types import SimpleNamespace
        >>> from archsearch.training import build_model, resolve
        >>> data = SimpleNamespace(batch_size=2, stateful=False, input_kind="tokens",
        ...     vocab_size=7, output="sequence", num_outputs=7, info={},
        ...     loss="sparse_categorical_crossentropy")
        >>> models = [build_model("gru", resolve({"units": 4}), data, seed=s)[0] for s in (0, 1)]
        >>> stacked = StackedModel(models, data, "sgd", [5.0, 5.0])
        >>> tuple(stacked.logits(np.ones((2, 2, 3), "int32")).shape)
        (2, 2, 3, 7)
    """

    def __init__(self, models, data, optimizer: str, clip_norms):
        import tensorflow as tf

        self.k, self.data, self.optimizer = len(models), data, optimizer
        parts = [_layers(m) for m in models]
        first = parts[0]
        self.rnn_layers = first["rnn"]
        self.masked = data.output == "last"
        self.last_step = data.output in ("last", "regression")

        self._getters = {}  # variable -> where each member model keeps that weight

        def stack(getter, name):
            var = tf.Variable(np.stack([np.asarray(getter(p)) for p in parts]), name=name)
            self._getters[var.ref()] = getter
            return var

        dense_in = data.input_kind == "multi_hot"
        self.input = {"kernel": stack(lambda p: p["input"].kernel if dense_in
                                      else p["input"].embeddings, "input_kernel")}
        if dense_in:
            self.input["bias"] = stack(lambda p: p["input"].bias, "input_bias")
        self.rnn = []
        for i, layer in enumerate(self.rnn_layers):
            cell = layer.cell
            self.rnn.append({
                "kernels": {n: stack(lambda p, n=n, i=i: p["rnn"][i].cell.kernels[n], f"k{i}_{n}")
                            for n in cell.kernels},
                "bias": None if cell.bias is None else stack(
                    lambda p, i=i: p["rnn"][i].cell.bias, f"b{i}"),
                "scales": {n: stack(lambda p, n=n, i=i: p["rnn"][i].cell.scales[n], f"s{i}_{n}")
                           for n in cell.scales}})
        self.head = {"kernel": stack(lambda p: p["head"].kernel, "head_kernel"),
                     "bias": stack(lambda p: p["head"].bias, "head_bias")}
        self.variables = tf.nest.flatten([self.input, self.rnn, self.head])
        expected = len(models[0].trainable_weights)
        if len(self.variables) != expected:
            raise ValueError(f"Expected to stack all {expected} trainable weights of the member "
                             f"model. Received: {len(self.variables)} stacked")
        self.member_optimizer = MemberOptimizer(self.variables, optimizer, clip_norms)
        self.best = [tf.Variable(v) for v in self.variables]

    def load(self, models, clip_norms) -> None:
        """Starts afresh from new member `models` of the same shapes.

        Takes their weights and `clip_norms` and zeroes the optimizer state;
        functions traced on this model stay valid.
        """
        parts = [_layers(m) for m in models]
        if len(parts) != self.k:
            raise ValueError(f"Expected {self.k} member models. Received: {len(parts)}")
        values = [np.stack([np.asarray(self._getters[v.ref()](p)) for p in parts])
                  for v in self.variables]
        if [a.shape for a in values] != [tuple(v.shape) for v in self.variables]:
            raise ValueError("Expected member models with the stacked weights' shapes. "
                             f"Received: {[a.shape for a in values]}")
        for var, best, value in zip(self.variables, self.best, values, strict=True):
            var.assign(value)
            best.assign(value)
        self.member_optimizer.reset(clip_norms)

    def logits(self, x):
        """Member-stacked inputs `(K, B, T[, V])` -> logits `(K, B, [T,] outputs)`."""
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        if "bias" in self.input:  # multi-hot inputs through a dense projection
            h = tf.einsum("kbtv,kvu->kbtu", x, self.input["kernel"]) \
                + self.input["bias"][:, None, None, :]
        else:
            h = tf.gather(self.input["kernel"], x, axis=1, batch_dims=1)
        return self._body(h, x)

    def _body(self, h, x, projected=None):
        """`h` (K, B, T, I) -> logits.

        `projected`: layer 0's input projection when it was folded into the
        embedding table; `h` may then be None.
        """
        import tensorflow as tf

        mask = tf.not_equal(x, 0) if self.masked else None
        for i, (layer, weights) in enumerate(zip(self.rnn_layers, self.rnn, strict=True)):
            last = i == len(self.rnn) - 1
            h = self._recurrent(layer.cell, weights, h, mask,
                                sequences=not (last and self.last_step),
                                projected=projected if i == 0 else None)
        return self._head(h)

    def _folds(self, tokens=None) -> bool:
        """Whether layer 0's input projection is folded into the embedding table.

        It is when the input is an embedding, layer 0 reads it only through
        its input projection (no raw-input node), and the table has fewer
        rows than a batch has tokens (`tokens`, when known): projecting the
        table then costs less than projecting every token. With a large
        vocabulary (the classification tasks' 20,000 words against ~3,000
        tokens a batch) it would cost more, and the projection stays per token.
        """
        cell = self.rnn_layers[0].cell
        if "bias" in self.input or not cell.n_x or cell.plan.x_raw:
            return False
        return tokens is not None and self.input["kernel"].shape[1] < tokens

    def _folded_projection(self, table, x):
        """Layer 0's input projection of every token: the table's rows projected, gathered.

        `(table @ W + b)[x]` equals `table[x] @ W + b` row for row, with a
        table of V rows projected instead of B*T tokens (40 against 416 on
        the quickstart's task).
        """
        import tensorflow as tf

        rows = GenomeCell.project_input(_proxy(self.rnn_layers[0].cell, self.rnn[0]),
                                        table)                            # (K, V, n_x*units)
        return tf.gather(rows, tf.cast(x, "int32"), axis=1, batch_dims=1)  # (K, B, T, ...)

    def _head(self, h):
        import tensorflow as tf

        if h.shape.rank == 3:
            return tf.matmul(h, self.head["kernel"]) + self.head["bias"][:, None, :]
        return tf.einsum("kbtu,kuo->kbto", h, self.head["kernel"]) \
            + self.head["bias"][:, None, None, :]

    def _recurrent(self, cell, weights, h, mask, sequences, projected=None):
        import tensorflow as tf

        from archsearch.layers.fused import fused_member_loop

        plan, units = cell.plan, cell.units
        if projected is not None:  # (K, B, T, n*units), folded into the embedding
            k, b, t = (tf.shape(projected)[i] for i in range(3))
            xp = tf.reshape(projected, (k, b * t, projected.shape[-1]))
        else:
            k, b, t = (tf.shape(h)[i] for i in range(3))
            # The input projection of every step at once: (K, B*T, I) @ (K, I, n*units).
            xp = GenomeCell.project_input(_proxy(cell, weights),
                                          tf.reshape(h, (k, b * t, h.shape[-1])))
        if xp is not None:  # time-major (T, K, B, n*units)
            xp = tf.transpose(tf.reshape(xp, (k, b, t, -1)), (2, 0, 1, 3))
        x = tf.transpose(h, (2, 0, 1, 3)) if plan.x_raw else None
        if mask is not None:
            mask = tf.transpose(mask, (2, 0, 1))[..., None]
        bias = weights["bias"]
        if bias is not None:  # the x-reading nodes' bias is in the input projection
            bias = tf.convert_to_tensor(bias)[:, cell.n_x * units:] \
                if len(plan.linears) > cell.n_x else None
        outputs, _ = fused_member_loop(
            plan, xp, x, mask, [tf.zeros((k, b, units), xp.dtype if h is None else h.dtype)
                                for _ in cell.genome.states],
            {s.name: tf.convert_to_tensor(weights["kernels"][s.name]) for s in plan.sources
             if s.kind != "input"}, bias,
            {n: tf.convert_to_tensor(v) for n, v in weights["scales"].items()}, sequences)
        return tf.transpose(outputs, (1, 2, 0, 3)) if sequences else outputs

    def losses(self, x, y, w, logits=None):
        """Per-member training loss `(K,)`, reduced as Keras' compiled loss does."""
        import tensorflow as tf

        logits = self.logits(x) if logits is None else logits
        if self.data.loss == "binary_crossentropy":
            per = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.cast(y, logits.dtype), logits=logits), axis=-1)
        elif self.data.loss == "mean_squared_error":
            per = tf.reduce_mean(tf.square(logits - tf.cast(y, logits.dtype)), axis=-1)
        else:
            per = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(y, "int32"), logits=logits)
        axes = list(range(1, per.shape.rank))
        size = tf.cast(tf.reduce_prod(tf.shape(per)[1:]), per.dtype)
        return tf.reduce_sum(per * tf.cast(w, per.dtype), axis=axes) / size

    def train_step(self, x, y, w, learning_rates, active):
        """One optimizer step for the active members; returns their losses `(K,)`."""
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        table = None if "bias" in self.input else self.input["kernel"]
        tokens = None if x.shape.rank != 3 or None in x.shape[1:] else x.shape[1] * x.shape[2]
        folds = self._folds(tokens)  # implies an embedding table
        with tf.GradientTape() as tape:
            if table is None:
                losses = self.losses(x, y, w)
            elif folds:  # the table takes its gradient per token below, not through the fold
                on_path = self._folded_projection(tf.stop_gradient(table), x)
                losses = self.losses(x, y, w, self._body(None, x, projected=on_path))
            else:
                on_path = tf.gather(table, x, axis=1, batch_dims=1)
                tape.watch(on_path)
                losses = self.losses(x, y, w, self._body(on_path, x))
            total = tf.reduce_sum(tf.where(active, losses, tf.zeros_like(losses)))
        sources = [on_path if v is table else v for v in self.variables]
        grads = tape.gradient(total, sources)
        grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                 for g, v in zip(grads, sources, strict=True)]
        squares = [None] * len(grads)
        if table is not None:
            # The embedding's gradient is one row per token occurrence, summed
            # into the table: the true gradient, whose square the global norm
            # and Adam's second moment see (as the solo step does).
            i = sources.index(on_path)
            rows = grads[i]
            if folds:  # d(embedded) = d(projection) @ W^T, one row per token
                kernel = self.rnn[0]["kernels"][INPUT]
                rows = tf.einsum("kbtg,keg->kbte", rows, tf.convert_to_tensor(kernel))
            grads[i] = self._scatter(rows, x)
        self.member_optimizer.apply(self.variables, grads, squares, learning_rates, active)
        return losses

    def _scatter(self, rows, x):
        """Sums per-occurrence rows `(K, B, T, U)` into the table's shape `(K, V, U)`."""
        import tensorflow as tf

        k, vocab, units = self.input["kernel"].shape
        ids = tf.cast(x, "int32") + tf.range(k)[:, None, None] * vocab
        summed = tf.math.unsorted_segment_sum(tf.reshape(rows, (-1, units)),
                                              tf.reshape(ids, (-1,)), k * vocab)
        return tf.reshape(summed, (k, vocab, units))

    def keep_best(self, members):
        """Copies the current weights of `members` (bool `(K,)`) into the best snapshot."""
        import tensorflow as tf

        for var, best in zip(self.variables, self.best, strict=True):
            on = tf.reshape(members, (-1,) + (1,) * (var.shape.rank - 1))
            best.assign(tf.where(on, var, best))

    def restore_best(self, members):
        """Puts the best snapshot back into the weights of `members`."""
        import tensorflow as tf

        for var, best in zip(self.variables, self.best, strict=True):
            on = tf.reshape(members, (-1,) + (1,) * (var.shape.rank - 1))
            var.assign(tf.where(on, best, var))
