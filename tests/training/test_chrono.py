"""`forget_bias: chrono` in trials: T_max from the task or the hyperparameter, LSTMs only."""

from types import SimpleNamespace

import numpy as np
import pytest

from archsearch import zoo
from archsearch.layers import GenomeRNN
from archsearch.training import Budget, build_model, resolve, run_trial, with_forget_bias


def _data(chrono_tmax):
    return SimpleNamespace(name="toy", batch_size=2, stateful=False, input_kind="tokens",
                           vocab_size=7, output="sequence", num_outputs=7, info={},
                           loss="sparse_categorical_crossentropy", chrono_tmax=chrono_tmax)


def _biases(model, node):
    return [layer.cell.get_bias(node) for layer in model.layers if isinstance(layer, GenomeRNN)]


def test_chrono_draws_each_layers_forget_bias_from_the_tasks_t_max():
    hp = resolve({"units": 64, "num_layers": 2, "forget_bias": "chrono"})
    model, _ = build_model("lstm", hp, _data(chrono_tmax=40), seed=3)
    forget, inputs = _biases(model, "f_pre"), _biases(model, "i_pre")
    for f, i in zip(forget, inputs, strict=True):
        assert f.min() >= 0.0 and f.max() <= np.log(39) + 1e-5 and f.std() > 0.3
        np.testing.assert_allclose(i, -f)
    assert not np.allclose(forget[0], forget[1])  # each layer its own draw
    again, _ = build_model("lstm", hp, _data(chrono_tmax=40), seed=3)
    np.testing.assert_array_equal(_biases(again, "f_pre")[0], forget[0])  # seeded


def test_the_chrono_tmax_hyperparameter_overrides_the_task():
    hp = resolve({"units": 256, "forget_bias": "chrono", "chrono_tmax": 4})
    model, _ = build_model("lstm", hp, _data(chrono_tmax=1000), seed=0)
    assert _biases(model, "f_pre")[0].max() <= np.log(3) + 1e-6
    model, _ = build_model("lstm", hp, _data(chrono_tmax=None), seed=0)
    with pytest.raises(ValueError, match="task 'toy' names no dependency length, so set the "
                                         "chrono_tmax hyperparameter"):
        build_model("lstm", resolve({"units": 4, "forget_bias": "chrono"}), _data(None))


def test_chrono_needs_an_identifiable_forget_gate():
    assert with_forget_bias(zoo.get("lstm"), "chrono") == zoo.get("lstm")
    for name in ("gru", "lstm_f", "tanh_rnn"):
        with pytest.raises(ValueError, match=f"forget_bias='chrono' needs a cell whose forget "
                                             f"gate is identifiable.*cell '{name}'"):
            with_forget_bias(zoo.get(name), "chrono")
    result = run_trial("gru", {"units": 4, "forget_bias": "chrono"}, "adding", Budget(steps=2),
                       task_options={"length": 5, "num_examples": 16})
    assert result.status == "failed" and "cell 'gru'" in result.failure


def test_resolve_reads_forget_bias_as_a_number_or_chrono():
    assert resolve({"forget_bias": "chrono"})["forget_bias"] == "chrono"
    assert resolve({"forget_bias": "0.5"})["forget_bias"] == 0.5
    assert resolve({"forget_bias": 2})["forget_bias"] == 2
    assert resolve({})["chrono_tmax"] is None
    with pytest.raises(ValueError, match="forget_bias to be a number or 'chrono'. "
                                         "Received: forget_bias='chronos'"):
        resolve({"forget_bias": "chronos"})
    with pytest.raises(ValueError, match="chrono_tmax to be a number > 2"):
        resolve({"chrono_tmax": 2})


def test_a_chrono_trial_on_a_long_delay_task_completes():
    result = run_trial("lstm", {"units": 8, "optimizer": "adam", "learning_rate": 0.01,
                                "forget_bias": "chrono"}, "copy", Budget(steps=6, eval_every=3),
                       task_options={"delay": 20, "num_examples": 128})
    assert result.status == "completed", result.failure
    assert result.hparams["forget_bias"] == "chrono"


def _chrono_genome():
    from archsearch.space.cells import CellRef

    return CellRef.model_validate({"cell": "lstm", "name": "lstm_chrono",
                                   "params": {"f_pre": {"chrono": 1}}}).genome


def test_a_genome_flag_asks_for_chrono_as_the_hyperparameter_does():
    genome = _chrono_genome()
    assert genome.fingerprint() != zoo.get("lstm").fingerprint()  # a cell of its own
    flagged, _ = build_model(genome, resolve({"units": 32}), _data(chrono_tmax=40), seed=3)
    by_hp, _ = build_model("lstm", resolve({"units": 32, "forget_bias": "chrono"}),
                           _data(chrono_tmax=40), seed=3)
    np.testing.assert_array_equal(_biases(flagged, "f_pre")[0], _biases(by_hp, "f_pre")[0])
    np.testing.assert_allclose(_biases(flagged, "i_pre")[0], -_biases(flagged, "f_pre")[0])
    with pytest.raises(ValueError, match="names no dependency length"):
        build_model(genome, resolve({"units": 4}), _data(chrono_tmax=None))


def test_the_genome_flag_is_checked_and_named():
    from archsearch.genome import Genome, Node
    from archsearch.layers.cell import wants_chrono

    lstm = zoo.get("lstm")

    def flagged(node_id, value):
        nodes = [Node(n.id, n.op, n.inputs, {**n.params, "chrono": value})
                 if n.id == node_id else n for n in lstm.nodes]
        return Genome(nodes, dict(zip(lstm.states, lstm.next_state, strict=True)),
                      lstm.states, lstm.output, "mine")

    assert not wants_chrono(lstm) and wants_chrono(flagged("f_pre", 1))
    assert flagged("f_pre", 0).fingerprint() == lstm.fingerprint()  # unset = absent
    with pytest.raises(ValueError, match="cell 'mine': param chrono is only read on the "
                                         "forget gate's linear node 'f_pre'.*node 'i_pre'"):
        wants_chrono(flagged("i_pre", 1))
    with pytest.raises(ValueError, match="expected chrono to be 0 \\(off\\) or 1"):
        wants_chrono(flagged("f_pre", 2))
    with pytest.raises(ValueError, match="cell 'mine' starts its forget gate chrono-initialised"
                                         ".*needs chrono_tmax"):
        GenomeRNN(flagged("f_pre", 1), 4)
    layer = GenomeRNN(flagged("f_pre", 1), 4, chrono_tmax=30, seed=0)
    assert GenomeRNN.from_config(layer.get_config()).get_config() == layer.get_config()


def test_a_chrono_cell_trains_in_a_trial():
    result = run_trial(_chrono_genome(), {"units": 8}, "adding", Budget(steps=2),
                       task_options={"length": 5, "num_examples": 16})
    assert result.status == "completed", result.failure
