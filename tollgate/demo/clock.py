"""The demo's clock: the demo company's history is written as it would have happened, each step on its own day.

The services stamp what they write with `django.utils.timezone.now()`: audit entries, intake rounds, report
submissions, verdicts, created and updated times. They take no date, and should not: in the app a step happens when
it is made. So the demo's builder turns the clock instead. Inside `demo_clock(moment)`, `timezone.now()` (and with
it `timezone.localdate()`) answers `moment`, a millisecond later at each call so the writes of one step keep their
order, and so do the timestamp fields whose default is `timezone.now` (the audit entry's, a verdict's, a
notification's). Only the demo's build uses it, in `load_demo`'s process or the test session's one build of the demo;
nothing else runs in that process meanwhile.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.utils import timezone

_real_now: Callable[[], datetime] = timezone.now


@lru_cache(maxsize=1)
def _fields_defaulting_to_now() -> tuple[Any, ...]:
    return tuple(f for model in apps.get_models() for f in model._meta.concrete_fields if f.default is _real_now)


def _set_default(field: Any, default: Callable[[], datetime]) -> None:
    field.default = default
    field.__dict__.pop("_get_default", None)  # Django caches the default's callable on the field


@contextmanager
def demo_clock(moment: datetime) -> Iterator[None]:
    """Within, the time is `moment` (aware), moving on by a millisecond at each reading. Not nestable."""
    if timezone.now is not _real_now:
        raise RuntimeError("demo_clock is already set")
    ticks = itertools.count()

    def now() -> datetime:
        return moment + timedelta(milliseconds=next(ticks))

    fields = _fields_defaulting_to_now()
    timezone.now = now
    for field in fields:
        _set_default(field, now)
    try:
        yield
    finally:
        timezone.now = _real_now
        for field in fields:
            _set_default(field, _real_now)
