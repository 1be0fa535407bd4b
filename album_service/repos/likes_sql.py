"""Likes of albums and artists in SQL, the way song_service likes songs: one row per
(user, liked row), and every like or unlike first locks the liked row, so likes of
one row take turns and a count read in the same unit is exact."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Select, Table, bindparam, delete, exists, func, insert
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError

from album_service.repos.base import NEWEST_LIKE_FIRST
from common.errors import AccountGoneError, NotFoundError
from database.keyset import After, sql_after, sql_order
from database.types import utcnow
from database.unit_of_work import locked


@dataclass(frozen=True)
class LikeStatements:
    """The statements of likes of `target` rows, built once per table: building an
    expression costs more than running it, so requests only bind values
    (`user_id`, `target_id`)."""

    target: Table
    likes: Table
    liked_id: Column[Any]
    lock: Select[Any]
    is_liked: Select[Any]
    insert: Any
    delete: Any
    count: Select[Any]


@functools.cache
def like_statements(likes: Table, target: Table) -> LikeStatements:
    liked_id = likes.c[f"{target.name.removesuffix('s')}_id"]
    user, row = bindparam("user_id"), bindparam("target_id")
    return LikeStatements(
        target=target,
        likes=likes,
        liked_id=liked_id,
        # The lock read also says whether the liked row exists.
        lock=locked(sql_select(target.c.id).where(target.c.id == row), target),
        is_liked=sql_select(exists().where(liked_id == row, likes.c.user_id == user)),
        insert=insert(likes).values(
            user_id=user, created_at=bindparam("created_at"), **{liked_id.name: row}
        ),
        delete=delete(likes).where(likes.c.user_id == user, liked_id == row),
        count=sql_select(func.count()).select_from(likes).where(liked_id == row),
    )


class SqlLikes:
    """like / unlike of one kind of row, on the unit's connection."""

    def __init__(
        self, connection: Connection, statements: LikeStatements, not_found: type[NotFoundError]
    ) -> None:
        self._connection = connection
        self._statements = statements
        self._not_found = not_found

    def like(self, user_id: int, target_id: int) -> int:
        key = {"user_id": user_id, "target_id": target_id}
        self._lock(target_id)
        if not self._connection.scalar(self._statements.is_liked, key):
            try:
                self._connection.execute(self._statements.insert, key | {"created_at": utcnow()})
            except IntegrityError as exc:
                # The row is locked and was not liked, so only the user's foreign
                # key is left: the account was deleted after its token was issued.
                raise AccountGoneError from exc
        return int(self._connection.scalar(self._statements.count, key))

    def unlike(self, user_id: int, target_id: int) -> int:
        key = {"user_id": user_id, "target_id": target_id}
        self._lock(target_id)
        self._connection.execute(self._statements.delete, key)
        return int(self._connection.scalar(self._statements.count, key))

    def _lock(self, target_id: int) -> None:
        """Lock the liked row until the unit ends; its NotFoundError when absent."""
        found = self._connection.execute(self._statements.lock, {"target_id": target_id}).first()
        if found is None:
            raise self._not_found


def liked_page(
    statement: Select[Any],
    statements: LikeStatements,
    user_id: int,
    *,
    after: After | None,
    offset: int,
    limit: int,
) -> Select[Any]:
    """`statement` (a SELECT of the liked table's columns) limited to the rows
    `user_id` likes, newest like first, with the like time appended as `liked_at`."""
    # An alias: with the likes table itself in the FROM list, the like-count
    # subqueries of `statement` would correlate to it instead of counting.
    likes = statements.likes.alias("mine")
    liked_id = likes.c[statements.liked_id.name]
    statement = (
        statement.join_from(statements.target, likes, liked_id == statements.target.c.id)
        .add_columns(likes.c.created_at.label("liked_at"))
        .where(likes.c.user_id == user_id)
    )
    if after is not None:
        statement = statement.where(
            sql_after(likes.c.created_at, liked_id, NEWEST_LIKE_FIRST, after)
        )
    statement = statement.order_by(*sql_order(likes.c.created_at, liked_id, NEWEST_LIKE_FIRST))
    return statement.offset(offset).limit(limit)
