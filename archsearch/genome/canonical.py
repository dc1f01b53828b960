"""Canonical labelling of a vertex-coloured digraph by individualisation-refinement.

The fingerprint (`archsearch.genome.fingerprint`) turns a genome into plain
data: vertex labels, in-edges with roles, out-edges. This module finds the
canonical serialisation of that graph: colour refinement to the coarsest stable
colouring, then, while some colour class (cell) holds several vertices, each is
singled out (individualised) in turn and the search recurses; the smallest leaf
serialisation wins. The result is the same for isomorphic graphs and differs
for non-isomorphic ones.

Without pruning the search tree has up to k! leaves for k interchangeable
branches. Four rules, in the spirit of nauty and bliss (McKay & Piperno 2014), cut it
without changing the minimum, because each skips only a subtree that an
automorphism maps onto one already explored (so its leaves serialise to forms
already seen):

1. Twins: two vertices with the same in- and out-edges are swapped by an
   automorphism; only one of them is tried.
2. Orbits: when a leaf serialises like an earlier one, the relabelling between
   them is an automorphism. At a search node with prefix `p`, a vertex in the
   orbit of an already tried one under the automorphisms found so far that
   fix `p` pointwise is skipped.
3. Guessed automorphisms: before descending into a sibling `v` of the first
   child `u`, the map that pairs the two children's refined colourings class by
   class is checked edge by edge; if it is an automorphism fixing the path,
   `v` is skipped (this makes k interchangeable branches cost O(k)).
4. Jump back: if a leaf equals an earlier leaf and their paths part at depth
   `d`, the automorphism between them fixes the first `d` individualised
   vertices and maps the earlier child subtree onto the current one, so the
   search returns straight to depth `d` (individualised vertices keep their
   rank in every refinement, which makes the paths correspond position by
   position).

Graph isomorphism of DAGs is GI-complete, so no exact canonical form is known
to be polynomial on every input; with these rules the symmetric shapes that
mutation produces (identical branches, duplicated sub-DAGs, fan-in trees) take
O(k) to O(k^2) refinements. A search-node budget bounds the rest: past it a
`GenomeError` names the limit instead of running for hours.
"""

from __future__ import annotations

from archsearch.genome.errors import GenomeError
from archsearch.genome.limits import MAX_SEARCH_NODES

__all__ = ["CanonicalSearch", "ranks"]


def ranks(keys: dict) -> dict:
    """Replaces each value of `keys` by its rank among the distinct values."""
    order = {k: r for r, k in enumerate(sorted(set(keys.values())))}
    return {v: order[k] for v, k in keys.items()}


