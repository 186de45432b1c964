"""Planted structures: legitimate look-alikes (never in truth) and fraud rings (truth).

Each typology is a space of scenarios, one module each: every planted ring draws how it is
carried out (a named variant and its parameters, written to ``scenarios.csv``) from the world's
seed. Members keep their normal activity, which the background adds later.
"""

from __future__ import annotations

from graphkit.synth._claims import Claims
from graphkit.synth._diversion import plant_diversion
from graphkit.synth._fake_admission import plant_fake_admission
from graphkit.synth._gang import plant_gang
from graphkit.synth._impersonation import plant_impersonation
from graphkit.synth._lookalikes import LOOKALIKE_KINDS, plant_lookalikes
from graphkit.synth._world import World

__all__ = ["LOOKALIKE_KINDS", "plant_lookalikes", "plant_rings"]

_PLANTERS = (("gang", plant_gang), ("impersonation", plant_impersonation),
             ("diversion", plant_diversion), ("fake_admission", plant_fake_admission))


def plant_rings(w: World, rng, cl: Claims, n_claims: int, camo: float) -> list[dict]:
    """Plant all four typologies, ~``n_claims / 4000`` schemes each (at least 4).

    Returns truth rings as dicts: ``typology``, ``scenario`` (variant name), ``params`` (what it
    was drawn with), ``members`` [(type, index or id, role)] and ``patients`` (index array). One
    scheme may give several rings when nothing in the data joins its parts (unlinked lent cards).
    """
    n_each = max(4, int(round(n_claims / 4000)))
    rings: list[dict] = []
    for _typology, plant in _PLANTERS:
        for _ in range(n_each):
            rings += plant(w, rng, cl, camo, n_claims)
    return rings
