"""The production commands as README's Production section documents them: one reader for the tests that check the
container files run them (tests/tollgate/test_deployment.py) and the stack that starts them (tests/stack/)."""

from __future__ import annotations

import re
import shlex

from tests.paths import REPO


def documented_commands() -> list[str]:
    """The commands of the first shell block of README's Production section, without their comments."""
    readme = (REPO / "README.md").read_text()
    production = readme[readme.index("\n## Production\n"):]
    block = re.search(r"```sh\n(.*?)```", production, re.S)
    assert block, "README's Production section has no shell block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines()
            if line.strip() and not line.startswith((" ", "export"))]


def documented_command(*prefix: str) -> list[str]:
    """The one documented command starting with `prefix` (e.g. "celery", "-A", "tollgate", "worker"), as arguments."""
    found = [shlex.split(command) for command in documented_commands()]
    found = [argv for argv in found if argv[:len(prefix)] == list(prefix)]
    assert len(found) == 1, f"README's Production section documents {len(found)} commands starting {prefix}"
    return found[0]