class CanonicalSearch:
    """The smallest leaf serialisation of a labelled digraph's search tree.

    Args:
        labels: Vertex -> label (a string; equal labels may be swapped).
        in_edges: Vertex -> list of `(role, source)`; a role `"*"` marks an
            unordered (commutative) argument.
        out_edges: Vertex -> list of `(role, reader)`, the reverse of `in_edges`.
        header: Text prefixed to every serialisation.
        budget: Most search nodes (refinements) before `GenomeError`.

    Example:
        >>> edges = {"a": [], "b": [], "s": [("*", "a"), ("*", "b")]}
        >>> out = {"a": [("*", "s")], "b": [("*", "s")], "s": []}
        >>> search = CanonicalSearch({"a": "in", "b": "in", "s": "add"}, edges, out, "")
        >>> search.run({"a": 0, "b": 0, "s": 1})
        'in[];in[];add[*:0,*:1]'
    """

    def __init__(self, labels: dict, in_edges: dict, out_edges: dict, header: str,
                 budget: int = MAX_SEARCH_NODES):
        self.labels, self.in_edges, self.out_edges = labels, in_edges, out_edges
        self.header = header
        self.budget = budget
        self.visited = 0
        self.best: str | None = None
        self.leaves: dict[str, tuple[tuple, dict]] = {}  # form -> (path, colouring)
        self.automorphisms: list[dict] = []  # vertex -> image, moved vertices only

    def run(self, colors: dict) -> str:
        """Returns the canonical form, starting from an invariant colouring."""
        self._visit(self.refine(ranks(colors)), ())
        return self.best

    # -- the three steps -----------------------------------------------------------
    def refine(self, colors: dict, changed=None) -> dict:
        """Colour refinement over in- and out-edges with roles, to a fixed point.

        Each round splits every class by its members' (sorted in-edge colours,
        sorted out-edge colours) and renumbers the classes in order, exactly as
        ranking `(colour, in, out)` over all vertices would; only classes next
        to a vertex whose class changed in the last round are re-examined (no
        other class can split).

        Args:
            colors: Vertex -> class index, the indices consecutive from 0.
            changed: Vertices whose class just changed (`None`: all).
        """
        cells: list[list] = [[] for _ in range(len(set(colors.values())))]
        for v, c in colors.items():
            cells[c].append(v)
        while True:
            if changed is None:
                suspects = set(range(len(cells)))
            else:
                suspects = {colors[w] for v in changed for _, w in self.in_edges[v]}
                suspects.update(colors[w] for v in changed for _, w in self.out_edges[v])
            new_cells: list[list] = []
            changed = []
            for index, cell in enumerate(cells):
                if len(cell) == 1 or index not in suspects:
                    new_cells.append(cell)
                    continue
                groups: dict[tuple, list] = {}
                for v in cell:
                    key = (tuple(sorted((r, colors[u]) for r, u in self.in_edges[v])),
                           tuple(sorted((r, colors[w]) for r, w in self.out_edges[v])))
                    groups.setdefault(key, []).append(v)
                if len(groups) == 1:
                    new_cells.append(cell)
                    continue
                new_cells.extend(groups[key] for key in sorted(groups))
                changed.extend(cell)
            if not changed:
                return colors
            cells = new_cells
            colors = {v: c for c, cell in enumerate(cells) for v in cell}

    def serialise(self, colors: dict) -> str:
        """One row per vertex in colour order: label and argument colours."""
        rows = []
        for v in sorted(colors, key=colors.get):
            args = sorted((r, colors[u]) for r, u in self.in_edges[v])
            rows.append(self.labels[v] + "[" + ",".join(f"{r}:{c}" for r, c in args) + "]")
        return self.header + ";".join(rows)

    def _child(self, colors: dict, v, cell: list) -> dict:
        """Individualises `v` (it takes the first place of its class), then refines."""
        self.visited += 1
        if self.visited > self.budget:
            raise GenomeError(f"the genome is too symmetric to fingerprint: the canonical "
                              f"search exceeded {self.budget} refinements (limit "
                              f"MAX_SEARCH_NODES). Received: {len(colors)} vertices")
        split = {u: c + (c > colors[v] or (c == colors[v] and u != v))
                 for u, c in colors.items()}
        return self.refine(split, cell)

    def _visit(self, colors: dict, path: tuple) -> int | None:
        """Explores one refined search node; returns a depth to jump back to, or None."""
        cells: dict[int, list] = {}
        for v, c in colors.items():
            cells.setdefault(c, []).append(v)
        ties = [members for _, members in sorted(cells.items()) if len(members) > 1]
        if not ties:
            return self._leaf(colors, path)
        tried: list = []
        twins: set = set()
        seen_automorphisms, orbit, first = -1, {}, None
        for v in sorted(ties[0]):
            twin_key = (tuple(sorted(self.in_edges[v])), tuple(sorted(self.out_edges[v])))
            if twin_key in twins:
                continue
            if tried:
                if len(self.automorphisms) != seen_automorphisms:
                    seen_automorphisms = len(self.automorphisms)
                    orbit = self._orbits(path)
                if orbit.get(v, v) in {orbit.get(t, t) for t in tried}:
                    continue
            twins.add(twin_key)
            child = self._child(colors, v, ties[0])
            if first is None:
                first = child
            else:
                moved = self._automorphism(first, child)
                if moved is not None and moved.keys().isdisjoint(path):
                    self.automorphisms.append(moved)  # maps tried[0] to v
                    continue
            tried.append(v)
            jump = self._visit(child, (*path, v))
            if jump is not None and jump < len(path):
                return jump
        return None

    def _automorphism(self, before: dict, after: dict) -> dict | None:
        """An automorphism mapping colouring `before` onto `after`, if a guess is one.

        Vertices in the same class in both colourings stay put; the others of a
        class are paired in name order. The guess is kept only if it preserves
        every label and every in-edge with its role (checked here), so a wrong
        guess costs time, never correctness.
        """
        cells_before: dict[int, list] = {}
        for v, c in before.items():
            cells_before.setdefault(c, []).append(v)
        cells_after: dict[int, set] = {}
        for v, c in after.items():
            cells_after.setdefault(c, set()).add(v)
        moved = {}
        for c, members in cells_before.items():
            target = cells_after.get(c, set())
            if len(target) != len(members):
                return None
            leaving = sorted(v for v in members if v not in target)
            arriving = sorted(target.difference(members))
            moved.update(zip(leaving, arriving, strict=True))
        for v, w in moved.items():
            if self.labels[v] != self.labels[w]:
                return None
        touched = set(moved)
        for v in moved:
            touched.update(u for _, u in self.out_edges[v])
        for v in touched:
            image = moved.get(v, v)
            edges = sorted((r, moved.get(u, u)) for r, u in self.in_edges[v])
            if edges != sorted(self.in_edges[image]):
                return None
        return moved

    def _leaf(self, colors: dict, path: tuple) -> int | None:
        form = self.serialise(colors)
        if self.best is None or form < self.best:
            self.best = form
        earlier = self.leaves.get(form)
        if earlier is None:
            self.leaves[form] = (path, colors)
            return None
        earlier_path, earlier_colors = earlier
        vertex_at = {c: v for v, c in colors.items()}
        moved = {v: vertex_at[c] for v, c in earlier_colors.items() if vertex_at[c] != v}
        if moved:
            self.automorphisms.append(moved)
        depth = 0
        while depth < len(path) and path[depth] == earlier_path[depth]:
            depth += 1
        return depth

    def _orbits(self, path: tuple) -> dict:
        """Vertex -> orbit representative under the automorphisms that fix `path`."""
        parent: dict = {}

        def find(v):
            while parent.get(v, v) != v:
                parent[v] = parent.get(parent[v], parent[v])
                v = parent[v]
            return v

        for moved in self.automorphisms:
            if moved.keys().isdisjoint(path):
                for v, w in moved.items():
                    a, b = find(v), find(w)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        return {v: find(v) for v in parent}
