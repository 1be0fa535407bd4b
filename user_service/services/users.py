"""The account rules: who may read, change and delete which profile.

Every public method is one use case. Its transactions are the `with self._unit(…)`
blocks in it; bcrypt work (hashing a new password, checking `current_password`)
happens outside them, so no transaction holds a lock through it, and the write
then proves the password it checked is still the stored one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.client_address import UNKNOWN
from common.errors import ForbiddenError, NotFoundError
from common.paging import BY_ID, Page, PageParams, keyset_cursor, parse_keyset_cursor
from common.passwords import PasswordHasher
from common.tokens import Principal
from database.text import canonical_email
from user_service.repos.base import NewUser, UserRecord, UserUnitOfWork
from user_service.schemas import SignUp, UserUpdate
from user_service.services.signups import SignUpThrottle

# Columns that may be written from an update body (current_password is only a check).
UPDATABLE = frozenset({"username", "email", "first_name", "last_name", "role"})


class UserNotFoundError(NotFoundError):
    detail = "User not found"


class WrongCurrentPasswordError(ForbiddenError):
    detail = "current_password is missing or wrong"


class UserService:
    def __init__(
        self,
        unit: Callable[..., UserUnitOfWork],
        hasher: PasswordHasher,
        signups: SignUpThrottle | None = None,
    ) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work);
        `signups` limits sign-ups per client address (none: unlimited)."""
        self._unit = unit
        self._hasher = hasher
        self._signups = signups

    def sign_up(self, data: SignUp, client_address: str = UNKNOWN) -> UserRecord:
        """The new account; DuplicateUserError (409) on a taken email or username,
        TooManySignUpsError (429) beyond the limit of `client_address`."""
        if self._signups is not None:
            self._signups.admit(client_address)  # before bcrypt: a refusal costs nothing
        new_user = NewUser(
            username=data.username,
            email=data.email,
            password_hash=self._hasher.hash(data.password),
            first_name=data.first_name,
            last_name=data.last_name,
        )
        with self._unit(write=True) as uow:
            user = uow.users.add(new_user)
            uow.commit()
        return user

    def get(self, user_id: int) -> UserRecord:
        with self._unit() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise UserNotFoundError
        return user

    def get_by_email(self, email: str) -> UserRecord:
        """By the email's canonical form (API.md, Text: Identity)."""
        with self._unit() as uow:
            user = uow.users.get_by_email(canonical_email(email))
        if user is None:
            raise UserNotFoundError
        return user

    def list(self, page: PageParams) -> Page[UserRecord]:
        """Users in id order; the caller picks the profile each viewer may see."""
        after = parse_keyset_cursor(page.cursor, BY_ID, int)
        with self._unit() as uow:
            rows = uow.users.list(
                after_id=after.id if after else None, offset=page.offset, limit=page.limit + 1
            )
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = keyset_cursor(BY_ID, shown[-1].id, shown[-1].id)
        return Page(shown, next_cursor)

    def update(self, caller: Principal, user_id: int, update: UserUpdate) -> UserRecord:
        """A partial update (API.md, user_service). Changing the password, email or
        role revokes every refresh token of the user (API.md, Sessions).
        ForbiddenError: not self or admin, a role change by a non-admin, or a
        missing/wrong current_password; UserNotFoundError; DuplicateUserError."""
        self._require_self_or_admin(caller, user_id)
        target = self.get(user_id)
        sent = update.model_dump(exclude_unset=True)
        if "role" in sent and sent["role"] != target.role and not caller.is_admin:
            raise ForbiddenError("Only an admin may change roles")
        changes: dict[str, Any] = {k: v for k, v in sent.items() if k in UPDATABLE}
        changes_credentials = "password" in sent or sent.get("email", target.email) != target.email
        changes_role = sent.get("role", target.role) != target.role
        checked_hash = None
        if changes_credentials and caller.user_id == user_id:
            self._require_current_password(update.current_password, target)
            checked_hash = target.password_hash
        if "password" in sent:
            changes["password_hash"] = self._hasher.hash(sent["password"])
        if not changes:
            return target
        with self._unit(write=True) as uow:
            updated = uow.users.update(
                user_id,
                changes,
                revoke_sessions=changes_credentials or changes_role,
                if_password_hash=checked_hash,
            )
            uow.commit()
        if updated is None:
            if checked_hash is not None and self._exists(user_id):
                # The password changed while we checked the old one.
                raise WrongCurrentPasswordError
            raise UserNotFoundError  # deleted between the read and the write
        return updated

    def delete(self, caller: Principal, user_id: int) -> None:
        """The account goes with its likes and refresh tokens (foreign keys cascade)."""
        self._require_self_or_admin(caller, user_id)
        with self._unit(write=True) as uow:
            if not uow.users.delete(user_id):
                raise UserNotFoundError
            uow.commit()

    def _exists(self, user_id: int) -> bool:
        with self._unit() as uow:
            return uow.users.get(user_id) is not None

    @staticmethod
    def _require_self_or_admin(caller: Principal, user_id: int) -> None:
        # Checked before existence, so a user cannot probe which ids exist.
        if caller.user_id != user_id and not caller.is_admin:
            raise ForbiddenError("You may only change your own account")

    def _require_current_password(self, current_password: str | None, user: UserRecord) -> None:
        if current_password is None or not self._hasher.verify(
            current_password, user.password_hash
        ):
            raise WrongCurrentPasswordError
