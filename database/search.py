"""Catalogue search (API.md, "Text: one meaning on every database"): `q` finds an
album or a song when every word of fold(q) starts some word of its folded title
or artist ("arz" finds "Die Ärzte", "ghost lo" finds "Ghost Love"), ranked

    0  the folded title equals fold(q)           ordered by id
    1  the folded title starts with fold(q)      ordered by (title key, id)
    2  any other match                           ordered by (matched term, id)

where the matched term is the row's smallest word that starts with the query's
driving word (its longest). Every bucket's order is an index order, so a page
costs the same at a million rows as at a thousand, whether q matches many rows
or none: no LIKE '%...%' scan.

The SQL reads the terms tables (`song_terms`, `album_terms`: one row per distinct
word of a row's title and artist), which repositories keep current with
`sync_terms` in the same transaction as the insert or update. The in-memory
functions compute the same ranks from the rows themselves.

Put as one rule: a row matches when its folded title starts with fold(q), or q
has words and each starts a word of the title or artist. So a q without words
matches by title prefix only ("/" finds "/Lost"), and an empty q matches every
row, by title key then id.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    false,
    insert,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.selectable import _OffsetLimitParam

from database.tables import TERM_LENGTH, album_terms, artist_terms, folded_key, song_terms
from database.text import fit, fold_words, prefix_end

Row = TypeVar("Row", bound=Mapping[str, Any])

# The fields whose words are the terms: an update that changes one re-syncs them.
SEARCHED_FIELDS = frozenset({"title", "artist"})

EXACT_TITLE = 0
TITLE_PREFIX = 1
WORD_MATCH = 2

# The terms table of each searchable table, and the column naming the owner row.
_TERMS: dict[str, tuple[Table, str]] = {
    "songs": (song_terms, "song_id"),
    "albums": (album_terms, "album_id"),
    "artists": (artist_terms, "artist_id"),
}


class SearchRank(NamedTuple):
    """Where a row stands in a search: rows sort by (bucket, key, id). The rank of
    a page's last row is its keyset cursor (`after=`)."""

    bucket: int  # EXACT_TITLE, TITLE_PREFIX or WORD_MATCH
    key: str  # the title key (buckets 0 and 1), the matched term (bucket 2)
    id: int


@dataclass(frozen=True)
class ParsedQuery:
    """A `q` as the search compares it.

    `folded`: fold(q) cut to the title key's size.
    `words`: its words cut to the term size, none a prefix of another (a word that
    is a prefix of another is implied by it). `driver`: the longest word, ties by
    code point order, whose term range the search walks.
    """

    folded: str
    words: tuple[str, ...]

    @property
    def driver(self) -> str | None:
        return max(self.words, key=lambda word: (len(word), word)) if self.words else None


def parse_query(q: str) -> ParsedQuery:
    """`q` as the search compares it (see ParsedQuery)."""
    words = {fit(word, TERM_LENGTH) for word in fold_words(q)}
    words.discard("")
    kept = tuple(
        sorted(
            word
            for word in words
            if not any(other != word and other.startswith(word) for other in words)
        )
    )
    return ParsedQuery(folded_key("title", q), kept)


def search_terms(title: str, artist: str) -> list[str]:
    """The distinct terms stored for a row: the words of its title and artist, cut
    to the term size, sorted."""
    terms = {fit(word, TERM_LENGTH) for word in fold_words(title) + fold_words(artist)}
    terms.discard("")
    return sorted(terms)


def title_key_column(table: Table) -> Column[Any]:
    """The folded key a row's "title" ranks by: a song's or an album's title, an
    artist's name (an artist has no artist words beside its name)."""
    return table.c.title_key if "title_key" in table.c else table.c.name_key


def _title(row: Mapping[str, Any]) -> str:
    """The title `search_rank` ranks a row by (see title_key_column)."""
    return row["title"] if "title" in row else row["name"]


def terms_table(table: Table | str) -> tuple[Table, Column[Any]]:
    """The terms table of `songs`, `albums` or `artists` and its owner-id column."""
    terms, owner = _TERMS[table if isinstance(table, str) else table.name]
    return terms, terms.c[owner]


