"""The member card, zero-knowledge (PROTOCOL.md §3-5): everything is encrypted and decrypted here.

`CardSession(session)` works on the card of a logged-in `Session`. The card key is made here when
the card is issued, travels only wrapped (under `enc_key`, or under the recovery key) and is
never sent, logged or shown; the server gets ciphertext, `meta` and the public identifiers of
the cooperative accounts.

    with IdpClient("https://id.card.coop") as idp:
        card = CardSession(idp.login(email, password))
        card.issue_card({"person_type": "individual", ...})
        current = card.read_card()            # migrates an older card and stores it (§4)
        card.update_card({**current.data, "phone": "+7 916 000-00-00"})
        account = card.add_account("voskhod")
        recovery_key = card.setup_recovery(password)      # show it to the member once

    session = recover(idp, email, recovery_key, new_password, read_code_from_email)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .card_models import Account, Card, CardInvalid, CardMeta, RecoveryStatus, StoredAccount
from .client import IdpClient, Session
from .crypto import (
    K1PrivateKey,
    K1PublicKey,
    KdfParams,
    ProtocolError,
    b64u_encode,
    decrypt_account,
    decrypt_personal_data,
    derive_keys,
    encrypt_account,
    encrypt_personal_data,
    format_recovery_key,
    generate_card_key,
    generate_recovery_key,
    is_valid_antelope_name,
    new_coop_account,
    normalize_email,
    parse_recovery_key,
    recovery_auth_key,
    recovery_unwrap_card_key,
    recovery_wrap_card_key,
    unwrap_card_key,
    wrap_card_key,
)
from .errors import Conflict, NotFound, ResponseError, UnsafeKdf
from .migrations import CURRENT_VERSION, migrate
from .schema import SCHEMA_ID, validate_card

__all__ = ["CardSession", "recover"]

#: How often `read_card` reads again when its write-back of a migrated card meets a concurrent
#: write (the other writer may well have migrated it already).
MIGRATION_ATTEMPTS = 3


def _checked(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` as a plain dict, or `CardInvalid` with its problems."""
    if not isinstance(data, Mapping):
        raise TypeError("card data must be a mapping")
    problems = validate_card(data)
    if problems:
        raise CardInvalid(problems)
    return dict(data)


def _current_meta() -> CardMeta:
    return CardMeta(version=CURRENT_VERSION, schema=SCHEMA_ID)


def _check_kdf(client: IdpClient, kdf: KdfParams) -> KdfParams:
    # The floor is checked by KdfParams itself; the ceiling is this client's.
    if kdf.iterations > client.max_kdf_iterations:
        raise UnsafeKdf(f"refused KDF parameters: more than {client.max_kdf_iterations} "
                        "iterations")
    return kdf


