"""`GenomeBuilder`: write a cell as Python expressions instead of node lists."""

from __future__ import annotations

from archsearch.genome.spec import Genome, Node

__all__ = ["GenomeBuilder"]


class GenomeBuilder:
    """Collects nodes one op at a time; each method returns the new node's name.

    Args:
        states: The cell's state slots (`("h",)` or `("h", "c")`, ...).

    Example:
        >>> b = GenomeBuilder(states=("h",))
        >>> h_new = b.tanh(b.linear("x", "h", name="a_pre"), name="a")
        >>> b.build({"h": h_new}, name="tanh_rnn").equations().splitlines()[0]
        "h' = tanh(W_a·x + U_a·h + b_a)"
    """

    def __init__(self, states=("h",)):
        self.states = tuple(states)
        self.nodes: list[Node] = []
        self._taken = {"x", *self.states}

    def _add(self, op: str, inputs, name: str | None, **params) -> str:
        if name is None:
            k = len(self.nodes)
            while f"n{k}" in self._taken:
                k += 1
            name = f"n{k}"
        self._taken.add(name)
        self.nodes.append(Node(name, op, tuple(inputs),
                               {k: v for k, v in params.items() if v is not None}))
        return name

    def linear(self, *inputs: str, bias: float = 0.0, name: str | None = None) -> str:
        """Sum of learned projections of `inputs` plus a bias initialised to `bias`."""
        return self._add("linear", inputs, name, bias=bias or None)

    def linear_a(self, a: float, value: str, bias: float = 0.0, name: str | None = None) -> str:
        """The paper's Linear(a, value): square matrix initialised near a*I, plus bias."""
        return self._add("linear_a", (value,), name, a=a, bias=bias or None)

    def add(self, a: str, b: str, name: str | None = None) -> str:
        """Elementwise a + b."""
        return self._add("add", (a, b), name)

    def sub(self, a: str, b: str, name: str | None = None) -> str:
        """Elementwise a - b."""
        return self._add("sub", (a, b), name)

    def mul(self, a: str, b: str, name: str | None = None) -> str:
        """Elementwise a * b."""
        return self._add("mul", (a, b), name)

    def one_minus(self, a: str, name: str | None = None) -> str:
        """Elementwise 1 - a."""
        return self._add("one_minus", (a,), name)

    def scale(self, a: str, name: str | None = None) -> str:
        """A learned per-unit vector times a (a peephole)."""
        return self._add("scale", (a,), name)

    def tanh(self, a: str, name: str | None = None) -> str:
        """Elementwise hyperbolic tangent of a."""
        return self._add("tanh", (a,), name)

    def sigmoid(self, a: str, name: str | None = None) -> str:
        """Elementwise logistic sigmoid of a."""
        return self._add("sigmoid", (a,), name)

    def relu(self, a: str, name: str | None = None) -> str:
        """Elementwise rectifier max(a, 0)."""
        return self._add("relu", (a,), name)

    def identity(self, a: str, name: str | None = None) -> str:
        """a, unchanged (an explicit no-op activation)."""
        return self._add("identity", (a,), name)

    def build(self, next_state: dict, output: str | None = None, name: str | None = None,
              description: str | None = None) -> Genome:
        """Returns the validated, pruned `Genome`."""
        return Genome(self.nodes, next_state, self.states, output, name, description)
