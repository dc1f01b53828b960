"""GenomeRNN / GenomeCell accept the standard arguments of Keras' LSTM and GRU."""

import keras
import numpy as np
import pytest

from archsearch.layers import GenomeCell, GenomeRNN


def _bias(layer, x):
    layer(x)
    return keras.ops.convert_to_numpy(layer.cell.bias)


def test_bias_initializer_keeps_the_genomes_own_forget_bias():
    x = np.zeros((1, 2, 3), "float32")
    plan_bias = _bias(GenomeRNN("lstm_b", 2, bias_initializer="ones"), x)
    layer = GenomeRNN("lstm_b", 2, bias_initializer=keras.initializers.Constant(0.5))
    bias = _bias(layer, x)
    forget = layer.cell.plan.bias_slice("f_pre")
    assert np.all(bias[forget] == 1.0) and np.all(np.delete(bias, np.r_[forget]) == 0.5)
    assert np.all(plan_bias == 1.0)


@pytest.mark.parametrize(("genome", "unit_forget_bias", "forget"), [
    ("lstm", True, 1.0), ("lstm", False, 0.25), ("lstm_b", False, 0.25), ("lstm", None, 0.25),
    ("lstm_b", None, 1.0)])
def test_unit_forget_bias_sets_the_forget_gate_as_keras_does(genome, unit_forget_bias, forget):
    layer = GenomeRNN(genome, 2, unit_forget_bias=unit_forget_bias,
                      bias_initializer=keras.initializers.Constant(0.25))
    bias = _bias(layer, np.zeros((1, 2, 3), "float32"))
    assert np.all(bias[layer.cell.plan.bias_slice("f_pre")] == forget)
    assert np.all(bias[layer.cell.plan.bias_slice("i_pre")] == 0.25)


def test_unit_forget_bias_needs_a_forget_gate():
    with pytest.raises(ValueError, match="forget-gate node 'f_pre'.*unit_forget_bias=True"):
        GenomeRNN("gru", 4, unit_forget_bias=True)


def test_use_bias_false_has_no_bias_weight():
    layer = GenomeRNN("lstm_b", 4, use_bias=False)
    layer(np.ones((2, 3, 5), "float32"))
    assert layer.cell.bias is None
    assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel_h"]


def test_every_keras_option_survives_get_config():
    options = {
        "use_bias": False, "bias_initializer": "ones", "unit_forget_bias": False,
        "kernel_regularizer": keras.regularizers.L2(0.3), "recurrent_regularizer": "l1",
        "bias_regularizer": "l2", "activity_regularizer": "l1",
        "kernel_constraint": "non_neg", "recurrent_constraint": keras.constraints.MaxNorm(3.0),
        "bias_constraint": "unit_norm", "zero_output_for_mask": True, "return_sequences": True,
    }
    layer = GenomeRNN("lstm", 4, **options)
    clone = GenomeRNN.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.cell.recurrent_constraint.get_config() == {"max_value": 3.0, "axis": 0}
    assert clone.zero_output_for_mask and not clone.cell.use_bias
    cell = GenomeCell.from_config(GenomeCell("gru", 3, bias_regularizer="l2").get_config())
    assert isinstance(cell.bias_regularizer, keras.regularizers.L2)


def test_constraints_apply_after_each_update():
    x = np.random.default_rng(0).normal(size=(8, 3, 2)).astype("float32")
    layer = GenomeRNN("gru", 3, kernel_constraint="non_neg", recurrent_constraint="non_neg")
    model = keras.Sequential([keras.Input((3, 2)), layer])
    model.compile(keras.optimizers.SGD(1.0), "mse")
    model.fit(x, np.full((8, 3), -1.0), epochs=2, verbose=0)
    for weight in layer.cell.kernels.values():
        assert keras.ops.convert_to_numpy(weight).min() >= 0.0
