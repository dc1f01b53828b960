"""`MemberOptimizer`: Adam or SGD for K members at once, each with its own settings.

Every weight of a member is one row of a `(K, P)` matrix, so an update is a
few passes over it, broadcasting per-member `(K, 1)` factors: a learning
rate, a clip norm (by the member's global gradient norm, as `build_model`'s
optimizer clips with `tf.clip_by_global_norm`) and an on/off switch. An
inactive member (stopped or diverged) gets zero gradients and zero
increments, and a `tf.where` keeps a diverged member's NaN out of its row.
The Adam update is Keras' (epsilon 1e-7, the bias correction folded into
the learning rate).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MemberOptimizer"]


class MemberOptimizer:
    """Per-member clipped Adam or SGD over the stacked weights of K members.

    Args:
        variables: The stacked weights, each `(K, ...)`.
        optimizer: `"adam"` or `"sgd"`.
        clip_norms: One global-norm clip per member.

    Example:
        >>> import tensorflow as tf
        >>> w = tf.Variable(np.zeros((2, 3), "float32"))
        >>> opt = MemberOptimizer([w], "sgd", [1.0, 1.0])
        >>> opt.apply([w], [tf.fill((2, 3), 4.0)], [None], tf.constant([0.5, 0.5]),
        ...           tf.constant([True, False]))
        >>> w.numpy().round(3)  # member 0: clipped to norm 1, times 0.5; member 1 is off
        array([[-0.289, -0.289, -0.289],
               [ 0.   ,  0.   ,  0.   ]], dtype=float32)
    """

    def __init__(self, variables, optimizer: str, clip_norms):
        import tensorflow as tf

        self.k, self.optimizer = int(variables[0].shape[0]), optimizer
        self.sizes = [int(np.prod(v.shape[1:])) for v in variables]
        self.clip = tf.Variable(np.asarray(clip_norms, "float32"))
        # Adam's moments of every weight, a member per row.
        self.slots = (tf.Variable(tf.zeros((self.k, sum(self.sizes)))),
                      tf.Variable(tf.zeros((self.k, sum(self.sizes)))))
        self.iterations = tf.Variable(0, dtype="int64")

    def reset(self, clip_norms) -> None:
        """Zeroes the moments and the step count and takes new `clip_norms`."""
        for slot in self.slots:
            slot.assign(np.zeros(slot.shape, "float32"))
        self.clip.assign(np.asarray(clip_norms, "float32"))
        self.iterations.assign(0)

    def apply(self, variables, grads, squares, learning_rates, active) -> None:
        """One update of `variables` from `grads` for the `active` members.

        Args:
            variables: The stacked weights, in the constructor's order.
            grads: One gradient per variable, its shape.
            squares: Per variable, the summed squares of its gradient where they
                are not `grad ** 2` (an embedding's sparse rows), else None.
            learning_rates: `(K,)` floats.
            active: `(K,)` booleans.
        """
        import tensorflow as tf

        on = active[:, None]
        flat = tf.where(on, tf.concat([tf.reshape(g, (self.k, -1)) for g in grads], axis=1), 0.0)
        flat_sq = tf.where(on, tf.concat([tf.reshape(tf.square(g) if g2 is None else g2,
                                                     (self.k, -1))
                                          for g, g2 in zip(grads, squares, strict=True)],
                                         axis=1), 0.0)
        norm = tf.sqrt(tf.reduce_sum(flat_sq, axis=1))
        factor = (self.clip / tf.maximum(norm, self.clip))[:, None]  # clip_by_global_norm
        step = tf.cast(self.iterations + 1, "float32")
        lr = tf.cast(learning_rates, "float32")
        if self.optimizer == "adam":
            lr = lr * tf.sqrt(1.0 - tf.pow(0.999, step)) / (1.0 - tf.pow(0.9, step))
        on = tf.cast(on, "float32")
        g = flat * factor
        if self.optimizer == "adam":
            m, v = self.slots
            m.assign_add((g - m) * (0.1 * on))
            v.assign_add((flat_sq * tf.square(factor) - v) * (0.001 * on))
            update = m * (lr[:, None] * on) / (tf.sqrt(v) + 1e-7)
        else:
            update = g * (lr[:, None] * on)
        for var, delta in zip(variables, tf.split(update, self.sizes, axis=1), strict=True):
            var.assign_sub(tf.reshape(delta, var.shape))
        self.iterations.assign_add(1)
