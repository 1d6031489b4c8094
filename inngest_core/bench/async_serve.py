"""Benchmarks for async functions served over HTTP (issue 16), ours against the official
SDK (``inngest`` on PyPI), both mounted in FastAPI, both in dev mode.

- The registry group (``groups()``): one call replaying a 10-step ``async def`` function
  whose steps are all memoized, answered in process on an event loop (our
  ``App.handle_http_async``; the official SDK's ``CommHandler.post``, the core of its
  FastAPI integration).
- The load tables (``python -m inngest_core.bench.async_serve``): each SDK served by
  uvicorn in its own process on loopback; 1, 16 and 64 concurrent callers (keep-alive
  connections) replay the whole run of the 10-step async function -- its 11 calls, 0 to 10
  memos -- for a fixed time: requests per second and latency percentiles.  Then a 10-step
  ``parallel`` group driven end to end by ``LocalRunner.remote`` (12 calls a run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import Call, Contender, Group

STEPS = 10
URL = "http://127.0.0.1:8000/api/inngest"
EVENT = {"name": "bench/replay", "data": {}}
TOTAL = sum(range(STEPS))


async def _fetch(i: int) -> int:
    await asyncio.sleep(0)
    return i


def _bodies() -> list[bytes]:
    """The call requests of one whole run: 0 to ``STEPS`` memos."""
    from ..sdk.protocol import call_request, hash_step_id

    out = []
    for k in range(STEPS + 1):
        steps = {hash_step_id(f"step {i}"): {"data": i} for i in range(k)}
        out.append(json.dumps(call_request(EVENT, run_id="run-1", steps=steps,
                                           max_attempts=5)).encode("utf-8"))
    return out


def _our_app() -> Any:
    from ..sdk import App, Trigger, function

    @function(id="replay", trigger=Trigger(event="bench/replay"))
    async def replay(ctx: Any, step: Any) -> int:
        total = 0
        for i in range(STEPS):
            total += await step.step(f"step {i}", lambda i=i: _fetch(i))
        return total

    @function(id="fan", trigger=Trigger(event="bench/fan"))
    async def fan(ctx: Any, step: Any) -> int:
        results = await step.parallel([lambda i=i: step.step(f"p {i}", lambda: _fetch(i))
                                       for i in range(STEPS)])
        return sum(results)

    return App("bench", [replay, fan], dev=True, env={})


def _official_client() -> tuple[Any, list[Any]]:
    import inngest

    client = inngest.Inngest(app_id="bench", is_production=False,
                             api_base_url="http://127.0.0.1:9",
                             event_api_base_url="http://127.0.0.1:9",
                             logger=logging.getLogger("bench"))

    @client.create_function(fn_id="replay", trigger=inngest.TriggerEvent(event="bench/replay"))  # type: ignore[arg-type]
    async def replay(ctx: Any) -> int:
        total = 0
        for i in range(STEPS):
            total += await ctx.step.run(f"step {i}", _fetch, i)
        return total

    @client.create_function(fn_id="fan", trigger=inngest.TriggerEvent(event="bench/fan"))  # type: ignore[arg-type]
    async def fan(ctx: Any) -> int:
        results = await ctx.group.parallel(tuple(
            (lambda i=i: ctx.step.run(f"p {i}", _fetch, i)) for i in range(STEPS)))
        return sum(results)

    return client, [replay, fan]


def ours_api() -> Any:
    """Our app in FastAPI (a uvicorn ``--factory``)."""
    import fastapi

    api = fastapi.FastAPI()
    api.add_route("/api/inngest", _our_app().asgi(), methods=["GET", "POST", "PUT"])
    return api


def official_api() -> Any:
    """The official SDK's app in FastAPI (a uvicorn ``--factory``)."""
    import fastapi
    import inngest.fast_api

    api = fastapi.FastAPI()
    client, functions = _official_client()
    inngest.fast_api.serve(api, client, functions)
    return api


# ---------------------------------------------------------------------- registry group


def _ours_in_process() -> Call:
    from ..sdk.step import run_blocking

    app = _our_app()
    body = _bodies()[STEPS]

    def handle() -> int:
        status, _, data = run_blocking(app.handle_http_async(
            "POST", f"{URL}?fnId=bench-replay&stepId=step", {}, body))
        assert status == 200
        return int(json.loads(data))

    return Call(handle, ())


def _official_in_process() -> Any:
    from inngest._internal import comm_lib, server_lib

    from ..sdk.step import run_blocking

    client, functions = _official_client()
    handler = comm_lib.CommHandler(client=client, enable_unauthed_sync=None,
                                   framework=server_lib.Framework.FAST_API,
                                   functions=functions, streaming=None)
    body = _bodies()[STEPS]

    async def post() -> int:
        request = comm_lib.CommRequest(
            body=body, headers={}, is_connect=False, public_path=None,
            query_params={"fnId": "bench-replay", "stepId": "step"}, raw_request=None,
            request_url=URL, serve_origin=None, serve_path=None)
        response = await handler.post(request)
        data = response.body_bytes()
        assert response.status_code == 200 and isinstance(data, bytes)
        return int(json.loads(data))

    return lambda: run_blocking(post())


