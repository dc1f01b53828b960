"""Keras' own recurrent-layer tests, run against `GenomeRNN` standing in for `LSTM`/`GRU`.

A representative subset of keras/src/layers/rnn/{lstm,gru}_test.py: the same
`run_layer_test` calls (serialization round trip, training, masking support,
regularization losses) and the same numbers, pinned by Keras with Constant
initializers. The genome `lstm_b` is Keras' default `LSTM` (forget bias 1 via
`unit_forget_bias=True`), so Keras' expected values apply unchanged.
"""

import keras
import numpy as np
import pytest
from keras import initializers

from archsearch.compat.keras import testing
from archsearch.layers import GenomeRNN

CONSTANTS = {
    "kernel_initializer": initializers.Constant(0.01),
    "recurrent_initializer": initializers.Constant(0.02),
    "bias_initializer": initializers.Constant(0.03),
}


class GenomeRNNConformanceTest(testing.TestCase):
    """Adapted from Keras' `LSTMTest`: `layers.LSTM` -> `GenomeRNN("lstm_b", ...)`."""

    def test_basics(self):
        # kernel, recurrent kernel(s), bias; the GRU's r*h kernel; three peepholes.
        for genome, weights in (("lstm_b", 3), ("gru", 4), ("peephole_lstm", 6)):
            self.run_layer_test(
                GenomeRNN,
                init_kwargs={"genome": genome, "units": 3, "dropout": 0.5,
                             "recurrent_dropout": 0.5},
                input_shape=(3, 2, 4),
                call_kwargs={"training": True},
                expected_output_shape=(3, 3),
                expected_num_trainable_weights=weights,
                expected_num_non_trainable_weights=0,
                supports_masking=True,
            )

    def test_regularizers_add_one_loss_each(self):
        self.run_layer_test(
            GenomeRNN,
            init_kwargs={"genome": "lstm_b", "units": 3, "return_sequences": True,
                         "bias_regularizer": "l1", "kernel_regularizer": "l2",
                         "recurrent_regularizer": "l2"},
            input_shape=(3, 2, 4),
            expected_output_shape=(3, 2, 3),
            expected_num_losses=3,
            expected_num_trainable_weights=3,
            expected_num_non_trainable_weights=0,
            supports_masking=True,
        )

    def test_correctness(self):
        sequence = np.arange(72).reshape((3, 6, 4)).astype("float32")
        layer = GenomeRNN("lstm_b", 3, **CONSTANTS)
        self.assertAllClose(
            layer(sequence),
            np.array([[0.6288687, 0.6288687, 0.6288687],
                      [0.86899155, 0.86899155, 0.86899155],
                      [0.9460773, 0.9460773, 0.9460773]]),
            atol=1e-5, rtol=1e-5)

    def test_statefulness(self):
        sequence = np.arange(24).reshape((2, 3, 4)).astype("float32")
        layer = GenomeRNN("lstm_b", 4, stateful=True, **CONSTANTS)
        expected = np.array([[0.3124785] * 4, [0.6863672] * 4])
        layer(sequence)
        self.assertAllClose(layer(sequence), expected, atol=1e-5, rtol=1e-5)
        layer.reset_state()
        layer(sequence)
        self.assertAllClose(layer(sequence), expected, atol=1e-5, rtol=1e-5)

    def test_pass_initial_state(self):
        sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
        initial_state = [np.arange(4).reshape((2, 2)).astype("float32")] * 2
        layer = GenomeRNN("lstm_b", 2, go_backwards=True, **CONSTANTS)
        self.assertAllClose(layer(sequence, initial_state=initial_state),
                            np.array([[0.13281618, 0.2790356], [0.5839337, 0.5992567]]),
                            atol=1e-5, rtol=1e-5)

    def test_masking_with_zero_output_for_mask(self):
        sequence = np.arange(24).reshape((2, 4, 3)).astype("float32")
        mask = np.array([[True, True, True, False], [True, True, False, False]])
        layer = GenomeRNN("lstm_b", 2, return_sequences=True, zero_output_for_mask=True,
                          **CONSTANTS)
        output = layer(sequence, mask=mask)
        self.assertAllClose(output[0], np.array([[0.0158891] * 2, [0.05552048] * 2,
                                                 [0.11755939] * 2, [0.0, 0.0]]), atol=1e-5)
        self.assertAllClose(output[1], np.array([[0.14185596] * 2, [0.28556206] * 2,
                                                 [0.0, 0.0], [0.0, 0.0]]), atol=1e-5)

    def test_gru_reset_after_pinned_numbers(self):
        # Keras' reset_after GRU keeps an input and a recurrent bias for z and r
        # (Constant(0.03) -> 0.06 in total); the genome has one bias per gate.
        sequence = np.arange(72).reshape((3, 6, 4)).astype("float32")
        layer = GenomeRNN("gru_reset_after", 3, **CONSTANTS)
        layer.build(sequence.shape)
        for node in ("z_pre", "r_pre"):
            layer.cell.set_bias(node, np.full(3, 0.06))
        self.assertAllClose(
            layer(sequence),
            np.array([[0.5217289] * 3, [0.6371659] * 3, [0.39384964] * 3]),
            atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("options", [
    {}, {"use_bias": False}, {"return_sequences": True, "go_backwards": True}])
def test_gru_genome_equals_keras_gru_reset_before(options):
    sequence = np.arange(72).reshape((3, 6, 4)).astype("float32") / 72
    keras_layer = keras.layers.GRU(3, reset_after=False, **CONSTANTS, **options)
    ours = GenomeRNN("gru", 3, **CONSTANTS, **options)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(sequence)),
                               keras.ops.convert_to_numpy(keras_layer(sequence)), atol=1e-6)
