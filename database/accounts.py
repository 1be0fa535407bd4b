"""The one read of `users` that every service makes: the caller's current role.

Admin-only operations decide on the role in the database, not on the token's
claim (API.md, Sessions), so a demoted admin's unexpired token cannot act as
admin. Only tokens that claim `admin` are looked up: they are rare, and a token
that claims less can only do less."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from database.engine import Database
from database.tables import users

CURRENT_ROLE = select(users.c.role).where(users.c.id == bindparam("user_id"))


def current_role(database: Database, user_id: int) -> str | None:
    """The account's role now; None when the account no longer exists."""
    with database.connect() as connection:
        return connection.scalar(CURRENT_ROLE, {"user_id": user_id})