# SQL ------------------------------------------------------------------------
#
# A ranked page is built once per SHAPE (which table and base statement, how many
# query words, which ranges are bounded above, where the cursor falls) with bind
# parameters for every value, and cached: building the union and cache-keying it
# cost several times what SQLite took to run it. A request then computes its
# shape and its values (`_Plan`) and only binds them. Every parameter is named
# "search_…", so none collides with a caller's own (viewer_id, song_id...).


def _starts_with(column: Any, prefix: Any, end: Any | None) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as an index range to `end`, its
    text.prefix_end (None: unbounded above)."""
    return column >= prefix if end is None else and_(column >= prefix, column < end)


def _has_term(terms: Table, owner: Column[Any], row_id: Any, prefix: Any, end: Any | None) -> Any:
    """Row `row_id` has a term starting with `prefix`: one index probe per row.

    A scalar subquery rather than EXISTS: MariaDB turns EXISTS into a semi-join
    that first reads every term with the prefix (all "lo…" postings of the table)."""
    probe = (
        select(literal_column("1"))
        .where(owner == row_id, _starts_with(terms.c.term, prefix, end))
        .order_by(terms.c.term)
        .limit(1)
        .scalar_subquery()
    )
    return probe.is_not(None)


# How a bucket's keys are bounded below: from the cursor's key (exclusive), equal
# to the range's low key, from it inclusive, or from it exclusive.
_AFTER, _EQUAL, _FROM, _ABOVE = "after", "eq", "ge", "gt"
# A range's conditions: (lower bound, bounded above); None when no key qualifies.
_RangeShape = tuple[str, bool] | None


@dataclass(frozen=True)
class _KeyRange:
    """The keys of one bucket: from `low` (inclusive or not) to `high` (exclusive,
    None: unbounded), or exactly `low`."""

    low: str
    inclusive: bool = True
    high: str | None = None
    exact: bool = False

    def holds(self, key: str) -> bool:
        if self.exact:
            return key == self.low
        above = key >= self.low if self.inclusive else key > self.low
        return above and (self.high is None or key < self.high)

    def shape(self, after: str | None = None) -> _RangeShape:
        """Which conditions select the keys in range (and beyond `after`)."""
        if after is not None and after >= self.low:
            if self.exact or (self.high is not None and after >= self.high):
                return None
            return (_AFTER, self.high is not None)
        if self.exact:
            return (_EQUAL, False)
        return (_FROM if self.inclusive else _ABOVE, self.high is not None)


def _range_where(
    shape: tuple[str, bool], column: Any, low: Any, high: Any, after: Any
) -> list[ColumnElement[bool]]:
    """The conditions of a range `shape` on `column` (see _KeyRange.shape)."""
    lower, bounded = shape
    if lower == _AFTER:
        conditions = [column > after]
    elif lower == _EQUAL:
        conditions = [column == low]
    else:
        conditions = [column >= low if lower == _FROM else column > low]
    if bounded:
        conditions.append(column < high)
    return conditions


# One member of a bucket: the rest of the cursor's key (_SAME_KEY), or a range's
# keys as (its shape, whether the key is pinned to one value).
_SAME_KEY = "same key"
_Part = str | tuple[tuple[str, bool], bool]


def _parts(number: int, keys: _KeyRange, after: SearchRank | None) -> tuple[_Part, ...]:
    """The union members bucket `number` contributes, after `after`."""
    if after is None or number > after.bucket:
        shape = keys.shape()
        return () if shape is None else ((shape, keys.exact),)
    if number == after.bucket:
        # "(key, id) > (after.key, after.id)" as two index seeks: the rest of
        # the cursor's key, then the keys after it (see _ranked).
        parts: list[_Part] = [_SAME_KEY] if keys.holds(after.key) else []
        if (shape := keys.shape(after.key)) is not None:
            parts.append((shape, False))
        return tuple(parts)
    return ()


class _Plan(NamedTuple):
    """A search's statement shape (hashable: the cache key) and its values."""

    shape: tuple[Any, ...]
    params: dict[str, Any]