class CardSession:
    """The card operations of one logged-in member.

    It remembers the revision it last read or wrote (`update_card` names it, so a concurrent
    change is detected, not overwritten) and keeps the unwrapped card key in memory for the next
    operation. `repr` shows neither the key nor any card data.
    """

    __slots__ = ("_card_key", "_revision", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self._card_key: bytes | None = None
        self._revision: int | None = None

    @property
    def client(self) -> IdpClient:
        return self.session.client

    @property
    def revision(self) -> int | None:
        """The card revision this object last read or wrote (None before that)."""
        return self._revision

    def __repr__(self) -> str:
        return (f"CardSession(email={self.session.email!r}, revision={self._revision!r}, "
                "card_key=<hidden>)")

    # -- the card ----------------------------------------------------------------------------

    def issue_card(self, data: Mapping[str, Any]) -> str:
        """Issue the member's card with `data` (validated first: `CardInvalid`, no request).
        A fresh card key is made here, wrapped under `enc_key`; the card id is returned.
        A second card → `Conflict` (``card_exists``)."""
        plain = _checked(data)
        card_key = generate_card_key()
        card_id = self.client.issue_card(
            self.session.access_token, encrypt_personal_data(card_key, plain, SCHEMA_ID),
            wrap_card_key(self.session.enc_key, card_key), _current_meta())
        self._card_key = card_key
        self._revision = 1  # a new card starts at revision 1 (the answer does not say so)
        return card_id

    def read_card(self) -> Card:
        """Read and decrypt the card and its accounts.

        A card stored in an older format (`meta.version` < CURRENT_VERSION) is migrated here
        (PROTOCOL.md §4); when the result validates, it is re-encrypted and stored with the
        current version (`PUT /card`), otherwise it is returned with its `problems` and left
        for the member to correct with `update_card`. No card → `NotFound`. A card newer than
        this SDK → `cardcoop.migrations.CardMigrationError`."""
        for attempt in range(MIGRATION_ATTEMPTS):
            stored = self.client.get_card(self.session.access_token)
            card_key = unwrap_card_key(self.session.enc_key, stored.wrapped_card_key)
            data = decrypt_personal_data(card_key, stored.encrypted_personal_data,
                                         stored.meta.schema)
            accounts = [_open_account(card_key, account) for account in stored.accounts]
            self._card_key = card_key
            version, revision, migrated_from = stored.meta.version, stored.revision, None
            if version != CURRENT_VERSION:
                migrated_from = version
                data = migrate(data, version)
            problems = validate_card(data)
            if migrated_from is not None and not problems:
                try:
                    revision = self.client.put_card(
                        self.session.access_token,
                        encrypt_personal_data(card_key, data, SCHEMA_ID), _current_meta(),
                        stored.revision)
                except Conflict:
                    if attempt + 1 == MIGRATION_ATTEMPTS:
                        raise
                    continue  # changed meanwhile (maybe migrated by another client): again
                version = CURRENT_VERSION
            self._revision = revision
            return Card(card_id=stored.card_id, data=data, version=version, revision=revision,
                        accounts=accounts, problems=problems, migrated_from=migrated_from)
        raise AssertionError("unreachable")  # pragma: no cover

    def update_card(self, data: Mapping[str, Any], *, revision: int | None = None) -> int:
        """Replace the personal data (validated first: `CardInvalid`, no request), naming the
        revision last read or written here, or `revision`. Someone else changed the card since
        → `Conflict` (``stale_revision``): read it again and redo the change. The new revision."""
        plain = _checked(data)
        expected = revision if revision is not None else self._revision
        if expected is None:
            raise RuntimeError("read the card first: an update names the revision it replaces")
        card_key = self._get_card_key()
        new_revision = self.client.put_card(
            self.session.access_token, encrypt_personal_data(card_key, plain, SCHEMA_ID),
            _current_meta(), expected)
        self._revision = new_revision
        return new_revision

    # -- cooperative accounts ------------------------------------------------------------------

    def add_account(self, coopname: str) -> Account:
        """Open the member's account in the cooperative `coopname`: a new K1 key pair and a
        random 12-letter Antelope username, made here; the server gets the public key and the
        record (with the private key) encrypted under the card key. One per cooperative →
        `Conflict` (``account_exists``)."""
        if not is_valid_antelope_name(coopname) or len(coopname) > 12:
            raise ValueError("coopname must be an Antelope account name (1-12 of a-z, 1-5, '.')")
        card_key = self._get_card_key()
        record = new_coop_account(coopname)
        stored = self.client.add_account(
            self.session.access_token, record.coopname, record.username, record.public_key,
            encrypt_account(card_key, record))
        if (stored.coopname, stored.username, stored.public_key) != (
                record.coopname, record.username, record.public_key):
            raise ResponseError("malformed response: the account stored is not the one sent",
                                status=201)
        return Account(coopname=record.coopname, username=record.username,
                       public_key=record.public_key, private_key=record.private_key,
                       created_at=stored.created_at)

    # -- password and recovery ---------------------------------------------------------------

    def change_password(self, new_password: str, current_password: str, *,
                        kdf: KdfParams | None = None) -> None:
        """Change the password: both derived with the account's `serverSalt` (the new one with
        `kdf` when given, else the current parameters), the same card key re-wrapped under the
        new `enc_key`, nothing re-encrypted. Wrong current password → `Forbidden`
        (``wrong_password``). The server ends every other session; this one continues with the
        new `enc_key`."""
        session = self.session
        server_salt = self._server_salt()
        new_kdf = _check_kdf(self.client, kdf) if kdf is not None else session.kdf
        current = derive_keys(current_password, session.email, server_salt, session.kdf,
                              kdf_email=session.kdf_email)
        new = derive_keys(new_password, session.email, server_salt, new_kdf)  # canonical salt
        card_key = self._find_card_key()
        wrapped = wrap_card_key(new.enc_key, card_key) if card_key is not None else None
        self.client.change_password(session.access_token, current.hash_key_b64u,
                                    new.hash_key_b64u, wrapped, kdf)
        session._rekey(new.enc_key, new_kdf)

    def recovery_status(self) -> RecoveryStatus:
        """Whether a recovery key is set up, and since when."""
        return self.client.recovery_status(self.session.access_token)

    def setup_recovery(self, current_password: str) -> str:
        """Set up (or replace) the recovery key; the card must be issued. Returns the key as
        shown to the member ("XXXX-XXXX-..."), once: only its verifier and the card key
        wrapped under it are stored. Wrong password → `Forbidden` (``wrong_password``)."""
        current = derive_keys(current_password, self.session.email, self._server_salt(),
                              self.session.kdf, kdf_email=self.session.kdf_email)
        card_key = self._get_card_key()
        recovery_key = generate_recovery_key()
        self.client.setup_recovery(self.session.access_token, current.hash_key_b64u,
                                   b64u_encode(recovery_auth_key(recovery_key)),
                                   recovery_wrap_card_key(recovery_key, card_key))
        return format_recovery_key(recovery_key)

    # -- plumbing ----------------------------------------------------------------------------

    def _server_salt(self) -> str:
        if self.session.server_salt is None:
            raise RuntimeError("the session does not know the account's serverSalt; "
                               "log in with IdpClient.login()")
        return self.session.server_salt

    def _get_card_key(self) -> bytes:
        """The card key: the one kept, or unwrapped from `GET /card` (`NotFound` if none)."""
        if self._card_key is None:
            stored = self.client.get_card(self.session.access_token)
            # Not the revision: only a read of the data may name one in an update.
            self._card_key = unwrap_card_key(self.session.enc_key, stored.wrapped_card_key)
        return self._card_key

    def _find_card_key(self) -> bytes | None:
        try:
            return self._get_card_key()
        except NotFound as exc:
            if exc.error != "card_not_found":
                raise
            return None


def _open_account(card_key: bytes, stored: StoredAccount) -> Account:
    """Decrypt an account; its record must agree with the identifiers in clear and its private
    key with its public key."""
    record = decrypt_account(card_key, stored.encrypted_account, stored.coopname)
    try:
        matches = (record.username == stored.username
                   and K1PublicKey.from_string(record.public_key)
                   == K1PublicKey.from_string(stored.public_key)
                   and K1PrivateKey.from_string(record.private_key).public_key
                   == K1PublicKey.from_string(record.public_key))
    except ProtocolError:
        matches = False
    if not matches:
        raise ResponseError("malformed response: an account's encrypted record does not match "
                            "its public identifiers", status=200)
    return Account(coopname=record.coopname, username=record.username,
                   public_key=record.public_key, private_key=record.private_key,
                   created_at=stored.created_at)


def recover(client: IdpClient, email: str, recovery_key_text: str, new_password: str,
            code_provider: Callable[[str], str], *, kdf: KdfParams | None = None) -> Session:
    """Forgotten password: set `new_password` with the recovery key and an emailed code, keeping
    the card. Initiate, ask `code_provider(email_norm)` for the code, verify it together with
    the recovery key (the server only learns `recovery_auth`), unwrap the card key here, derive
    the new keys with the account's `serverSalt` and KDF parameters (`kdf` to change them),
    re-wrap the card key under the new `enc_key`, complete. The new session is returned; every
    other session of the member has ended.

    A malformed recovery key raises `cardcoop.crypto.InvalidKey` before any request; a wrong
    code or key `BadRequest` (``invalid_recovery``)."""
    recovery_key = parse_recovery_key(recovery_key_text)
    if kdf is not None:
        _check_kdf(client, kdf)
    email_norm = normalize_email(email)
    attempt = client.recovery_initiate(email_norm)
    unlocked = client.recovery_verify(email_norm, attempt, code_provider(email_norm).strip(),
                                      b64u_encode(recovery_auth_key(recovery_key)))
    card_key = recovery_unwrap_card_key(recovery_key, unlocked.recovery_wrapped_card_key)
    params = kdf if kdf is not None else unlocked.kdf
    keys = derive_keys(new_password, email_norm, unlocked.server_salt, params)
    tokens = client.recovery_complete(email_norm, attempt, keys.hash_key_b64u,
                                      wrap_card_key(keys.enc_key, card_key), kdf)
    return Session(client, email_norm, tokens, keys.enc_key, params,
                   server_salt=unlocked.server_salt)
