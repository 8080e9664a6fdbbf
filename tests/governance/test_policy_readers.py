"""No policy on the Policies page is without a reader: every declared key is read somewhere in the code."""

from __future__ import annotations

import re

import pytest

from governance.policies import DEFINITIONS
from tests.paths import REPO

CODE = [path for app in ("portfolio", "governance", "reviews", "tollgate") for path in (REPO / app).rglob("*.py")
        if "migrations" not in path.parts and path != REPO / "governance" / "policies.py"]


@pytest.mark.parametrize("key", [d.key for d in DEFINITIONS])
def test_every_policy_is_read(key):
    quoted = re.compile(rf"""["']{re.escape(key)}["']""")
    readers = [path.relative_to(REPO) for path in CODE if quoted.search(path.read_text(encoding="utf-8"))]
    assert readers, f"No code reads the policy {key}: remove it or read it."