def groups() -> list[Group]:
    return [Group("async_serve", f"replay a {STEPS}-step async function, one call in "
                  "process (all steps memoized)", TOTAL, [
                      Contender("inngest_core App (async)", "compiled", _ours_in_process),
                      Contender("inngest (official, async)", "peer", _official_in_process),
                  ])]


# ---------------------------------------------------------------------- load over loopback


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(factory: str) -> Iterator[str]:
    """Serve ``factory`` (``ours_api`` or ``official_api``) with uvicorn in a process of its
    own; yield the endpoint's URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", f"inngest_core.bench.async_serve:{factory}",
         "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], env={**os.environ, "INNGEST_DEV": "1"})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"uvicorn ({factory}) did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/api/inngest"
    finally:
        proc.terminate()
        proc.wait(10)


async def _caller(port: int, path: str, bodies: list[bytes], stop_at: float,
                  latencies: list[float], offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    heads = [(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\n\r\n").encode("ascii") + body for body in bodies]
    i = offset
    try:
        while time.perf_counter() < stop_at:
            k = i % len(heads)
            i += 1
            start = time.perf_counter()
            writer.write(heads[k])
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            data = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            status = int(status_line.split()[1])
            expected = 200 if k == STEPS else 206
            if status != expected or (k == STEPS and int(data) != TOTAL):
                raise AssertionError(f"call {k}: {status} {data[:200]!r}")
    finally:
        writer.close()


def load(url: str, concurrency: int, seconds: float) -> dict[str, float]:
    """``concurrency`` callers replaying the run for ``seconds``: requests per second and
    latency percentiles (ms)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = f"{parts.path}?fnId=bench-replay&stepId=step"
    bodies = _bodies()
    latencies: list[float] = []

    async def main() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(_caller(parts.port or 80, path, bodies, start + seconds,
                                       latencies, n) for n in range(concurrency)))
        return time.perf_counter() - start

    elapsed = asyncio.run(main())
    ordered = sorted(latencies)
    return {"rps": len(ordered) / elapsed,
            "p50": statistics.median(ordered) * 1000,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


def parallel_runs(url: str, runs: int) -> dict[str, float]:
    """``runs`` runs of the 10-step parallel group, one after another, driven by
    ``LocalRunner.remote``: runs per second and the p99 of a run (ms)."""
    from ..sdk import LocalRunner, RemoteFunction

    # Both apps are in dev mode, where the official SDK syncs only out of band: the
    # runner is given the function's registration instead of syncing in band.
    fan = RemoteFunction({"id": "bench-fan", "triggers": [{"event": "bench/fan"}],
                          "steps": {"step": {"retries": {"attempts": 4}, "runtime": {
                              "url": f"{url}?fnId=bench-fan&stepId=step"}}}},
                         app_id="bench")
    runner = LocalRunner([fan], db=":memory:")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        [run] = runner.send({"name": "bench/fan", "data": {}})
        times.append(time.perf_counter() - start)
        assert runner.result(run) == TOTAL, runner.history(run)
    runner.close()
    ordered = sorted(times)
    return {"runs_s": len(ordered) / sum(ordered), "median": statistics.median(ordered) * 1000,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    args = parser.parse_args(argv)
    sdks = [("inngest_core (App.asgi in FastAPI)", "ours_api"),
            ("inngest 0.5.19 (official, fast_api.serve)", "official_api")]
    print(f"replay of a {STEPS}-step async function ({STEPS + 1} calls a run), "
          f"uvicorn on loopback, {args.seconds:g} s per row\n")
    print("| SDK | callers | req/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: |")
    fan: dict[str, dict[str, float]] = {}
    for label, factory in sdks:
        with served(factory) as url:
            load(url, 4, 1.0)  # warm-up
            for concurrency in args.concurrency:
                row = load(url, concurrency, args.seconds)
                print(f"| {label} | {concurrency} | {row['rps']:,.0f} | {row['p50']:.2f} | "
                      f"{row['p99']:.2f} |", flush=True)
            fan[label] = parallel_runs(url, args.runs)
    print(f"\n{STEPS}-step parallel group driven end to end by LocalRunner.remote "
          f"({STEPS + 2} calls a run, {args.runs} runs)\n")
    print("| SDK | runs/s | median ms | p99 ms |\n| --- | ---: | ---: | ---: |")
    for label, row in fan.items():
        print(f"| {label} | {row['runs_s']:.1f} | {row['median']:.2f} | {row['p99']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
