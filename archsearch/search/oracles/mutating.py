"""What the mutating strategies share: seed cells, then unseen children of chosen parents."""

from __future__ import annotations

from archsearch.genome import GenomeError
from archsearch.search.oracles.base import ArchitectureOracle

__all__ = ["MutatingOracle"]


class MutatingOracle(ArchitectureOracle):
    """Base of the mutating strategies: seed cells first (no pre-filter, no cut), then children.

    Gives `seed_cells`, `mutant(parent, rng)` (an unseen child) and the seeds
    not yet evaluated (`_seeds_pending`); a subclass implements `propose`.
    """

    def evaluate(self, genome, origin, parent=None, stages=None, cuts=None):
        if origin == "seed":  # seeds are references: no pre-filter, no cut
            return super().evaluate(genome, origin, stages=self.search_stages
                                    + self.report_stages, cuts=False)
        return super().evaluate(genome, origin, parent, stages, cuts)

    def __init__(self, space, **kwargs):
        super().__init__(space, **kwargs)
        self.seed_cells = {g.fingerprint(): g for g in space.seed_genomes()}
        self._mutator = space.mutator()

    def _seeds_pending(self) -> list:
        return [g for fp, g in self.seed_cells.items() if fp not in self.cells]

    def mutant(self, parent_fp: str, rng, chain: int = 1):
        """A child of `parent_fp` never evaluated before in this run, or None."""
        from archsearch.genome import Genome

        mutator = self._mutator
        for _ in range(20):
            genome = Genome.from_dict(self.genomes[parent_fp])
            try:
                for _ in range(chain):
                    genome = mutator(genome, rng.randrange(2**31))
            except GenomeError:
                continue
            if genome.fingerprint() not in self.cells:
                return genome.with_name(None)
        return None