def _plan(table: Table, q: str, offset: int, limit: int, after: SearchRank | None) -> _Plan:
    parsed = parse_query(q)
    folded_end = prefix_end(parsed.folded)
    params: dict[str, Any] = {
        "search_folded": parsed.folded,
        "search_offset": offset,
        "search_limit": limit,
        "search_wanted": offset + limit,
    }
    if folded_end is not None:
        params["search_folded_end"] = folded_end
    if after is not None:
        params["search_after_key"] = after.key
        params["search_after_id"] = after.id
    exact = _parts(EXACT_TITLE, _KeyRange(parsed.folded, exact=True), after)
    title_prefix = _KeyRange(parsed.folded, inclusive=False, high=folded_end)
    prefix = _parts(TITLE_PREFIX, title_prefix, after)
    driver = parsed.driver
    words: tuple[bool, ...] = ()  # the other words: whether each is bounded above
    word_match: tuple[_Part, ...] = ()
    if driver is not None:
        driver_end = prefix_end(driver)
        params["search_driver"] = driver
        if driver_end is not None:
            params["search_driver_end"] = driver_end
        others = [word for word in parsed.words if word != driver]
        for number, word in enumerate(others):
            params[f"search_word_{number}"] = word
            if (end := prefix_end(word)) is not None:
                params[f"search_word_{number}_end"] = end
        words = tuple(f"search_word_{number}_end" in params for number in range(len(others)))
        word_match = _parts(WORD_MATCH, _KeyRange(driver, high=driver_end), after)
    shape = (
        table.name,
        folded_end is not None,
        driver is not None,
        words,
        exact,
        prefix,
        word_match,
    )
    return _Plan(shape, params)


def _bind(name: str, type_: Any) -> Any:
    return bindparam(f"search_{name}", type_=type_)


def _count(name: str) -> Any:
    """A bound OFFSET or LIMIT. SQLAlchemy's own kind (what .limit(20) makes, but
    named), so that dialects which need a number to compile a paged subquery still
    find one (SQL Server keeps ORDER BY and TOP in derived tables only then; the
    0 is a placeholder, `required`: every execution binds the real value)."""
    return _OffsetLimitParam(f"search_{name}", 0, type_=Integer, required=True)


def _ranked(
    shape: tuple[Any, ...], table: Table, where: Sequence[ColumnElement[bool]]
) -> Select[Any]:
    """The statement of `sql_search` for a plan's shape, with bind parameters."""
    _, has_folded_end, has_driver, words, exact, prefix, word_match = shape
    title_key, row_id = title_key_column(table), table.c.id
    key_type, id_type = title_key.type, row_id.type
    folded = _bind("folded", key_type)
    folded_end = _bind("folded_end", key_type) if has_folded_end else None
    after_key, after_id = _bind("after_key", key_type), _bind("after_id", id_type)
    wanted = _count("wanted")
    members: list[Select[Any]] = []

    def bucket(
        number: int,
        key: Any,
        ids: Any,
        parts: tuple[_Part, ...],
        statement: Select[Any],
        low: Any,
        high: Any,
    ) -> None:
        for part in parts:
            if part == _SAME_KEY:
                # Two index seeks, not one condition with an OR, nor ranges
                # stacked on an equality: those make the planners walk every row
                # of the key before the cursor, and one term can have a million.
                conditions = [key == after_key, ids > after_id]
                if ids is not row_id:
                    # The id bound on the row too, in the word bucket: it tells
                    # PostgreSQL where a merge join of postings and rows may start.
                    conditions.append(row_id > after_id)
                pinned = True
            else:
                range_shape, pinned = part
                conditions = _range_where(range_shape, key, low, high, after_key)
            ranked = (
                statement.where(*conditions)
                .add_columns(
                    ids.label("id"),
                    literal_column(str(number), Integer).label("bucket"),
                    key.label("rank_key"),
                )
                # With the key pinned, by id alone: MariaDB sorts a whole key's
                # rows (a filesort) for "ORDER BY key, id" under "key = constant".
                .order_by(*([ids] if pinned else [key, ids]))
                .limit(wanted)
                .subquery()
            )
            # Wrapped, because SQLite allows neither ORDER BY nor LIMIT on the
            # members of a UNION.
            members.append(select(ranked.c.id, ranked.c.bucket, ranked.c.rank_key))

    rows = select().select_from(table).where(*where)
    bucket(EXACT_TITLE, title_key, row_id, exact, rows, folded, None)
    bucket(TITLE_PREFIX, title_key, row_id, prefix, rows, folded, folded_end)
    if has_driver:
        terms, owner = terms_table(table)
        term_type = terms.c.term.type
        driver = _bind("driver", term_type)
        driver_end = _bind("driver_end", term_type)
        posting = terms.alias("posting")
        posting_owner = posting.c[owner.name]
        earlier = terms.alias("earlier")
        others = [
            (
                _bind(f"word_{number}", term_type),
                _bind(f"word_{number}_end", term_type) if bounded else None,
            )
            for number, bounded in enumerate(words)
        ]
        statement = (
            select()
            .select_from(posting.join(table, row_id == posting_owner))
            .where(
                ~_starts_with(title_key, folded, folded_end),
                *where,
                # Each row once, at its smallest term in the driver's range.
                ~exists().where(
                    earlier.c[owner.name] == posting_owner,
                    earlier.c.term >= driver,
                    earlier.c.term < posting.c.term,
                ),
                *[_has_term(terms, owner, posting_owner, word, end) for word, end in others],
            )
        )
        bucket(WORD_MATCH, posting.c.term, posting_owner, word_match, statement, driver, driver_end)
    if not members:  # the cursor is past the last bucket this q can have
        members.append(
            select(
                row_id.label("id"),
                literal_column("0", Integer).label("bucket"),
                title_key.label("rank_key"),
            ).where(false())
        )
    ranked = union_all(*members).subquery("ranked")
    return (
        select(ranked.c.id, ranked.c.bucket, ranked.c.rank_key)
        .order_by(ranked.c.bucket, ranked.c.rank_key, ranked.c.id)
        .offset(_count("offset"))
        .limit(_count("limit"))
    )


