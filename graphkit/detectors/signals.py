"""Names the gang, impersonation and bursts detectors still import from here; each lives in the
module of its job: :mod:`~graphkit.detectors.context`, :mod:`~graphkit.detectors.clauses`,
:mod:`~graphkit.detectors.assemble`, :mod:`~graphkit.detectors.groups` and
:mod:`~graphkit.detectors.places`. Import them from there.
"""

from graphkit.detectors.assemble import make_ring, reported_cards, squash
from graphkit.detectors.clauses import CLAUSES, evidence
from graphkit.detectors.context import DAY, Context
from graphkit.detectors.groups import communities, components_of_pairs
from graphkit.detectors.places import place_of

__all__ = ["Context", "reported_cards", "CLAUSES", "place_of", "evidence", "squash",
           "make_ring", "components_of_pairs", "communities", "DAY"]
