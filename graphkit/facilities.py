"""A facility's type, worked out by one rule for the whole package.

Loading types each claim's facility with it (``claims.facility_type``), and the entity graph, the
detectors' Context and the ring pages read it from there or call it for a set of facilities.
"""

from __future__ import annotations

import pandas as pd

from graphkit._arrow import isin

__all__ = ["facility_types"]


def facility_types(institution_ids, pharmacy_ids, claims: pd.DataFrame) -> dict[str, str]:
    """Facility id -> ``"institution"`` or ``"pharmacy"``, for every facility of the reference
    tables and of ``claims`` (``facility_id``, ``claim_type``): the one rule the graph, the
    detectors and the pages read a facility's type by.

    A facility the institutions table lists is an institution, else one the pharmacies table
    lists is a pharmacy (as loading types each claim's facility). One in neither (the tables
    are optional) is known only by what was settled there: a pharmacy when every claim is a
    pharmacy purchase, else an institution.
    """
    out = {f: "pharmacy" for f in pharmacy_ids if isinstance(f, str)}
    out.update((f, "institution") for f in institution_ids if isinstance(f, str))
    fid = claims["facility_id"]
    rest = claims.loc[~isin(fid, list(out)) & fid.notna().to_numpy(),
                      ["facility_id", "claim_type"]]
    if len(rest):
        only_pharmacy = (rest["claim_type"] == "pharmacy").groupby(rest["facility_id"]).all()
        out.update((f, "pharmacy" if p else "institution") for f, p in only_pharmacy.items())
    return out
