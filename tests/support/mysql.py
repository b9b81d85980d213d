"""A fresh MariaDB/MySQL database per test on the local server (127.0.0.1:3306).

With ``INVIGILATOR_TEST_SERVICES=required`` (set by ``make test``) a server that does not
answer is an error; otherwise the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pymysql
import pytest

from tests.support.services import unavailable

MYSQL_HOST = os.environ.get("INVIGILATOR_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("INVIGILATOR_TEST_MYSQL_PORT", "3306"))
MYSQL_USER = os.environ.get("INVIGILATOR_TEST_MYSQL_USER", "root")
MYSQL_PASSWORD = os.environ.get("INVIGILATOR_TEST_MYSQL_PASSWORD", "")


def _admin() -> pymysql.connections.Connection:  # type: ignore[type-arg]
    return pymysql.connect(
        host=MYSQL_HOST,
        port=MYSQL_PORT,
        user=MYSQL_USER,
        password=MYSQL_PASSWORD,
        connect_timeout=3,
        autocommit=True,
    )


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """``mysql+aiomysql://…`` URL of an empty database of its own, dropped after the test."""
    try:
        admin = _admin()
    except pymysql.err.OperationalError as error:
        unavailable(f"MariaDB at {MYSQL_HOST}:{MYSQL_PORT}: {error}")
    name = f"invigilator_test_{secrets.token_hex(4)}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    auth = MYSQL_USER + (f":{MYSQL_PASSWORD}" if MYSQL_PASSWORD else "")
    try:
        yield f"mysql+aiomysql://{auth}@{MYSQL_HOST}:{MYSQL_PORT}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
