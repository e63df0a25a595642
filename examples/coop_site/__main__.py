"""``python -m examples.coop_site``: the demo cooperative on 127.0.0.1:8003 (``COOP_SITE_PORT``).

Development server only; in production run ``examples.coop_site.wsgi:app`` under gunicorn.
"""

from __future__ import annotations

import logging
import os
import re

from . import create_app

_QUERY = re.compile(r"\?\S*")


class _NoQueryStrings(logging.Filter):
    """The request log must not keep tickets and states (``/callback?code=...&state=...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY.sub("?…", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("werkzeug").addFilter(_NoQueryStrings())
    port = int(os.environ.get("COOP_SITE_PORT", "8003"))
    create_app().run(host="127.0.0.1", port=port, debug=False, use_reloader=False)


if __name__ == "__main__":
    main()
