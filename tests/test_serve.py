"""The HTTP endpoint (issue 9): every rule of the spec, valid and invalid, over real HTTP on
the loopback address, under wsgiref (WSGI) and uvicorn (ASGI)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from test_serve_support import FALLBACK, KEY, OTHER, Recorder, request, uvicorn_server, \
    wsgi_server

from inngest_core import __version__
from inngest_core.sdk import App, ConfigurationError, Context, SendError, Step, Trigger, \
    function
from inngest_core.sdk.protocol import call_request, hash_step_id
from inngest_core.sdk.serve import MAX_BODY_BYTES
from inngest_core.sdk.signing import sign_request, verify_response

RAN: list[str] = []


@function(id="greet", name="Greet", trigger=Trigger(event="demo/greet"))
def greet(ctx: Context, step: Step) -> Any:
    RAN.append(ctx.run_id)
    return step.step("hello", lambda: "hi " + ctx.event["data"]["who"])


@function(id="digest", trigger=Trigger(cron="0 9 * * *"), retries=2)
def digest(ctx: Context, step: Step) -> Any:
    return None


def make_app(**kwargs: Any) -> App:
    options: dict[str, Any] = {"signing_key": KEY, "signing_key_fallback": FALLBACK,
                               "env": {}}
    options.update(kwargs)
    return App("shop", [greet, digest], **options)


@pytest.fixture(scope="module", params=["wsgiref", "uvicorn"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    app = make_app()
    if request.param == "wsgiref":
        with wsgi_server(app.wsgi()) as url:
            yield url + "/api/inngest"
    else:
        with uvicorn_server(app.asgi()) as url:
            yield url + "/api/inngest"


@pytest.fixture(autouse=True)
def _clear() -> None:
    RAN.clear()


def call_body(run_id: str = "r1", steps: dict[str, Any] | None = None) -> bytes:
    doc = call_request({"name": "demo/greet", "data": {"who": "ann"}}, run_id=run_id,
                       steps=steps)
    return json.dumps(doc).encode()


def post(base: str, body: bytes, signature: str | None, fn_id: str = "shop-greet",
         ) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Inngest-Signature"] = signature
    return request("POST", f"{base}?fnId={fn_id}&stepId=step", body, headers)


# ---------------------------------------------------------------------- calls


def test_signed_call_runs_and_the_answer_is_signed(base: str) -> None:
    body = call_body()
    status, headers, answer = post(base, body, sign_request(body, KEY))
    assert status == 206
    op = json.loads(answer)[0]
    assert (op["op"], op["id"], op["data"]) == ("StepRun", hash_step_id("hello"), "hi ann")
    assert headers["x-inngest-sdk"] == f"inngest_core:v{__version__}"
    assert headers["x-inngest-req-version"] == "2"
    assert verify_response(answer, headers["x-inngest-signature"], [KEY]) == KEY
    assert RAN == ["r1"]


def test_memoized_call_finishes(base: str) -> None:
    body = call_body(steps={hash_step_id("hello"): {"data": "hi ann"}})
    status, headers, answer = post(base, body, sign_request(body, KEY))
    assert (status, json.loads(answer)) == (200, "hi ann")


def test_fallback_key_is_accepted_and_signs_the_answer(base: str) -> None:
    body = call_body()
    status, headers, answer = post(base, body, sign_request(body, FALLBACK))
    assert status == 206
    assert verify_response(answer, headers["x-inngest-signature"], [FALLBACK]) == FALLBACK


def test_canonically_equal_body_verifies(base: str) -> None:
    doc = json.loads(call_body())
    signed_for = json.dumps(doc, sort_keys=True, indent=2).encode()
    sent = json.dumps(doc, separators=(",", ":")).encode()
    status, _, _ = post(base, sent, sign_request(signed_for, KEY))
    assert status == 206


def reason(answer: bytes) -> str:
    doc = json.loads(answer)
    assert doc["name"] == "Unauthorized"
    return str(doc["message"])


@pytest.mark.parametrize("case,expected", [
    ("missing", "missing X-Inngest-Signature header"),
    ("wrong key", "does not match"),
    ("expired", "s old; signatures are valid for 300 s"),
    ("future", "far in the future"),
    ("malformed", "malformed X-Inngest-Signature"),
    ("tampered", "does not match"),
    ("no timestamp", "malformed X-Inngest-Signature"),
])
def test_bad_signatures_answer_500_retriable_and_run_nothing(base: str, case: str,
                                                            expected: str) -> None:
    # SDK spec 4.1.3: a call with a bad signature is refused with a 500, which Inngest
    # retries (a key rotation must not kill runs); no X-Inngest-No-Retry: true.
    body = call_body()
    now = int(time.time())
    signature: str | None = {
        "missing": None,
        "wrong key": sign_request(body, OTHER),
        "expired": sign_request(body, KEY, timestamp=now - 301),
        "future": sign_request(body, KEY, timestamp=now + 400),
        "malformed": "t=abc&s=zz",
        "tampered": sign_request(call_body(run_id="other"), KEY),
        "no timestamp": "s=" + "0" * 64,
    }[case]
    status, headers, answer = post(base, body, signature)
    assert (status, headers["x-inngest-no-retry"]) == (500, "false")
    assert expected in reason(answer)
    assert RAN == []


def test_a_signature_just_inside_the_window_is_accepted(base: str) -> None:
    body = call_body()
    status, _, _ = post(base, body, sign_request(body, KEY, timestamp=int(time.time()) - 290))
    assert status == 206


def test_unknown_and_missing_fn_id(base: str) -> None:
    body = call_body()
    # SDK spec 4.4.1: an unknown function is a 500 (retried: a rolling deploy may not have
    # reached this instance yet).
    status, headers, answer = post(base, body, sign_request(body, KEY), fn_id="shop-nope")
    assert (status, headers["x-inngest-no-retry"]) == (500, "false")
    assert json.loads(answer)["name"] == "FunctionNotFound"
    assert json.loads(answer)["message"] == (
        'no function "shop-nope" in app "shop" (it serves: shop-digest, shop-greet)')
    status, _, answer = request("POST", base, body,
                                {"X-Inngest-Signature": sign_request(body, KEY)})
    assert status == 400 and "fnId" in json.loads(answer)["message"]
    assert RAN == []


def test_oversize_body_is_refused_with_413(base: str) -> None:
    body = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    status, _, answer = post(base, body, "t=1&s=00")
    assert status == 413
    assert "limit is 4194304 bytes" in json.loads(answer)["message"]
    assert RAN == []


@pytest.mark.parametrize("body,expected", [
    (b"{not json", "not valid JSON"),
    (b'{"event": NaN}', "not valid JSON: NaN is not JSON"),
    (b'{"a": 1, "a": 2}', "not valid JSON: duplicate key 'a'"),
    (b"\xff\xfe", "not valid JSON"),
    (b'{"event": {}}', 'invalid call request: missing key "events"'),
    (b"[]", "the body must be a JSON object, not list"),
])
def test_malformed_bodies_answer_400_and_run_nothing(base: str, body: bytes,
                                                     expected: str) -> None:
    signature = sign_request(body, KEY) if expected.startswith(("invalid", "the body")) \
        else "t=1&s=00"
    status, headers, answer = post(base, body, signature)
    assert status == 400
    assert expected in json.loads(answer)["message"]
    assert headers["x-inngest-no-retry"] == "true"
    assert RAN == []


def test_trust_probe(base: str) -> None:
    status, headers, _ = request("POST", base + "?probe=trust", b"",
                                 {"X-Inngest-Signature": sign_request(b"", KEY)})
    assert status == 200
    status, _, _ = request("POST", base + "?probe=trust", b"")
    assert status == 401


def test_other_methods_are_405(base: str) -> None:
    status, headers, _ = request("DELETE", base)
    assert status == 405 and headers["allow"] == "GET, POST, PUT"


# ---------------------------------------------------------------------- introspection


def test_introspection_unauthenticated_and_signed(base: str) -> None:
    status, _, answer = request("GET", base)
    assert status == 200
    assert json.loads(answer) == {
        "schema_version": "2024-05-24", "function_count": 2, "has_event_key": False,
        "has_signing_key": True, "has_signing_key_fallback": True, "mode": "cloud",
        "authentication_succeeded": None}

    status, _, answer = request("GET", base, headers={"X-Inngest-Signature": "t=1&s=00"})
    assert json.loads(answer)["authentication_succeeded"] is False
    assert "app_id" not in json.loads(answer)

    status, headers, answer = request(
        "GET", base, headers={"X-Inngest-Signature": sign_request(b"", FALLBACK)})
    doc = json.loads(answer)
    assert verify_response(answer, headers["x-inngest-signature"], [FALLBACK])
    assert doc["authentication_succeeded"] is True
    assert doc["app_id"] == "shop" and doc["function_count"] == 2
    assert doc["signing_key_hash"] == "signkey-test-" + hashlib.sha256(
        bytes.fromhex("a1" * 32)).hexdigest()
    assert doc["capabilities"] == {"in_band_sync": "v1", "trust_probe": "v1"}
    assert doc["framework"] in ("wsgi", "asgi")


# ---------------------------------------------------------------------- sync


def test_in_band_sync(base: str) -> None:
    payload = json.dumps({"url": "https://my.app/api/inngest"}).encode()
    status, headers, answer = request("PUT", base, payload, {
        "X-Inngest-Sync-Kind": "in_band", "X-Inngest-Signature": sign_request(payload, KEY)})
    assert status == 200
    assert headers["x-inngest-sync-kind"] == "in_band"
    assert verify_response(answer, headers["x-inngest-signature"], [KEY])
    doc = json.loads(answer)
    assert doc["app_id"] == "shop" and doc["url"] == "https://my.app/api/inngest"
    assert [f["id"] for f in doc["functions"]] == ["shop-greet", "shop-digest"]
    assert doc["functions"][0]["steps"]["step"]["runtime"]["url"] == (
        "https://my.app/api/inngest?fnId=shop-greet&stepId=step")
    assert doc["inspection"]["authentication_succeeded"] is True


@pytest.mark.parametrize("case", ["unsigned", "wrong key", "bad body"])
def test_in_band_sync_refused(base: str, case: str) -> None:
    payload = b'{"nope": 1}' if case == "bad body" else b'{"url": "https://my.app/"}'
    headers = {"X-Inngest-Sync-Kind": "in_band"}
    if case != "unsigned":
        headers["X-Inngest-Signature"] = sign_request(payload, OTHER if case == "wrong key"
                                                      else KEY)
    status, _, answer = request("PUT", base, payload, headers)
    assert status == (400 if case == "bad body" else 401)


GOLDEN_REGISTRATION = {
    "url": "http://127.0.0.1:PORT/api/inngest",
    "deployType": "ping",
    "appName": "shop",
    "sdk": "inngest_core:vVERSION",
    "v": "0.1",
    "framework": "wsgi",
    "functions": [
        {"id": "shop-greet", "name": "Greet", "triggers": [{"event": "demo/greet"}],
         "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": 4},
                            "runtime": {"type": "http", "url": "http://127.0.0.1:PORT/api/"
                                        "inngest?fnId=shop-greet&stepId=step"}}}},
        {"id": "shop-digest", "name": "digest", "triggers": [{"cron": "0 9 * * *"}],
         "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": 2},
                            "runtime": {"type": "http", "url": "http://127.0.0.1:PORT/api/"
                                        "inngest?fnId=shop-digest&stepId=step"}}}},
    ],
}


def test_out_of_band_sync_posts_the_golden_registration() -> None:
    stand_in = Recorder(lambda m, p, h, b: (200, {"ok": True, "modified": True}))
    with wsgi_server(stand_in) as api:
        app = make_app(base_url=api)
        with wsgi_server(app.wsgi()) as served:
            status, headers, answer = request("PUT", served + "/api/inngest?deployId=d1")
    assert (status, json.loads(answer)) == (200, {"ok": True, "modified": True})
    assert headers["x-inngest-sync-kind"] == "out_of_band"
    [(method, path, sent_headers, body)] = stand_in.seen
    assert (method, path) == ("POST", "/fn/register?deployId=d1")
    assert sent_headers["authorization"] == "Bearer signkey-test-" + hashlib.sha256(
        bytes.fromhex("a1" * 32)).hexdigest()
    port = served.rsplit(":", 1)[1]
    golden = json.loads(json.dumps(GOLDEN_REGISTRATION).replace("PORT", port)
                        .replace("VERSION", __version__))
    assert json.loads(body) == golden


def test_out_of_band_sync_falls_back_to_the_second_key_and_passes_errors_on() -> None:
    main_token = "Bearer signkey-test-" + hashlib.sha256(bytes.fromhex("a1" * 32)).hexdigest()

    def answer(m: str, p: str, h: dict[str, str], b: bytes) -> tuple[int, Any]:
        return (401, {"error": "bad key"}) if h["authorization"] == main_token else (
            200, {"ok": True})

    stand_in = Recorder(answer)
    with wsgi_server(stand_in) as api, wsgi_server(make_app(base_url=api).wsgi()) as served:
        status, _, _ = request("PUT", served + "/api/inngest")
        assert status == 200 and len(stand_in.seen) == 2
        stand_in.answer = lambda m, p, h, b: (400, {"error": "invalid config"})
        status, _, answer_body = request("PUT", served + "/api/inngest")
        assert (status, json.loads(answer_body)) == (400, {"error": "invalid config"})


def test_out_of_band_sync_unreachable_api() -> None:
    with wsgi_server(make_app(base_url="http://127.0.0.1:1").wsgi()) as served:
        status, _, answer = request("PUT", served + "/api/inngest")
    assert status == 500 and "cannot reach http://127.0.0.1:1/fn/register" in (
        json.loads(answer)["message"])


def test_serve_origin_and_path_rewrite_the_registered_url() -> None:
    app = make_app(env={"INNGEST_SERVE_ORIGIN": "https://shop.example",
                        "INNGEST_SERVE_PATH": "/inngest"})
    assert app.registration(app.public_url("http://10.1.2.3:8000/api/inngest?x=1"))["url"] == (
        "https://shop.example/inngest")
    assert make_app(serve_url="https://a.example/x").public_url("http://h/y") == (
        "https://a.example/x")


# ---------------------------------------------------------------------- configuration


def test_missing_signing_key_outside_dev_mode_is_a_start_up_error() -> None:
    with pytest.raises(ConfigurationError, match="no signing key: set INNGEST_SIGNING_KEY"):
        App("shop", [greet], env={})
    with pytest.raises(ConfigurationError, match="no signing key"):
        App("shop", [greet], env={"INNGEST_DEV": "0"})
    with pytest.raises(ConfigurationError, match="malformed"):
        App("shop", [greet], signing_key="signkey-prod-nothex", env={})
    with pytest.raises(ConfigurationError, match="INNGEST_DEV must be"):
        App("shop", [greet], env={"INNGEST_DEV": "maybe"})


def test_environment_variables() -> None:
    app = App("shop", [greet], env={
        "INNGEST_SIGNING_KEY": KEY, "INNGEST_SIGNING_KEY_FALLBACK": FALLBACK,
        "INNGEST_EVENT_KEY": "ek", "INNGEST_BASE_URL": "http://127.0.0.1:7/",
        "INNGEST_ENV": "branch-1"})
    assert (app.mode, app.signing_key, app.signing_key_fallback, app.event_key) == (
        "cloud", KEY, FALLBACK, "ek")
    assert (app.api_url, app.event_api_url, app.env) == (
        "http://127.0.0.1:7", "http://127.0.0.1:7", "branch-1")
    dev = App("shop", [greet], env={"INNGEST_DEV": "http://127.0.0.1:8300"})
    assert (dev.mode, dev.api_url) == ("dev", "http://127.0.0.1:8300")
    assert App("shop", [greet], env={"INNGEST_DEV": "1"}).api_url == "http://127.0.0.1:8288"
    # an argument wins over the environment
    assert App("shop", [greet], dev=False, signing_key=KEY,
               env={"INNGEST_DEV": "1"}).mode == "cloud"


def test_dev_mode_takes_unsigned_calls_and_signs_nothing() -> None:
    app = App("shop", [greet], dev=True, env={})
    with wsgi_server(app.wsgi()) as served:
        body = call_body()
        status, headers, _ = post(served + "/api/inngest", body, None)
    assert status == 206 and "x-inngest-signature" not in headers


# ---------------------------------------------------------------------- events


def test_send_posts_to_the_event_api_and_returns_ids() -> None:
    stand_in = Recorder(lambda m, p, h, b: (200, {"ids": ["e1", "e2"], "status": 200}))
    with wsgi_server(stand_in) as api:
        app = make_app(base_url=api, event_key="my-key")
        ids = app.send([{"name": "a/b", "data": {"x": 1}}, {"name": "a/c"}])
        assert ids == ["e1", "e2"]
        [(method, path, _, body)] = stand_in.seen
        assert (method, path) == ("POST", "/e/my-key")
        assert json.loads(body) == [{"name": "a/b", "data": {"x": 1}},
                                    {"name": "a/c", "data": {}}]
        stand_in.answer = lambda m, p, h, b: (401, {"error": "event key not found"})
        with pytest.raises(SendError, match="answered 401: .*event key not found"):
            app.send({"name": "a/b"})
    with pytest.raises(ConfigurationError, match="no event key"):
        make_app().send({"name": "a/b"})
    with pytest.raises(ValueError, match="name"):
        make_app(event_key="k").send({"data": {}})
