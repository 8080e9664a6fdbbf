"""django-tables2's reading of which arguments a cell's render_/value_ method takes, worked out once per method.

It asks on every cell (inspect.signature, most of a CSV export's time: 18,000 times for the demo's 3,000 audit
entries). A bound method's signature is its function's without the first parameter, whatever it is bound to, so the
answer is kept per function (weakly); anything else is asked as before. Installed at start-up (PortfolioConfig.ready).
"""

from __future__ import annotations

from collections.abc import Callable
from weakref import WeakKeyDictionary

from django_tables2 import utils as tables_utils

_cell_signature = tables_utils.signature
_method_signatures: WeakKeyDictionary[Callable, tuple[tuple[str, ...], str | None]] = WeakKeyDictionary()


def cell_method_signature(fn: Callable) -> tuple[tuple[str, ...], str | None]:
    """What django_tables2.utils.signature answers for `fn`, read once per method."""
    function = getattr(fn, "__func__", None)
    if function is None:
        return _cell_signature(fn)
    found = _method_signatures.get(function)
    if found is None:
        found = _method_signatures[function] = _cell_signature(fn)
    return found


def install_cell_signatures() -> None:
    """django-tables2's call_with_appropriate reads its module's `signature` on each call."""
    tables_utils.signature = cell_method_signature
