"""Grouping nodes by their links: connected components (scipy) and communities (igraph Leiden).

Both take an edge list over nodes ``0..n-1`` as arrays and give one label per node, so that a
detector's groups are the same whatever the order its pairs were found in.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["components_of_pairs", "communities"]


def components_of_pairs(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Connected-component label per node 0..n-1 of the undirected graph with edges (a, b)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = sparse.coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(m, directed=False)
    return labels


def communities(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int, *, seed: int,
                resolution: float = 1.0, objective: str = "modularity") -> np.ndarray:
    """Community label per node (igraph Leiden, seeded; isolated nodes alone).

    ``objective`` is igraph's: ``"modularity"``, or ``"CPM"`` (constant Potts model), under
    which a community holds together when its mean pair weight (non-edges weigh 0) exceeds
    ``resolution`` — the same bar however many other communities the graph holds, where
    modularity's bar falls as the graph grows and merges small dense groups in a big one.
    igraph's C implementation: ~60x faster than python-louvain on a 2M-claim projection, with
    the same modularity.
    """
    import igraph as ig
    import random

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    g = ig.Graph(n=n, edges=list(zip(a.tolist(), b.tolist())), directed=False)
    g.es["weight"] = w.astype(float).tolist()
    # a generator of its own: reseeding the process-wide ``random`` would change what the
    # caller's own random numbers are; igraph's generator is set back afterwards
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function=objective, weights="weight",
                                  resolution=resolution, n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)
