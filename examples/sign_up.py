"""The seed's sign-up flow (Inngest's Elixir SDK docs), as an inngest_core function.

Run it locally, jumping the clock through the sleep and the wait's timeout:

    inngest-core run examples/sign_up.py --fast-forward \
        --event '{"name": "auth/signup", "data": {"user": {"id": 7, "email": "ann@example.com"}}}'
"""

from __future__ import annotations

from typing import Any

from inngest_core.sdk import Context, Step, Trigger, function


def create_user(data: dict[str, Any]) -> dict[str, Any]:
    return {"id": data["user"]["id"], "email": data["user"]["email"], "plan": "free"}


@function(id="sign-up-flow", name="Sign up flow", trigger=Trigger(event="auth/signup"))
def sign_up(ctx: Context, step: Step) -> dict[str, Any]:
    # Non-deterministic: runs on every execution, never memoized.
    seen_at = step.run("note the attempt", lambda: ctx.attempt)
    # Deterministic: runs once; later executions replay its result.
    user = step.step("create user", lambda: create_user(ctx.event["data"]))
    step.sleep("cool down", "1h30m")
    confirmed = step.wait_for_event("confirm", event="auth/signup.email.confirmed",
                                    timeout="1d", match="data.user.id")
    if confirmed is None:
        step.step("send reminder", lambda: {"sent_to": user["email"]})
        return {"user": user, "confirmed": False, "attempt": seen_at}
    step.sleep_until("wait for the morning", "2023-07-18T07:31:00Z")
    welcome = step.step("send welcome", lambda: {"sent_to": user["email"]})
    return {"user": user, "confirmed": True, "welcome": welcome, "attempt": seen_at}
