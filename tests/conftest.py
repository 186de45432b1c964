"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest

import graphkit
from tests.browser import write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The hand-built sample of tests/browser.py (hostile names, a 身份证 card): data dir, rings
    document and loaded Dataset."""
    data, doc = write_sample(tmp_path_factory.mktemp("sample") / "data")
    return data, doc, graphkit.load(data)
