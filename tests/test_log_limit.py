"""RepeatLimit: the first record of a cause passes, repeats within the interval are held
back and counted, the first one after it says how many were held back."""

from __future__ import annotations

import logging

from exporter.log_limit import RepeatLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(message: str, *args: object, name: str = "aiohttp.server") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)


def test_repeats_are_held_back_and_counted_until_the_interval_ends():
    clock = Clock()
    limit = RepeatLimit(interval=60, clock=clock)
    assert limit.filter(record("accept failed: %s", "EMFILE"))
    held = [limit.filter(record("accept failed: %s", "EMFILE")) for _ in range(1000)]
    assert not any(held)
    assert limit.filter(record("another cause"))
    clock.now = 61
    summary = record("accept failed: %s", "EMFILE")
    assert limit.filter(summary)
    assert (
        summary.getMessage()
        == "accept failed: EMFILE [and 1000 more like this since the last line]"
    )
    assert not limit.filter(record("accept failed: %s", "EMFILE"))
