"""How English words about a name read, everywhere: one place so a message, a page title and an import report
write a possessive the same way ("Digital Channels' cost centers", never "Digital Channels's").

Plain Python that loads no ORM; the template filter calling it (tollgate/ui/format_filters.py) is built into every
template.
"""

from __future__ import annotations

from typing import Any


def possessive(name: Any) -> str:
    """"Finance's", "Digital Channels'" (a name ending in s takes the apostrophe alone, the house style for
    department, model and people names alike); an empty name stays empty rather than reading "'s"."""
    text = str(name).rstrip()
    if not text:
        return ""
    return f"{text}'" if text[-1] in "sS" else f"{text}'s"
