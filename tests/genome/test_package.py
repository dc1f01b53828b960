"""The genome layer is pure data: importing and using it never loads TensorFlow or Keras."""

import subprocess
import sys

import archsearch
from archsearch import genome

NO_TF = ("import archsearch, archsearch.genome, archsearch.zoo; import sys; "
         "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")

USE_IT = (
    "import sys, io, contextlib\n"
    "import archsearch, archsearch.genome, archsearch.zoo\n"
    "from archsearch.cli import main\n"
    "from archsearch.genome import CellPlan\n"
    "for name in archsearch.zoo.names():\n"
    "    g = archsearch.zoo.get(name)\n"
    "    g.fingerprint(); g.equations(); archsearch.Genome.from_json(g.to_json())\n"
    "    CellPlan(g, 16, 16).bias_init()\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    assert main(['cells', 'list']) == 0 and main(['cells', 'show', 'lstm_b']) == 0\n"
    "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
    "assert not loaded, loaded\n"
)


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_importing_archsearch_does_not_import_tensorflow():
    result = _run(NO_TF)
    assert result.returncode == 0, result.stderr


def test_using_the_genome_layer_and_cells_cli_does_not_import_tensorflow():
    result = _run(USE_IT)
    assert result.returncode == 0, result.stderr


def test_public_names():
    assert archsearch.Genome is genome.Genome
    assert archsearch.GenomeBuilder is genome.GenomeBuilder
    assert archsearch.Node is genome.Node
    assert archsearch.GenomeError is genome.GenomeError
    assert archsearch.zoo.get is genome.zoo.get
    assert set(genome.OPS) >= {"linear", "linear_a", "add", "sub", "mul", "one_minus",
                               "scale", "tanh", "sigmoid", "relu", "identity"}
    assert genome.INPUT == "x"
