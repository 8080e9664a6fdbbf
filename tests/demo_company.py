"""The demo company, built once per test session and lent to each demo test.

Building Northwind Mutual takes most of a minute on a small machine, and a dozen tests look at it. So the first test
that asks for it (the `demo` fixture in tests/conftest.py) builds it, through `load_demo` like a user would, into a
database of its own: a copy of the freshly migrated test database (PostgreSQL: CREATE DATABASE ... TEMPLATE;
SQLite: the backup API into a second in-memory database). Each demo test then runs against that database inside a
transaction that is rolled back afterwards, exactly like pytest-django's `db`, so a test that changes the demo leaves
it intact for the next one. The other tests never see it: they keep the ordinary, empty test database.

Only the demo's public entry point (the `load_demo` command) is used, so the builder's internals may move freely.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from django.test.utils import override_settings

# The hasher of the test settings (tests/conftest.py): the demo's passwords are checked by the tests.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass(frozen=True)
class DemoCompany:
    """What a demo test gets: the output `load_demo` printed when it built the company."""

    output: str


@contextmanager
def using_connection(wrapper: BaseDatabaseWrapper, alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Route the ORM of this thread (and so the test client's requests) to `wrapper` for a while."""
    original = connections[alias]
    connections[alias] = wrapper
    try:
        yield
    finally:
        connections[alias] = original


class DemoDatabase:
    """A copy of the empty test database, holding the demo company for the whole session."""

    def __init__(self, alias: str = DEFAULT_DB_ALIAS) -> None:
        self.alias = alias
        self.template = connections[alias]
        self.vendor = self.template.vendor
        self._keeper: sqlite3.Connection | None = None  # keeps an in-memory SQLite copy alive
        if self.vendor == "sqlite":
            name = "file:memorydb_tollgate_demo?mode=memory&cache=shared"
        elif self.vendor == "postgresql":
            name = f"{self.template.settings_dict['NAME']}_demo"
        else:
            raise NotImplementedError(f"the demo database supports SQLite and PostgreSQL, not {self.vendor}")
        self.wrapper: BaseDatabaseWrapper = load_backend(self.template.settings_dict["ENGINE"]).DatabaseWrapper(
            {**self.template.settings_dict, "NAME": name}, alias
        )

    @property
    def name(self) -> str:
        return self.wrapper.settings_dict["NAME"]

    def create(self) -> None:
        """Copy the migrated, still empty test database (its seeded roles, rubric and policies included)."""
        if self.vendor == "sqlite":
            self._keeper = sqlite3.connect(self.name, uri=True)
            self.template.ensure_connection()
            self.template.connection.backup(self._keeper)
            return
        # PostgreSQL copies a template only while nobody else is connected to it: close ours, end stragglers
        # (a finished live server's or worker's session), then copy.
        connections.close_all()
        template_name = self.template.settings_dict["NAME"]
        with self.template.creation._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [template_name],
            )
            cursor.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template_name}"')

    def load_demo(self) -> DemoCompany:
        """Build the demo company with `load_demo`, committed, as the demo tests used to inside their transaction."""
        from tollgate.celery import app

        out = StringIO()
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        try:
            with using_connection(self.wrapper, self.alias), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
                with transaction.atomic(using=self.alias):
                    call_command("load_demo", stdout=out)
                    # Inside a test's transaction, after-commit hooks (enqueued follow-up tasks) never ran: nor here.
                    self.wrapper.run_on_commit.clear()
        finally:
            app.conf.task_always_eager = eager
        return DemoCompany(output=out.getvalue())

    @contextmanager
    def lent(self) -> Iterator[None]:
        """The demo database for one test, in a transaction rolled back at the end (as pytest-django's `db`)."""
        with using_connection(self.wrapper, self.alias):
            atomic: Any = transaction.atomic(using=self.alias)
            atomic._from_testcase = True  # durable blocks inside behave as in a Django TestCase
            atomic.__enter__()
            try:
                yield
            finally:
                transaction.set_rollback(True, using=self.alias)
                atomic.__exit__(None, None, None)

    def destroy(self) -> None:
        if self.vendor == "sqlite":
            if self.wrapper.connection is not None:
                self.wrapper.connection.close()  # Django ignores close() on an in-memory database
            if self._keeper is not None:
                self._keeper.close()
            return
        self.wrapper.close()
        with self.template.creation._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
