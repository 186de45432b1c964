"""graphkit: find organised fraud in Chinese medical-insurance (医保) claims by treating it as a graph.

The public API a notebook uses::

    import graphkit as gk
    ds = gk.load("data_samples/demo")
    rings = gk.find_rings(ds)
"""

from __future__ import annotations

from graphkit._version import __version__

__all__ = ["__version__", "load", "Dataset", "GraphkitError", "LoadError", "Ring"]

from graphkit.errors import GraphkitError, LoadError  # noqa: E402
from graphkit.load import Dataset, load  # noqa: E402
from graphkit.rings import Ring  # noqa: E402
from graphkit.detect import find_rings  # noqa: E402

__all__ += ["find_rings"]
from graphkit.explore import (  # noqa: E402
    BoundRing, compare, expand, package, plot_timeline, profile, rings_of, show, timeline, who_else)

__all__ += ["rings_of", "BoundRing", "expand", "show", "timeline", "plot_timeline", "who_else",
            "profile", "compare", "package"]
