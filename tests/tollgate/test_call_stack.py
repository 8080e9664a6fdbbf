"""The roomy stack chunk: calls run through it unchanged, and a loop deep in it never maps a chunk per call."""

from __future__ import annotations

import sys

import pytest
from django.conf import settings

from tollgate.call_stack import roomy_call

resource = pytest.importorskip("resource")  # page-fault counts: POSIX only


def test_a_call_through_it_is_the_call_itself():
    assert roomy_call(divmod, 17, 5) == (3, 2)
    with pytest.raises(ZeroDivisionError):
        roomy_call(divmod, 1, 0)


def test_it_comes_before_every_other_middleware():
    assert settings.MIDDLEWARE[0] == "tollgate.call_stack.RoomyStackMiddleware"


def leaf() -> None:
    return None


def faults_of_a_loop_at_depth(depth: int, calls: int = 400) -> int:
    """Minor page faults of `calls` calls of a leaf function made `depth` frames down."""
    if depth:
        return faults_of_a_loop_at_depth(depth - 1, calls)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        leaf()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def worst_depth(run) -> int:
    """The most page faults of the loop over 400 depths: one of them puts the leaf across a 16 KiB chunk's edge."""
    return max(run(faults_of_a_loop_at_depth, depth) for depth in range(400))


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="CPython 3.13 and later keep a spare chunk (gh-142183)")
def test_a_loop_across_a_chunk_edge_maps_a_chunk_per_call_unless_run_in_the_roomy_chunk():
    assert worst_depth(lambda f, depth: f(depth)) >= 300  # without: about one fault per call at the worst depth
    assert worst_depth(roomy_call) < 40
