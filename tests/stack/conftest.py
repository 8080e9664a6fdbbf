"""The production stack for the tests of this folder: built and started once per module (about a minute and a half),
ended and dropped after it. tests/stack/harness.py says what it runs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend

from tests.demo_company import using_connection
from tests.stack.harness import ProductionStack


def server_url() -> str:
    """The PostgreSQL server the tests use, as a URL (the stack makes a database of its own there)."""
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    return (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[ProductionStack]:
    name = f"{connections[DEFAULT_DB_ALIAS].settings_dict['NAME']}_prodstack"
    redis_url = os.environ.get("REDIS_URL") or os.environ["CELERY_BROKER_URL"]
    production = ProductionStack(server_url=server_url(), redis_url=redis_url, database_name=name,
                                 workdir=tmp_path_factory.mktemp("stack"))
    try:
        production.start()
        yield production
    finally:
        production.stop()


@pytest.fixture
def stack_db(stack, django_db_blocker) -> Iterator[None]:
    """The test's ORM reads (and writes, committed at once) the stack's database, as its processes see it."""
    settings_dict = {**connections[DEFAULT_DB_ALIAS].settings_dict, "NAME": stack.database_name}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    try:
        with django_db_blocker.unblock(), using_connection(wrapper):
            yield
    finally:
        wrapper.close()
