"""connection_lost: only a dying connection is worth a retry or a 503; errors the data or a timeout caused are not."""

from __future__ import annotations

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from tests.workers import database_url
from tollgate.database import connection_lost


def failure(sql: str, *, terminate_first: bool = False) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        if terminate_first:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
            with psycopg.connect(database_url().replace("postgres://", "postgresql://", 1), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
        cursor.execute(sql)
    return caught.value


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_terminated_backend_is_a_lost_connection_and_a_data_error_or_a_timeout_is_not():
    assert connection_lost(failure("SELECT 1", terminate_first=True))
    assert not connection_lost(failure("SELECT 1 / 0"))
    assert not connection_lost(failure("SET LOCAL statement_timeout = '10ms'; SELECT pg_sleep(1)"))
    assert not connection_lost(ValueError("not a database error"))
    assert not connection_lost(None)
