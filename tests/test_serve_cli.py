"""``inngest-core dev --url URL`` with its loopback event inbox, and ``inngest-core send
--dev JSON`` (issue 9): a real subprocess drives an app served on loopback."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from test_serve_support import KEY, wsgi_server

from inngest_core.cli import main
from inngest_core.sdk import App, Context, Step, Trigger, function


@function(id="nap", trigger=Trigger(event="demo/nap"))
def nap(ctx: Context, step: Step) -> Any:
    who = step.step("who", lambda: ctx.event["data"]["who"])
    step.sleep("rest", "1s")
    return "good morning " + who


def lines_of(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return out


def expect(out: queue.Queue[str], prefix: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = out.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if line.startswith(prefix) or prefix in line:
            return line
    raise AssertionError(f"no line with {prefix!r} in {seen}")


def test_dev_loop_with_inbox_send_and_a_real_sleep(capsys: pytest.CaptureFixture[str]) -> None:
    app = App("shop", [nap], signing_key=KEY, env={})
    with wsgi_server(app.wsgi()) as base:
        env = {**os.environ, "INNGEST_SIGNING_KEY": KEY}
        proc = subprocess.Popen(
            [sys.executable, "-m", "inngest_core", "dev", "--url", base + "/api/inngest",
             "--port", "0", "--max-seconds", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            out = lines_of(proc)
            assert expect(out, "synced") == (
                f"synced 1 function(s) from {base}/api/inngest: nap")
            inbox = expect(out, "inbox: POST ").split()[2].removesuffix("/e/<any")
            assert inbox.startswith("http://127.0.0.1:")

            assert main(["send", "--dev", '{"name": "demo/nap", "data": {"who": "ann"}}',
                         "--inbox", inbox]) == 0
            answer = json.loads(capsys.readouterr().out)
            assert answer["status"] == 200 and len(answer["ids"]) == 1
            expect(out, f"event demo/nap {answer['ids'][0]}")
            run_id = expect(out, ": sleeping").split()[1]
            expect(out, f"run {run_id} nap: completed", timeout=10)

            # An App in dev mode sends to the same inbox (the dev server's route).
            dev_app = App("shop", [nap], dev=inbox, env={})
            [event_id] = dev_app.send({"name": "demo/nap", "data": {"who": "bo"}})
            expect(out, f"event demo/nap {event_id}")

            assert main(["send", "--dev", '{"data": {}}', "--inbox", inbox]) == 2
            assert main(["send", "--dev", '{"name": "x"}', "--inbox",
                         "http://127.0.0.1:1"]) == 1
        finally:
            proc.terminate()
            proc.wait(10)


def test_dev_needs_a_reachable_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", "--url", "http://127.0.0.1:1/api/inngest", "--port", "0",
                 "--max-seconds", "0"]) == 1
    assert "cannot sync http://127.0.0.1:1/api/inngest" in capsys.readouterr().err
