"""One PynamoDB connection per container for transactions.

A new ``Connection()`` builds a new botocore client, which costs about 100 ms of loading JSON
service models: created per request it would dominate the request's time.
"""

from __future__ import annotations

from functools import cache

from pynamodb.connection import Connection


@cache
def connection() -> Connection:
    return Connection()
