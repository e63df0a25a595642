"""``SandboxRegistry``: the registry port without a chain, for ``make run`` and tests.

A ``Sandbox`` holds a few cooperatives, each with a K1 key pair made when the sandbox is made
(``Sandbox.generate()``; no key is ever written down or committed), and the memberships.

Membership rule:

1. a membership recorded with ``add_member(coopname, username, status=...)`` is what counts
   (``status="accepted"`` by default; "blocked" and other values make a non-member);
2. otherwise, with ``open_membership=True`` every valid account name is an accepted member of
   every sandbox cooperative (``member_since`` unknown): the embedded default uses this so a
   newcomer can try every flow without registering anywhere;
3. otherwise there is no membership.

An unknown cooperative is never joined, open membership or not. The private halves of the keys
are exposed (``private_key(coopname)``) for the demo cooperative site that runs next to the
sandbox in development: it decrypts the shares the way a real cooperative would.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from cardcoop.protocol.k1 import K1PrivateKey
from common.voskhod.port import (
    STATUS_ACCEPTED,
    Cooperative,
    Endorsement,
    Membership,
    UnknownCooperative,
    is_account_name,
)

# (coopname, announce): valid account names (a-z1-5, at most 12) with Russian public names.
DEMO_COOPERATIVES: Final[tuple[tuple[str, str], ...]] = (
    ("voskhod", "ПК ВОСХОД"),
    ("zelenyisad", "ПК Зелёный сад"),
    ("narodnyhleb", "ПК Народный хлеб"),
)


@dataclass(frozen=True)
class _Entry:
    cooperative: Cooperative
    private_key: K1PrivateKey = field(repr=False)


class Sandbox:
    """The sandbox's state: cooperatives with their key pairs, and memberships. Thread-safe."""

    def __init__(self, *, open_membership: bool = False) -> None:
        self.open_membership = open_membership
        self._entries: dict[str, _Entry] = {}
        self._members: dict[tuple[str, str], Membership] = {}
        self._endorsements: dict[str, Endorsement] = {}
        self._lock = threading.Lock()

    @classmethod
    def generate(cls, cooperatives: Iterable[tuple[str, str]] = DEMO_COOPERATIVES, *,
                 open_membership: bool = False) -> Sandbox:
        """A sandbox with ``cooperatives`` (coopname, announce), each with a fresh key pair."""
        sandbox = cls(open_membership=open_membership)
        for coopname, announce in cooperatives:
            sandbox.add_cooperative(coopname, announce)
        return sandbox

    @classmethod
    def load_or_create(cls, path: Path, cooperatives: Iterable[tuple[str, str]] =
                       DEMO_COOPERATIVES, *, open_membership: bool = False) -> Sandbox:
        """The sandbox kept in ``path`` (made on first use, 0600): every process of a
        development setup — idp's workers, the CLI, the demo cooperative site — then sees the
        same key pairs. The file holds private keys of demo cooperatives only."""
        if not path.exists():
            fresh = cls.generate(cooperatives, open_membership=open_membership)
            document = {"cooperatives": [
                {"coopname": c.coopname, "announce": c.announce,
                 "private_key": fresh.private_key(c.coopname).to_string()}
                for c in fresh.cooperatives()]}
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: use theirs
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(document, out, ensure_ascii=False, indent=2)
        sandbox = cls(open_membership=open_membership)
        for entry in json.loads(path.read_text(encoding="utf-8"))["cooperatives"]:
            sandbox.add_cooperative(entry["coopname"], entry["announce"],
                                    K1PrivateKey.from_string(entry["private_key"]))
        return sandbox

    def __repr__(self) -> str:
        return (f"Sandbox(cooperatives={list(self._entries)!r}, "
                f"open_membership={self.open_membership!r})")

    def add_cooperative(self, coopname: str, announce: str,
                        private_key: K1PrivateKey | None = None) -> Cooperative:
        """Add (or replace) a cooperative; a fresh key pair unless one is given."""
        key = private_key or K1PrivateKey.generate()
        cooperative = Cooperative(coopname, announce, key.public_key.to_string())
        with self._lock:
            self._entries[coopname] = _Entry(cooperative, key)
        return cooperative

    def cooperative(self, coopname: str) -> Cooperative:
        return self._entry(coopname).cooperative

    def cooperatives(self) -> list[Cooperative]:
        with self._lock:
            return [entry.cooperative for entry in self._entries.values()]

    def private_key(self, coopname: str) -> K1PrivateKey:
        """The cooperative's private key, for the demo cooperative site only."""
        return self._entry(coopname).private_key

    def add_member(self, coopname: str, username: str, *, status: str = STATUS_ACCEPTED,
                   member_since: datetime | None = None) -> Membership:
        """Record a membership (replacing an earlier one); ``status`` other than "accepted"
        records a non-member, e.g. "blocked"."""
        self._entry(coopname)
        if not is_account_name(username):
            raise ValueError("username is not a valid Antelope account name")
        if not status:
            raise ValueError("status is empty")
        membership = Membership.of(coopname, username, status, member_since)
        with self._lock:
            self._members[coopname, username] = membership
        return membership

    def remove_member(self, coopname: str, username: str) -> None:
        with self._lock:
            self._members.pop((coopname, username), None)

    def membership(self, coopname: str, username: str) -> Membership:
        if not (is_account_name(coopname) and is_account_name(username)):
            return Membership.absent(str(coopname), str(username))
        with self._lock:
            known = coopname in self._entries
            recorded = self._members.get((coopname, username))
        if recorded is not None:
            return recorded
        if known and self.open_membership:
            return Membership.of(coopname, username, STATUS_ACCEPTED)
        return Membership.absent(coopname, username)

    def endorse(self, endorsement: Endorsement) -> Endorsement:
        """Record (or replace) ``ano::endorsements``' row for ``endorsement.subject``."""
        with self._lock:
            self._endorsements[endorsement.subject] = endorsement
        return endorsement

    def endorsement(self, subject: str) -> Endorsement | None:
        with self._lock:
            return self._endorsements.get(subject)

    def _entry(self, coopname: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(coopname)
        if entry is None:
            raise UnknownCooperative(coopname)
        return entry


class SandboxRegistry:
    """The registry port over a ``Sandbox``. ``sandbox`` is the live state: cooperatives and
    members added to it show up here at once."""

    def __init__(self, seed: Sandbox) -> None:
        self.sandbox = seed

    @classmethod
    def generate(cls, cooperatives: Iterable[tuple[str, str]] = DEMO_COOPERATIVES, *,
                 open_membership: bool = False) -> SandboxRegistry:
        """A registry over ``Sandbox.generate(...)``: fresh key pairs on every call."""
        return cls(Sandbox.generate(cooperatives, open_membership=open_membership))

    def __repr__(self) -> str:
        return f"SandboxRegistry({self.sandbox!r})"

    def cooperative(self, coopname: str) -> Cooperative:
        return self.sandbox.cooperative(coopname)

    def membership(self, coopname: str, username: str) -> Membership:
        return self.sandbox.membership(coopname, username)

    def cooperatives(self) -> list[Cooperative]:
        return self.sandbox.cooperatives()

    def private_key(self, coopname: str) -> K1PrivateKey:
        return self.sandbox.private_key(coopname)

    def add_member(self, coopname: str, username: str, *, status: str = STATUS_ACCEPTED,
                   member_since: datetime | None = None) -> Membership:
        return self.sandbox.add_member(coopname, username, status=status,
                                       member_since=member_since)

    def endorsement(self, subject: str) -> Endorsement | None:
        return self.sandbox.endorsement(subject)

    def endorse(self, endorsement: Endorsement) -> Endorsement:
        return self.sandbox.endorse(endorsement)
