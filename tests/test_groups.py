"""graphkit.detectors.groups: components and communities over edge arrays."""

import random

import numpy as np

from graphkit.detectors.groups import communities, components_of_pairs


def _two_triangles():
    # two dense triangles 0-1-2 and 3-4-5, joined by one light edge 2-3
    a = np.array([0, 1, 0, 3, 4, 3, 2])
    b = np.array([1, 2, 2, 4, 5, 5, 3])
    w = np.array([5, 5, 5, 5, 5, 5, 1])
    return a, b, w


def test_components_label_each_connected_part_and_isolated_nodes_alone():
    labels = components_of_pairs(np.array([0, 3]), np.array([1, 4]), 6)
    assert labels.tolist() == [0, 0, 1, 2, 2, 3]


def test_communities_split_two_triangles_joined_by_a_light_edge():
    a, b, w = _two_triangles()
    labels = communities(a, b, w, 7, seed=3)
    assert labels[:3].tolist() == [labels[0]] * 3
    assert labels[3:6].tolist() == [labels[3]] * 3
    assert labels[0] != labels[3]
    assert labels[6] not in set(labels[:6].tolist())  # node 6 has no edge


def test_communities_leave_the_process_wide_random_alone():
    a, b, w = _two_triangles()
    random.seed(2024)
    state = random.getstate()
    communities(a, b, w, 7, seed=3)
    assert random.getstate() == state


def test_communities_same_seed_same_labels():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 60, 300), rng.integers(0, 60, 300)
    keep = a != b
    a, b = a[keep], b[keep]
    w = rng.integers(1, 5, len(a))
    first = communities(a, b, w, 60, seed=11, objective="CPM", resolution=0.1)
    again = communities(a, b, w, 60, seed=11, objective="CPM", resolution=0.1)
    assert first.tolist() == again.tolist()
