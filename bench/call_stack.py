"""Benchmark: how a page's time depends on the depth of the stack beneath it, with and without the roomy stack chunk.

    .venv/bin/python bench/call_stack.py              # BENCH_REPEAT requests per variant (25), BENCH_PATHS to change

On a throw-away SQLite database loaded with the demo company (`load_demo`, about a minute), each page is requested
as the executive through Django's test client with the whole middleware stack, plus 0 to 10 pass-through middleware
layers (each only calls the next) that put the view a few frames deeper; once with tollgate.call_stack's middleware
in MIDDLEWARE (as shipped) and once without it. All variants are requested in turn, BENCH_REPEAT rounds, so each sees
the same machine; the fastest and the median of each are printed, and for each setting the range over the depths
(the spread: the slowest fastest time over the fastest one; the fastest time is the one least moved by whatever else
the machine is doing). Without the roomy chunk a page's time depends on where CPython 3.11's 16 KiB stack
chunk edges fall in its rendering (tollgate/call_stack.py); with it, it should not.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_setup import django_on_throwaway_sqlite  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "25"))
PATHS = os.environ.get("BENCH_PATHS", "/portfolio/initiatives/,/api/initiatives/").split(",")
DEPTHS = (0, 1, 2, 3, 4, 6, 8, 10)
ROOMY = "tollgate.call_stack.RoomyStackMiddleware"
PASS = "bench.call_stack.PassThrough"


class PassThrough:
    """A middleware layer that does nothing but add frames beneath the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


def main() -> None:
    os.environ["DEBUG"] = "0"
    django_on_throwaway_sqlite("tollgate-call-stack-")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    started = time.perf_counter()
    call_command("migrate", "--noinput", "-v", "0")
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    print(f"demo company loaded in {time.perf_counter() - started:.0f} s; {REPEAT} rounds; Python "
          f"{sys.version.split()[0]}", flush=True)
    executive = get_user_model().objects.get(username="executive")
    shipped = list(settings.MIDDLEWARE)
    assert shipped[0] == ROOMY, "the roomy chunk's middleware is no longer first"
    for path in PATHS:
        clients = {}
        for roomy in (True, False):
            for depth in DEPTHS:
                middleware = [m for m in shipped if roomy or m != ROOMY]
                middleware[-1:-1] = [PASS] * depth
                with override_settings(MIDDLEWARE=middleware, ALLOWED_HOSTS=["testserver"]):
                    client = Client()
                    client.force_login(executive)
                    for _ in range(2):  # warm-up: the middleware chain is built on the first request
                        assert client.get(path).status_code == 200, path
                clients[roomy, depth] = client
        times: dict[tuple[bool, int], list[float]] = {key: [] for key in clients}
        for _ in range(REPEAT):
            for key, client in clients.items():
                begun = time.perf_counter()
                client.get(path)
                times[key].append((time.perf_counter() - begun) * 1000)
        for roomy in (True, False):
            fastest = [min(times[roomy, depth]) for depth in DEPTHS]
            medians = [statistics.median(times[roomy, depth]) for depth in DEPTHS]
            row = ", ".join(f"+{depth} {low:.1f}/{middle:.1f}"
                            for depth, low, middle in zip(DEPTHS, fastest, medians, strict=True))
            print(f"{path} {'with' if roomy else 'without'} the roomy chunk (fastest/median ms by extra layers): "
                  f"{row}; fastest {min(fastest):.1f} to {max(fastest):.1f} ms (spread "
                  f"{max(fastest) / min(fastest):.2f}), medians {min(medians):.1f} to {max(medians):.1f} ms",
                  flush=True)


if __name__ == "__main__":
    main()
