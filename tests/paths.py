"""Where test data lives, so a test file can move without its paths breaking."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
REPO = TESTS.parent
SHARED_DATA = REPO / ".." / "shared" / "data"
