"""Every request runs in one roomy stack chunk, so CPython 3.11 does not map and unmap memory thousands of times a page.

CPython keeps the frames of Python calls in 16 KiB chunks; a call that does not fit in the current chunk maps a new
one, and returning from it unmaps it again (CPython issue gh-142183, "Calls across stack chunks perform badly", fixed
in 3.13 and 3.14 by keeping one spare chunk; not in 3.11, which Tollgate runs on). Rendering a page is deep and
repetitive (a template node per table cell), so when a chunk's edge happens to fall at a depth the rendering keeps
crossing, every crossing costs an mmap and a munmap, and the same page's time depends on how many frames happen to
be beneath it (how many middleware layers, say), not on what they do: measured by `bench/call_stack.py`, figures in
README ("A page's time and the depth of the stack beneath it").

The fix here: the middleware calls the rest of the request through a function whose frame asks for a 512 KiB
evaluation stack it never uses. CPython then maps one 1 MiB chunk for that frame, and every frame of the request
above it fits in the half left over: one mmap and one munmap per request, and only the pages actually used are
touched. Costs nothing on a Python that has the upstream fix.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

# 65,536 evaluation-stack slots of 8 bytes: 512 KiB that only reserve room, never written.
ROOM_SLOTS = 1 << 16


def _call(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


_roomy_call = types.FunctionType(_call.__code__.replace(co_stacksize=ROOM_SLOTS), _call.__globals__, "roomy_call")


def roomy_call(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, with every frame it calls placed in one chunk of its own (see the module's docstring)."""
    return _roomy_call(function, *args)


class RoomyStackMiddleware:
    """First in MIDDLEWARE: the rest of the request (middleware, view, template) runs in one roomy stack chunk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return roomy_call(self.get_response, request)
