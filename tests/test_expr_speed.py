"""The Python twin's evaluator is at least 20 times faster than cel-python (pip ``cel-python``)
on the issue's two expressions, on fresh nested dicts (what a caller has in hand)."""

from __future__ import annotations

import importlib
import timeit
from types import ModuleType
from typing import Any

import pytest

#: The twins these tests run against; the compiled twin's author switches this to ["c", "py"].
TWINS_UNDER_TEST = ["c", "py"]

S1 = "event.data.user.id == async.data.user.id"
S2 = ('event.data.amount > 100 && async.data.plan in ["pro", "enterprise"] '
      '&& async.data.email.endsWith("@example.com")')


def activation() -> dict[str, Any]:
    return {
        "event": {"data": {"user": {"id": "u_123"}, "amount": 250}},
        "async": {"data": {"user": {"id": "u_123"}, "plan": "pro", "email": "a@example.com"}},
    }


def best(statement: Any, number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=3)) / number


@pytest.fixture(params=TWINS_UNDER_TEST)
def twin(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(f"inngest_core._expr_{request.param}")


@pytest.mark.parametrize("source", [S1, S2], ids=["S1", "S2"])
def test_twenty_times_faster_than_cel_python(twin: ModuleType, source: str) -> None:
    celpy = pytest.importorskip("celpy")
    environment = celpy.Environment()
    peer = environment.program(environment.compile(source))
    ours = twin.compile_program(source)
    assert ours.evaluate(activation()) is True
    assert bool(peer.evaluate(celpy.json_to_cel(activation()))) is True
    ours_time = best(lambda: ours.evaluate(activation()), 5000)
    peer_time = best(lambda: peer.evaluate(celpy.json_to_cel(activation())), 100)
    assert peer_time / ours_time >= 20, (ours_time, peer_time)
