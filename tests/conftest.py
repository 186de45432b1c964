"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest

import graphkit
from tests.browser import write_sample

# the session's Bolt test server (``bolt``) and a wiped store on it (``store``)
pytest_plugins = ["tests.neo4j_fixtures"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The hand-built sample of tests/browser.py (hostile names, a 身份证 card): data dir, rings
    document and loaded Dataset."""
    data, doc = write_sample(tmp_path_factory.mktemp("sample") / "data")
    return data, doc, graphkit.load(data)
