"""The production server's settings: ``hypercorn --config file:hypercorn_config.py wsgi:idp``.

Why Hypercorn and not gunicorn's sync/gthread workers (issue #8): a client that sends its body
slowly held a worker thread until gunicorn's timeout killed it, so a handful of such clients
starved the app. Hypercorn reads each request on its asyncio loop and, for a WSGI app, buffers
the whole body (up to ``wsgi_max_body_size``) before the app's thread is taken: a slow client
costs a socket and its bytes, never a thread. ``make run``, the tests' live servers and the
benchmarks all start it with this file.

Every value can be overridden on the command line (``--workers 4 --bind 0.0.0.0:8000``).
"""

from __future__ import annotations

import logging
import os

from common.logs import configure_logging
from common.settings import load_settings

configure_logging()  # the server's own records go through the same escaping, one per line

bind = [os.environ.get("CARDCOOP_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# A connection silent this long is closed (a stalled body never reaches the app anyway).
read_timeout = 30
keep_alive_timeout = 5
graceful_timeout = 10
backlog = 2048

# The app answers 413 for bodies over CARDCOOP_MAX_BODY_BYTES when the length is declared; the
# server stops buffering a little above that (its answer is a bare 400) so that no request can
# make it hold more than that in memory.
wsgi_max_body_size = load_settings().max_body_bytes + 64 * 1024

# The app writes its own access line (common/logs.py: method, path, status, time, control
# characters escaped, no query string): the server's would repeat it without the escaping.
accesslog = None
errorlog = logging.getLogger("hypercorn.error")  # propagates to the root handler above
include_server_header = False
