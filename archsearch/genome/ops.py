"""The node operations a genome may use, with their arity and algebraic traits.

This table is the single source of truth for what an op is: validation, the
fingerprint, the equation renderer, mutation and the Keras compiler all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INPUT", "OPS", "OpSpec", "ACTIVATIONS", "ELEMENTWISE_BINARY", "PARAMETRIC"]

#: The name of the cell's input value in every genome.
INPUT = "x"


@dataclass(frozen=True)
class OpSpec:
    """What an op takes and how it behaves.

    Attributes:
        name: The op's name in genome JSON.
        min_arity: Fewest inputs the op accepts.
        max_arity: Most inputs the op accepts (`None`: unbounded).
        commutative: Whether the order of inputs is irrelevant.
        elementwise: Whether the op works unit by unit, so all its inputs
            must have the same width (a raw `x` then needs input width ==
            units).
        parametric: Whether the op owns learned weights.
        params: Names of the numeric parameters the op accepts (all optional
            unless listed in `required`).
        required: Parameters that must be given.
    """

    name: str
    min_arity: int
    max_arity: int | None
    commutative: bool = False
    elementwise: bool = True
    parametric: bool = False
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


_SPECS = (
    # Sum of learned projections of its inputs plus a bias with its own init.
    OpSpec("linear", 1, None, commutative=True, elementwise=False, parametric=True,
           params=("bias",)),
    # The paper's Linear(a, x): a square matrix initialised near a*I, plus bias.
    OpSpec("linear_a", 1, 1, elementwise=False, parametric=True, params=("a", "bias"),
           required=("a",)),
    OpSpec("add", 2, 2, commutative=True),
    OpSpec("mul", 2, 2, commutative=True),
    OpSpec("sub", 2, 2),
    OpSpec("one_minus", 1, 1),
    # Per-unit learned vector times the input (peephole connections).
    OpSpec("scale", 1, 1, parametric=True),
    OpSpec("tanh", 1, 1),
    OpSpec("sigmoid", 1, 1),
    OpSpec("relu", 1, 1),
    OpSpec("identity", 1, 1),
)

OPS: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}
ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity")
ELEMENTWISE_BINARY = ("add", "mul", "sub")
PARAMETRIC = tuple(name for name, spec in OPS.items() if spec.parametric)
