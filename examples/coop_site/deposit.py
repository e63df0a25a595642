"""The demo cooperative's share deposit (issue #12): what a cooperative's own payment flow does
when the portal's "make a contribution" sends a member here, signed in through idp.

``GET /deposit`` asks for the member's sign-in at this site first (OpenID Connect through idp;
single sign-on answers at once), then shows the amount to confirm; ``POST /deposit`` settles it
into the sandbox ledger (common/voskhod/sandbox_ledger.py, the file the portal reads), as MONO
would on chain with ``o.wal.depcpl``. A real cooperative takes the payment first and credits
its own signed-in member; the demo takes the account named in the link on trust.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, redirect, render_template, request, session

from cardcoop.protocol.accounts import is_valid_antelope_name
from common.voskhod.sandbox_ledger import SandboxLedger

from .links import return_to

MAX_AMOUNT = Decimal("10000000")


def install(app: Flask, ledger_file: str | None, coopname: str) -> None:
    if not ledger_file:
        return
    ledger = SandboxLedger(Path(ledger_file), [coopname])

    @app.get("/deposit")
    def deposit_form() -> Any:
        wanted = _wanted(request.args)
        if wanted is None:
            return render_template("error.html", code="invalid_request",
                                   text="Неверная ссылка на взнос. The deposit link is wrong."), 400
        if not session.get("signed_in_sub"):
            # Sign in here first (idp's SSO answers at once), then come back to this page.
            return redirect("/login?" + urlencode({"target_link_uri": request.url}))
        session["deposit_csrf"] = token = secrets.token_urlsafe(16)
        return render_template("deposit.html", username=wanted[0], amount=wanted[1],
                               return_to=return_to(request.args), csrf=token), 200

    @app.post("/deposit")
    def deposit_settle() -> Any:
        wanted = _wanted(request.form)
        token = session.pop("deposit_csrf", None)
        if not session.get("signed_in_sub") or not token or \
                not secrets.compare_digest(token, request.form.get("csrf", "")):
            return render_template("error.html", code="state_mismatch",
                                   text="Форма устарела. The form is out of date."), 400
        if wanted is None:
            return render_template("error.html", code="invalid_request",
                                   text="Неверная сумма. The amount is wrong."), 400
        balance = ledger.deposit(coopname, wanted[0], wanted[1])
        return render_template("deposited.html", amount=wanted[1], balance=balance,
                               return_to=return_to(request.form)), 200


def _wanted(values: Any) -> tuple[str, Decimal] | None:
    username = values.get("username", "")
    try:
        amount = Decimal(values.get("amount", ""))
    except InvalidOperation:
        return None
    if not is_valid_antelope_name(username) or len(username) > 12 or not amount.is_finite() \
            or amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        return None
    return username, amount.quantize(Decimal("0.0001"))
