"""Shared fixtures: ``impl`` runs a test once per twin (ids ``c`` and ``py``)."""

from __future__ import annotations

import pytest

from twins import SKIP_COMPILED, Twin


@pytest.fixture(scope="session", params=["c", "py"])
def impl(request: pytest.FixtureRequest) -> Twin:
    if request.param == "c" and SKIP_COMPILED:
        pytest.skip(SKIP_COMPILED)
    return Twin(request.param)
