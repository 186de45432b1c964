"""Ring detectors, one module per typology. Each is a pure function ``(Context, Settings) -> list[Ring]``."""

from graphkit.detectors.diversion import detect_diversion
from graphkit.detectors.fake_admission import detect_fake_admissions
from graphkit.detectors.gang import detect_gangs
from graphkit.detectors.impersonation import detect_impersonation
from graphkit.detectors.context import Context

DETECTORS = {
    "gang": detect_gangs,
    "impersonation": detect_impersonation,
    "diversion": detect_diversion,
    "fake_admission": detect_fake_admissions,
}

__all__ = ["DETECTORS", "Context", "detect_gangs", "detect_impersonation", "detect_diversion",
           "detect_fake_admissions"]