def _page(statement: Select[Any], table: Table, ranked: Select[Any]) -> Select[Any]:
    """`statement` restricted to the `ranked` page and in its order."""
    page = ranked.subquery("search_page")
    return (
        statement.join_from(table, page, table.c.id == page.c.id)
        .add_columns(page.c.bucket, page.c.rank_key)
        .order_by(page.c.bucket, page.c.rank_key, page.c.id)
    )


class _Same:
    """A statement or condition as a cache key: by identity, as the caller built
    it once (ClauseElement's == builds SQL instead of comparing)."""

    __slots__ = ("element",)

    def __init__(self, element: Any) -> None:
        self.element = element

    def __hash__(self) -> int:
        return id(self.element)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.element is self.element


@functools.lru_cache(maxsize=128)  # ~80 KiB each; a few dozen shapes in use
def _cached_page(
    shape: tuple[Any, ...], table: Table, statement: _Same, where: tuple[_Same, ...]
) -> Select[Any]:
    conditions = [condition.element for condition in where]
    return _page(statement.element, table, _ranked(shape, table, conditions))


class SearchPage(NamedTuple):
    """A search page's statement, shared by every request of its shape, and the
    values to execute it with (merge the caller's own parameters into them)."""

    statement: Select[Any]
    params: dict[str, Any]


