"""The autodiff loop with a time length unknown at trace time and a known batch."""

import numpy as np
import pytest
import tensorflow as tf

import archsearch


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_graph_equals_eager_when_length_varies(masked, return_sequences):
    layer = archsearch.layers.GenomeRNN(archsearch.zoo.get("lstm"), units=4, fused=False,
                                        return_sequences=return_sequences)
    rng = np.random.default_rng(0)

    @tf.function(reduce_retracing=True)
    def graph(x, m):
        return layer(x, mask=m if masked else None)

    for steps in (5, 9, 3):  # the second call traces with an unknown length
        x = tf.constant(rng.normal(size=(2, steps, 3)), tf.float32)
        m = tf.constant(np.arange(steps)[None, :] < np.array([[steps], [steps - 2]]))
        eager = layer(x, mask=m if masked else None)
        np.testing.assert_allclose(graph(x, m).numpy(), eager.numpy(), rtol=1e-5, atol=1e-6)
