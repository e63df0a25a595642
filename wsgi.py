"""WSGI entry points ``idp``, ``portal`` and ``business``; each runs as its own process and origin.

    granian --interface wsgi --factory wsgi:create_idp   (production behind nginx: deploy/front.py)
    flask --app wsgi:idp run --port 8000                 (development server)

Each app is built on first access, so a process builds only the app it serves. A server that
looks names up in the module's globals (granian) does not see these lazy names: it calls the
factory instead.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from business import create_app as create_business
from idp import create_app as create_idp
from portal import create_app as create_portal

FACTORIES: dict[str, Callable[[], Flask]] = {
    "idp": create_idp, "portal": create_portal, "business": create_business,
}


def __getattr__(name: str) -> Flask:
    if name not in FACTORIES:
        raise AttributeError(name)
    app = FACTORIES[name]()
    globals()[name] = app
    return app