def bound_search_page(
    statement: Select[Any],
    table: Table,
    q: str,
    *,
    offset: int = 0,
    limit: int,
    after: SearchRank | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> SearchPage:
    """`sql_search_page` as a statement built once per shape and its parameters:
    a request only binds values. `statement` and `where` are cached by identity,
    so pass objects built once (module constants, functools.cache): new ones on
    every call would each build a statement again and crowd the cache."""
    plan = _plan(table, q, offset, limit, after)
    cached = _cached_page(
        plan.shape, table, _Same(statement), tuple(_Same(condition) for condition in where)
    )
    return SearchPage(cached, plan.params)


def sql_matches(table: Table, q: str) -> ColumnElement[bool] | None:
    """The condition "the row matches q", for lists filtered by q but sorted by a
    column; None when fold(q) is empty (everything matches). For a ranked page use
    `sql_search`: this condition is index-backed only as far as the sort is."""
    parsed = parse_query(q)
    if not parsed.folded:  # every title starts with ""
        return None
    title_prefix = _starts_with(title_key_column(table), parsed.folded, prefix_end(parsed.folded))
    if not parsed.words:
        return title_prefix
    terms, owner = terms_table(table)
    every_word = [
        exists().where(owner == table.c.id, _starts_with(terms.c.term, word, prefix_end(word)))
        for word in parsed.words
    ]
    return or_(title_prefix, and_(*every_word))


def sql_search(
    table: Table,
    q: str,
    *,
    offset: int = 0,
    limit: int,
    after: SearchRank | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """The page of `table` (songs, albums or artists) matching `q` in rank order, as rows of
    (id, bucket, rank_key): a SearchRank each.

    `where`: further conditions on `table` (exact filters, an album's songs).
    `after`: the rank of the previous page's last row (keyset paging); `offset`
    skips rows after it. Each bucket reads at most offset + limit rows in index
    order and the page is the first of their union, so the cost follows the page,
    not the table. The values are bound into the statement returned; a hot path
    takes `bound_search_page` instead.
    """
    plan = _plan(table, q, offset, limit, after)
    return _ranked(plan.shape, table, where).params(plan.params)


def sql_search_page(
    statement: Select[Any],
    table: Table,
    q: str,
    *,
    offset: int = 0,
    limit: int,
    after: SearchRank | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """`statement` (a SELECT of `table`'s columns) restricted to the search page and
    in its order, with `bucket` and `rank_key` appended to each row: SearchRank(
    row.bucket, row.rank_key, row.id) is the cursor after it. Values bound in, for
    statements built per call; `bound_search_page` is the cached form."""
    plan = _plan(table, q, offset, limit, after)
    return _page(statement, table, _ranked(plan.shape, table, where)).params(plan.params)


def sync_terms(
    connection: Connection, table: Table | str, row_id: int, title: str, artist: str
) -> None:
    """Make the stored terms of row `row_id` those of (title, artist), inside the
    caller's transaction (no commit): after an insert, and after an update that
    may have changed the title or the artist. Unchanged terms are left alone."""
    terms, owner = terms_table(table)
    wanted = set(search_terms(title, artist))
    stored = set(connection.scalars(select(terms.c.term).where(owner == row_id)))
    if stale := stored - wanted:
        connection.execute(delete(terms).where(owner == row_id, terms.c.term.in_(sorted(stale))))
    if missing := wanted - stored:
        connection.execute(
            insert(terms), [{"term": term, owner.name: row_id} for term in sorted(missing)]
        )


# In memory ------------------------------------------------------------------


def search_rank(row: Mapping[str, Any], q: str | ParsedQuery) -> SearchRank | None:
    """The rank `sql_search` gives `row` (a mapping with id, title, artist, or an
    artist's id and name) for q; None when it does not match."""
    parsed = parse_query(q) if isinstance(q, str) else q
    title = _title(row)
    title_key = folded_key("title", title)
    if title_key == parsed.folded:
        return SearchRank(EXACT_TITLE, title_key, row["id"])
    if title_key.startswith(parsed.folded):
        return SearchRank(TITLE_PREFIX, title_key, row["id"])
    driver = parsed.driver
    if driver is None:
        return None
    terms = search_terms(title, row.get("artist", ""))
    if not all(any(term.startswith(word) for term in terms) for word in parsed.words):
        return None
    return SearchRank(WORD_MATCH, min(t for t in terms if t.startswith(driver)), row["id"])


def memory_search(
    rows: Iterable[Row],
    q: str,
    *,
    offset: int = 0,
    limit: int | None = None,
    after: SearchRank | None = None,
) -> list[Row]:
    """What `sql_search` returns, over plain rows: the matching rows in rank order,
    after `after`, then `offset` skipped and at most `limit` kept."""
    parsed = parse_query(q)
    ranked = [(rank, row) for row in rows if (rank := search_rank(row, parsed)) is not None]
    ranked.sort(key=lambda pair: pair[0])
    if after is not None:
        ranked = [pair for pair in ranked if pair[0] > after]
    end = None if limit is None else offset + limit
    return [row for _, row in ranked[offset:end]]
