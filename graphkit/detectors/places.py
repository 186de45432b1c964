"""Reading Chinese addresses: the place one is recruited from, and addresses that name no dwelling.

A village, community or named compound (or, failing those, a street number or a town) is where
people are recruited "from one place"; an address that stops at such a place is no family's, so
it links no household.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["place_of", "names_no_dwelling"]

#: the end of the smallest named place in a Chinese address (省 市 县/区 乡/镇/街道 村/社区/小区)
_PLACE = r"^(.*?(?:村|社区|小区|居委会|家园|花园|新村|公寓|苑))"
#: an unnamed compound is its street number (光华路84号, 天府大道北段1700号院, 淮海路123弄)
_STREET = r"^(.*?(?:路|街|大道|巷|胡同)(?:[东西南北中一二三四五六七八九十]+段)?\d+(?:号院|号|弄))"
_TOWN = r"^(.*?(?:镇|乡|街道))"
#: an address that stops at a district, county, city or province
_WIDE_AREA = r"^.*(?:省|市|区|县|州|旗)\s*$"
#: an address that ends at a village (or one of its 组/社), a community, a named compound (no
#: building, unit or room: 花园, 家园, 苑, 新村, a 公寓 that is no 老年公寓), a town, a street
#: with no number, or a district, county, city or province names no dwelling
_NO_DWELLING = (r"^.*(?:村|社区|小区|居委会|家园|花园|新村|苑|(?<!老年)公寓|镇|乡|街道"
                r"|路|街|大道|巷|胡同|省|市|区|县|州|旗"
                r"|村[0-9一二三四五六七八九十]+[组社])\s*$")


def place_of(address: pd.Series) -> pd.Series:
    """The village / community part of each address (its 村/社区/小区 prefix, else the street
    number of an unnamed compound, else its 镇/乡/街道 prefix, else the whole address): people
    recruited "from one place" share it; the building, unit and room that follow do not count."""
    a = address.astype("str")
    place = a.str.extract(_PLACE, expand=False)
    for pattern in (_STREET, _TOWN):
        place = place.fillna(a.str.extract(pattern, expand=False))
    # an address that stops at a district, county or city is no place one is recruited from
    return place.fillna(a.mask(a.str.match(_WIDE_AREA))).where(address.notna())


def names_no_dwelling(address: pd.Series) -> pd.Series:
    """Whether each address stops at a village (or one of its 组/社), community, named compound,
    town, an unnumbered street, or a district, county, city or province: a place many families
    live in, not one dwelling (boolean, by position of ``address``)."""
    return address.astype("str").str.match(_NO_DWELLING)
