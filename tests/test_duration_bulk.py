"""The Python duration twin's bulk path (long inputs, read a chunk of groups at a time) gives
exactly what its plain loop gives: the same value, or the same error at the same position."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st

from inngest_core import _duration_py as py
from inngest_core.errors import DurationError

GROUPS = ["1h", "0s", "15m", "2.5h", "999999h", "1.", "9223372036854775807ns", "1us", "3µs",
          "1x", "1", "..", " ", "ms", "-1s", "1,5s"]


@contextmanager
def path(threshold: int, chunk: int) -> Iterator[None]:
    saved = py._BULK_THRESHOLD, py._BULK_CHUNK
    py._BULK_THRESHOLD, py._BULK_CHUNK = threshold, chunk
    try:
        yield
    finally:
        py._BULK_THRESHOLD, py._BULK_CHUNK = saved


def outcome(text: str) -> tuple[str, object, object]:
    try:
        return ("value", py.parse_duration_ns(text), None)
    except DurationError as exc:
        return ("error", str(exc), exc.position)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["", "-", "+"]),
       st.lists(st.sampled_from(GROUPS), min_size=20, max_size=200).map("".join),
       st.sampled_from([1, 7, 64]))
def test_bulk_path_reads_as_the_loop(sign: str, body: str, chunk: int) -> None:
    text = sign + body
    with path(threshold=10**9, chunk=chunk):
        loop = outcome(text)
    with path(threshold=0, chunk=chunk):
        bulk = outcome(text)
    assert bulk == loop


def test_a_sum_past_the_range_in_a_later_chunk() -> None:
    # 2,562,047 hours fit in int64 nanoseconds; the next "1h" is out of range.
    text = "1h" * 2_562_047 + "1h" + "1h" * 1_000
    try:
        py.parse_duration_ns(text)
    except DurationError as exc:
        assert exc.position == 2 * 2_562_047
        assert str(exc).startswith("duration out of range (a signed 64-bit count of nanoseconds) "
                                   "at position 5124094 in duration")
    else:
        raise AssertionError("no error")
