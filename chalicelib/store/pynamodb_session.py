"""One botocore session for every PynamoDB connection of the process.

PynamoDB gives each model class its own Connection, and each Connection a botocore session of its own, so
the first request a container serves built one session per table it touched, each loading and parsing
DynamoDB's service model again: about 100 ms per table on a cold start (a check-in touches three:
docs/performance.md). A client made from a session that has already loaded the model costs about 3 ms.
Creating clients is not thread-safe in botocore (the reason PynamoDB kept sessions per thread), so the
shared session creates them one at a time; a client, once made, is safe to share.

PynamoDB 6.1 (pinned in requirements.txt) gets each Connection's session from `get_session` as
pynamodb/connection/base.py imported it, which is what is replaced here; tests/unit/test_pynamodb_patches.py
fails if a PynamoDB change makes the connections stop using it.
"""
from __future__ import annotations

import threading

import botocore.session
from pynamodb.connection import base


class _SharedSession(botocore.session.Session):
    _creating = threading.Lock()

    def create_client(self, *args, **kwargs):
        with self._creating:
            return super().create_client(*args, **kwargs)


_session: _SharedSession | None = None
_making = threading.Lock()


def shared_session() -> botocore.session.Session:
    global _session
    with _making:
        if _session is None:
            _session = _SharedSession()
    return _session


base.get_session = shared_session
