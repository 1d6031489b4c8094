"""Shared fixtures: ``impl`` runs a test once per twin (ids ``c`` and ``py``)."""

from __future__ import annotations

import pytest

from twins import NO_EXTENSIONS, Twin


@pytest.fixture(scope="session", params=["c", "py"])
def impl(request: pytest.FixtureRequest) -> Twin:
    if request.param == "c" and NO_EXTENSIONS:
        pytest.skip("INNGEST_CORE_NO_EXTENSIONS is set: the compiled twins are not under test")
    return Twin(request.param)

