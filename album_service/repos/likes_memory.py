"""Likes of albums and artists over the shared MemoryDatabase, as likes_sql does
them in SQL; held to the SQL behaviour by the contract suite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from album_service.repos.base import NEWEST_LIKE_FIRST
from common.errors import AccountGoneError, NotFoundError
from database.keyset import After, memory_page
from database.memory import MemoryDatabase, Row
from database.types import utcnow


class MemoryLikes:
    """like / unlike of the rows of `target` in the likes table `likes`, keyed
    (user id, liked id) and with the liked id as `column`."""

    def __init__(
        self,
        db: MemoryDatabase,
        likes: str,
        target: str,
        column: str,
        not_found: type[NotFoundError],
    ) -> None:
        self._db = db
        self._likes: dict[tuple[int, int], Row] = getattr(db, likes)
        self._target: dict[int, Row] = getattr(db, target)
        self._column = column
        self._not_found = not_found

    def like(self, user_id: int, target_id: int) -> int:
        with self._db.lock:
            if target_id not in self._target:
                raise self._not_found
            if user_id not in self._db.users:
                raise AccountGoneError
            self._likes.setdefault(
                (user_id, target_id),
                {"user_id": user_id, self._column: target_id, "created_at": utcnow()},
            )
            return self._count(target_id)

    def unlike(self, user_id: int, target_id: int) -> int:
        with self._db.lock:
            if target_id not in self._target:
                raise self._not_found
            self._likes.pop((user_id, target_id), None)
            return self._count(target_id)

    def _count(self, target_id: int) -> int:
        return sum(1 for (_, liked) in self._likes if liked == target_id)


def liked_rows(
    likes: dict[tuple[int, int], Row],
    user_id: int,
    *,
    after: After | None,
    offset: int,
    limit: int,
) -> list[tuple[int, datetime]]:
    """(liked id, like time) of the user's likes, newest first, ties by id
    descending, as likes_sql.liked_page orders them (call under the db lock)."""
    mine: list[dict[str, Any]] = [
        {"id": liked, "liked_at": like["created_at"]}
        for (owner, liked), like in likes.items()
        if owner == user_id
    ]
    page = memory_page(mine, NEWEST_LIKE_FIRST, after, offset, limit)
    return [(row["id"], row["liked_at"]) for row in page]
