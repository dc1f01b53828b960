"""The op table: everything a node op is, in one entry per op.

This table is the single source of truth for what an op is. Validation (arity,
parameters), the width rules, the fingerprint (commutativity), the equation
renderer (`render`), mutation (`mutation`: which transformation may swap the op
for another) and the Keras compiler (`keras`: how `archsearch.layers` computes
it) all read it; adding an op means adding one entry here and, where `keras`
names a new special kind, one branch in the compiler.

Example:
    >>> OPS["mul"].commutative, OPS["mul"].render, OPS["mul"].keras
    (True, '{0} * {1}', 'multiply')
    >>> ACTIVATIONS
    ('tanh', 'sigmoid', 'relu', 'identity')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INPUT", "OPS", "OpSpec", "ACTIVATIONS", "SWAPPABLE_ACTIVATIONS",
           "ELEMENTWISE_BINARY", "PARAMETRIC", "KERAS_SPECIAL", "WIDTH_RULES",
           "MUTATION_CLASSES", "PRECEDENCE", "PAPER_LINEAR_A"]

#: The name of the cell's input value in every genome.
INPUT = "x"

#: How the width of a node's output follows from its inputs:
#: `units`: a learned projection, any input width, output `units` wide;
#: `square`: a learned square matrix, input must be `units` wide;
#: `same`: elementwise, all inputs and the output share one width.
WIDTH_RULES = ("units", "square", "same")
#: Which of the paper's transformations may swap the op for another:
#: `activation` (transformation 1), `elementwise` (transformation 2), or none.
MUTATION_CLASSES = ("activation", "elementwise", None)
#: Values of `OpSpec.keras` that are not `keras.ops` function names:
#: `project`: a sum of fused learned projections of the inputs plus a bias
#: (see `archsearch.genome.layout.CellPlan`); `scale`: the input times the
#: node's learned per-unit vector; `pass`: the input unchanged; `one_minus`:
#: `1 - input`.
KERAS_SPECIAL = ("project", "scale", "pass", "one_minus")
#: Binding strength of rendered expressions: sums bind loosest, atoms tightest.
PRECEDENCE = {"sum": 1, "product": 2, "atom": 3}


@dataclass(frozen=True)
class OpSpec:
    """What an op takes, how wide it is, and how each part of archsearch treats it.

    Attributes:
        name: The op's name in genome JSON.
        min_arity: Fewest inputs the op accepts.
        max_arity: Most inputs the op accepts (`None`: unbounded, up to the
            `archsearch.genome.limits.MAX_INPUTS` of every node).
        width: Width rule, one of `WIDTH_RULES`.
        render: Equation template over the rendered inputs `{0}`, `{1}`; `{op}`
            is the op name, `{a}` the `a` parameter. Empty for `linear`, whose
            sum of projections the renderer writes term by term.
        precedence: Key of `PRECEDENCE`: how tightly the rendered text binds.
        arg_precedence: Per input, the weakest binding it may have without
            parentheses (the last entry repeats for further inputs).
        mutation: Mutation class, one of `MUTATION_CLASSES`.
        keras: How the Keras layers compute the op: a `keras.ops` function
            name applied to the input values in order, or one of `KERAS_SPECIAL`.
        commutative: Whether the order of inputs is irrelevant.
        parametric: Whether the op owns learned weights.
        params: Names of the numeric parameters the op accepts (all optional
            unless listed in `required`).
        required: Parameters that must be given.
    """

    name: str
    min_arity: int
    max_arity: int | None
    width: str
    render: str
    precedence: str
    arg_precedence: tuple[int, ...]
    mutation: str | None
    keras: str
    commutative: bool = False
    parametric: bool = False
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    @property
    def unique_inputs(self) -> bool:
        """Whether an input may appear only once (an n-ary sum of projections)."""
        return self.commutative and self.max_arity is None

    @property
    def elementwise(self) -> bool:
        """Whether the op works unit by unit (all inputs share the output's width)."""
        return self.width == "same"


_SUM, _PROD, _ATOM = PRECEDENCE["sum"], PRECEDENCE["product"], PRECEDENCE["atom"]

_SPECS = (
    # Sum of learned projections of its inputs plus a bias with its own init;
    # `chrono: 1` on the forget-gate node `f_pre` draws that bias chrono-style
    # (archsearch.layers.ChronoInitializer) from the task's dependency length.
    OpSpec("linear", 1, None, "units", "", "sum", (_ATOM,), None, "project",
           commutative=True, parametric=True, params=("bias", "chrono")),
    # The paper's Linear(a, x): a square matrix initialised near a*I, plus bias.
    OpSpec("linear_a", 1, 1, "square", "Linear({a}, {0})", "atom", (0,), "activation",
           "project", parametric=True, params=("a", "bias"), required=("a",)),
    OpSpec("add", 2, 2, "same", "{0} + {1}", "sum", (_SUM,), "elementwise", "add",
           commutative=True),
    OpSpec("mul", 2, 2, "same", "{0} * {1}", "product", (_PROD,), "elementwise", "multiply",
           commutative=True),
    OpSpec("sub", 2, 2, "same", "{0} - {1}", "sum", (_SUM, _SUM + 1), "elementwise",
           "subtract"),
    OpSpec("one_minus", 1, 1, "same", "1 - {0}", "sum", (_SUM + 1,), None, "one_minus"),
    # Per-unit learned vector times the input (peephole connections).
    OpSpec("scale", 1, 1, "same", "{p} * {0}", "product", (_PROD + 1,), None, "scale",
           parametric=True),
    OpSpec("tanh", 1, 1, "same", "{op}({0})", "atom", (0,), "activation", "tanh"),
    OpSpec("sigmoid", 1, 1, "same", "{op}({0})", "atom", (0,), "activation", "sigmoid"),
    OpSpec("relu", 1, 1, "same", "{op}({0})", "atom", (0,), "activation", "relu"),
    OpSpec("identity", 1, 1, "same", "{op}({0})", "atom", (0,), "activation", "pass"),
)

OPS: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}
#: Parameter-free pointwise nonlinearities (rendered `op(value)`, gates in equations).
ACTIVATIONS = tuple(n for n, s in OPS.items()
                    if s.mutation == "activation" and not s.parametric)
#: Ops that are activation nodes for the paper's transformation 1 (adds `linear_a`).
SWAPPABLE_ACTIVATIONS = tuple(n for n, s in OPS.items() if s.mutation == "activation")
#: The paper's elementwise ops (transformation 2).
ELEMENTWISE_BINARY = tuple(n for n, s in OPS.items() if s.mutation == "elementwise")
PARAMETRIC = tuple(name for name, spec in OPS.items() if spec.parametric)
#: The paper's coefficients of Linear(a, x) in its activation set.
PAPER_LINEAR_A = (0.0, 1.0, 0.9, 1.1)
