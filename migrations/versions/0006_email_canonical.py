"""one canonical email per member (PROTOCOL v1.1 email_norm); the old form kept as kdf_email

Unicode twins of one address (NFD/NFC, fullwidth letters, a domain in punycode) registered as
separate accounts under the v1.0 rule (strip + lowercase). Each member whose stored address is
not canonical under v1.1 gets the canonical one as `email`, and the stored one as `kdf_email`:
the member's keys were derived with it, and initiate-login hands it to the client as `kdfEmail`
until the next password change or recovery.

When the canonical form is already some member's address, or two old forms fold into one, the
address goes to the account that already has it exactly, else to the oldest (created_at); the
others keep their stored address unchanged. An address the new rule refuses (a local part
mixing scripts) is left as it is. Only counts are printed, never an address.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00

"""
import unicodedata

import idna
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


# email_norm as of this revision (cardcoop/protocol/email.py, copied: migrations never import
# application code, which changes after them).
_SCRIPT_RANGES = (
    (0x0041, 0x005A, "latin"), (0x0061, 0x007A, "latin"), (0x00C0, 0x00D6, "latin"),
    (0x00D8, 0x00F6, "latin"), (0x00F8, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"), (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"), (0x1C80, 0x1C8F, "cyrillic"), (0x2DE0, 0x2DFF, "cyrillic"),
    (0xA640, 0xA69F, "cyrillic"),
)


def _script(char):
    point = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= point <= high:
            return script
    return "other" if unicodedata.category(char).startswith("L") else None


def email_norm(email):
    """The canonical form, or None when the v1.1 rule refuses the address."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    local = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", local).lower())
    if not local or local.lower() != local:
        return None
    if len({s for s in map(_script, local) if s is not None}) > 1:
        return None
    try:
        domain = idna.decode(idna.encode(domain, uts46=True, transitional=False))
    except (UnicodeError, ValueError):
        return None
    if "" in domain.split("."):
        return None
    return local + "@" + unicodedata.normalize("NFC", domain.lower())


def upgrade():
    with op.batch_alter_table('idp_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kdf_email', sa.String(length=254), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, email FROM idp_members ORDER BY created_at, id")).fetchall()
    taken = {email for _, email in rows}
    moved = collided = refused = 0
    for member_id, email in rows:  # oldest first: of two old forms, the older account wins
        canonical = email_norm(email)
        if canonical is None:
            refused += 1
        elif canonical == email:
            continue
        elif canonical in taken or len(canonical) > 254:
            collided += 1
        else:
            bind.execute(sa.text("UPDATE idp_members SET email = :canonical, kdf_email = :old "
                                 "WHERE id = :id"),
                         {"canonical": canonical, "old": email, "id": member_id})
            taken.discard(email)
            taken.add(canonical)
            moved += 1
    print(f"0006 email_norm: {moved} member address(es) made canonical (old form kept as "
          f"kdf_email), {collided} left as stored (canonical form already taken), {refused} "
          f"left as stored (refused by the v1.1 rule)")


def downgrade():
    op.execute(sa.text(
        "UPDATE idp_members SET email = kdf_email WHERE kdf_email IS NOT NULL"))
    with op.batch_alter_table('idp_members', schema=None) as batch_op:
        batch_op.drop_column('kdf_email')
