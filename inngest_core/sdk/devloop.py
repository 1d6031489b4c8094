"""``inngest-core dev --url URL`` and ``inngest-core send --dev JSON``: a local stand-in for
Inngest's dev server.

``dev`` syncs the app served at URL (:meth:`LocalRunner.remote`), then runs the runner's
loop on the real clock and serves an event inbox on the loopback address: ``POST
/e/<any key>`` with one event or a list, the route and the answer of Inngest's event API
(``{"ids": [...], "status": 200}``).  Its default port is the dev server's, 8288, so an
:class:`~inngest_core.sdk.App` in dev mode sends its events there too.  ``send --dev``
posts an event to that inbox (``--inbox URL`` or ``INNGEST_DEV`` when it is a URL).

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="inngest-core")
>>> add_dev_commands(parser.add_subparsers(dest="command"))
>>> parser.parse_args(["dev", "--url", "http://127.0.0.1:8000/api/inngest"]).port
8288
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .events import JSON, events_in
from .serve import DEV_SERVER_URL
from .wire import MAX_BODY_BYTES, strict_json

__all__ = ["add_dev_commands", "dev_command", "send_command", "Inbox", "events_from"]

BAD_INPUT = 2


def events_from(doc: object) -> list[dict[str, Any]]:
    """The events in a JSON document (one event or a list); ``ValueError`` otherwise.

    >>> events_from({"name": "a/b"})
    [{'name': 'a/b', 'data': {}}]
    >>> events_from([{"data": {}}])
    Traceback (most recent call last):
    ...
    ValueError: an event is a JSON object with a "name" (a non-empty string)
    """
    return events_in(doc, wording=JSON)


class Inbox:
    """The event inbox: a threaded HTTP server on ``host:port`` that hands the events it
    gets to ``accept`` (:meth:`LocalRunner.accept <inngest_core.sdk.LocalRunner.accept>`,
    safe from any thread: the runner's own thread matches them later) and answers with their
    ids at once -- so an app's ``step.send_event`` can post here while the runner waits for
    that very call.  Each batch, with its ids, also goes on :attr:`queue` for the dev loop
    to report.  ``port=0`` picks a free port; :attr:`url` says which.

    >>> with Inbox(port=0, accept=lambda events: ["e1"] * len(events)) as inbox:
    ...     inbox.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8288, *,
                 accept: Callable[[list[dict[str, Any]]], list[str]]) -> None:
        self.queue: queue.Queue[list[dict[str, Any]]] = queue.Queue()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, doc: object) -> None:
                data = json.dumps(doc).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if not self.path.startswith("/e/"):
                    self._reply(404, {"error": "events go to POST /e/<event key>"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._reply(413, {"error": "the body is over 4 MB"})
                    return
                try:
                    events = events_from(strict_json(self.rfile.read(length)))
                except ValueError as exc:
                    self._reply(400, {"error": str(exc)})
                    return
                try:
                    ids = accept(events)
                except ValueError as exc:
                    self._reply(400, {"error": str(exc)})
                    return
                inbox.queue.put([{**event, "id": event_id}
                                 for event, event_id in zip(events, ids)])
                self._reply(200, {"ids": ids, "status": 200})

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_dev_commands(subparsers: Any) -> None:
    """Add the ``dev`` and ``send`` commands to an argparse ``subparsers`` object.

    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_dev_commands(parser.add_subparsers())
    >>> parser.parse_args(["send", "--dev", '{"name": "a"}']).dev
    '{"name": "a"}'
    """
    p = subparsers.add_parser(
        "dev", help="drive the functions an app serves at a URL, with a local event inbox")
    p.add_argument("--url", required=True,
                   help="the app's endpoint, such as http://127.0.0.1:8000/api/inngest")
    p.add_argument("--signing-key", default=None,
                   help="sign calls with this key (default: INNGEST_SIGNING_KEY if set; "
                        "none for an app in dev mode)")
    p.add_argument("--db", default=":memory:",
                   help="the SQLite database of run state (default: in memory)")
    p.add_argument("--host", default="127.0.0.1", help="the inbox's address (127.0.0.1)")
    p.add_argument("--port", type=int, default=8288,
                   help="the inbox's port (8288, the dev server's; 0 picks a free one)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="stop after this many seconds (default: run until interrupted)")
    p.set_defaults(run=dev_command)

    s = subparsers.add_parser("send", help="send an event to the local dev loop's inbox")
    s.add_argument("--dev", required=True, metavar="JSON",
                   help='the event (or a list) as JSON, such as \'{"name": "a/b", "data": {}}\'')
    s.add_argument("--inbox", default=None,
                   help=f"the inbox's URL (default: INNGEST_DEV if it is a URL, else "
                        f"{DEV_SERVER_URL})")
    s.set_defaults(run=send_command)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def dev_command(args: argparse.Namespace) -> int:
    """The ``dev`` command's handler; returns the exit code.

    >>> import argparse
    >>> dev_command(argparse.Namespace(url="http://127.0.0.1:1/", signing_key=None,
    ...                                db=":memory:", host="127.0.0.1", port=0,
    ...                                max_seconds=0))
    1
    """
    from .remote import SyncError
    from .runner import LocalRunner

    key = args.signing_key or os.environ.get("INNGEST_SIGNING_KEY") or None
    try:
        runner = LocalRunner.remote(args.url, key, db=args.db, timeout=10.0)
    except (SyncError, ValueError) as exc:
        sys.stderr.write(f"inngest-core dev: {exc}\n")
        return 1
    try:
        inbox = Inbox(args.host, args.port, accept=runner.accept)
    except OSError as exc:
        sys.stderr.write(f"inngest-core dev: cannot serve the inbox on "
                         f"{args.host}:{args.port}: {exc}\n")
        runner.close()
        return 1
    deadline = None if args.max_seconds is None else time.monotonic() + args.max_seconds
    seen: dict[str, str] = {}
    with runner, inbox:
        _say(f"synced {len(runner.functions)} function(s) from {args.url}: "
             + ", ".join(runner.functions))
        _say(f"inbox: POST {inbox.url}/e/<any key>")
        try:
            while deadline is None or time.monotonic() < deadline:
                due = runner.next_due()
                wait = 0.5
                if due is not None:
                    wait = min(wait, max(0.0, (due - runner.clock.now()).total_seconds()))
                try:
                    events = inbox.queue.get(timeout=wait)
                except queue.Empty:
                    pass
                else:
                    for event in events:
                        _say(f"event {event['name']} {event['id']}")
                runner.run_until_idle()
                for run_id, fn_id, status in runner.runs():
                    if seen.get(run_id) != status:
                        seen[run_id] = status
                        _say(f"run {run_id} {fn_id}: {status}")
        except KeyboardInterrupt:
            pass
    return 0


def send_command(args: argparse.Namespace) -> int:
    """The ``send`` command's handler; returns the exit code.

    >>> import argparse
    >>> send_command(argparse.Namespace(dev="{oops", inbox=None))
    2
    """
    from .remote import http_request

    try:
        events = events_from(json.loads(args.dev))
    except ValueError as exc:
        sys.stderr.write(f"inngest-core send: --dev is not an event: {exc}\n")
        return BAD_INPUT
    inbox = args.inbox
    if inbox is None:
        configured = os.environ.get("INNGEST_DEV", "")
        inbox = configured if configured.startswith(("http://", "https://")) else (
            DEV_SERVER_URL)
    target = inbox.rstrip("/") + "/e/dev"
    try:
        status, _, body = http_request("POST", target, {"Content-Type": "application/json"},
                                       json.dumps(events).encode("utf-8"), 60.0)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"inngest-core send: cannot reach {target}: {exc} "
                         "(is `inngest-core dev` running?)\n")
        return 1
    if status != 200:
        sys.stderr.write(f"inngest-core send: {target} answered {status}: "
                         f"{body[:300].decode('utf-8', 'replace')}\n")
        return 1
    sys.stdout.write(body.decode("utf-8") + "\n")
    return 0
