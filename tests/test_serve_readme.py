"""The README's "Run it on Inngest" snippets (```py blocks, not doctests) really serve:
the Flask one under wsgiref, the FastAPI one under uvicorn, each driven to completion by
``LocalRunner.remote`` over loopback in dev mode."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from test_serve_support import uvicorn_server, wsgi_server

from inngest_core.sdk import LocalRunner, ManualClock

ROOT = Path(__file__).resolve().parent.parent


def snippets() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Run it on Inngest", 1)[1].split("\n## ", 1)[0]
    return [block[len("py\n"):] for block in section.split("```") if block.startswith("py\n")]


@pytest.fixture
def flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / "examples" / "sign_up.py", tmp_path / "flows.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("INNGEST_DEV", "1")
    for name in ("INNGEST_SIGNING_KEY", "INNGEST_BASE_URL", "INNGEST_SERVE_ORIGIN",
                 "INNGEST_SERVE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "flows", raising=False)


def drive(url: str) -> None:
    runner = LocalRunner.remote(url, clock=ManualClock(datetime(2024, 1, 1,
                                                                  tzinfo=timezone.utc)))
    [run] = runner.send({"name": "auth/signup",
                         "data": {"user": {"id": 7, "email": "ann@example.com"}}})
    runner.fast_forward()
    assert runner.status(run) == "completed"
    assert runner.result(run)["confirmed"] is False
    runner.close()


def test_there_are_two_snippets() -> None:
    assert len(snippets()) == 2


def test_flask_snippet(flows: None) -> None:
    pytest.importorskip("flask")
    namespace: dict[str, Any] = {"__name__": "main"}
    exec(snippets()[0], namespace)
    with wsgi_server(namespace["app"]) as base:
        drive(base + "/api/inngest")


def test_fastapi_snippet(flows: None) -> None:
    pytest.importorskip("fastapi")
    namespace: dict[str, Any] = {"__name__": "main"}
    exec(snippets()[1], namespace)
    with uvicorn_server(namespace["api"]) as base:
        drive(base + "/api/inngest")
