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
    delete,
    exists,
    false,
    insert,
    literal_column,
    or_,
    select,
    union_all,
)

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


def _starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as an index range (see text.prefix_end)."""
    end = prefix_end(prefix)
    return column >= prefix if end is None else and_(column >= prefix, column < end)


def _has_term(terms: Table, owner: Column[Any], row_id: Any, prefix: str) -> ColumnElement[bool]:
    """Row `row_id` has a term starting with `prefix`: one index probe per row.

    A scalar subquery rather than EXISTS: MariaDB turns EXISTS into a semi-join
    that first reads every term with the prefix (all "lo…" postings of the table)."""
    probe = (
        select(literal_column("1"))
        .where(owner == row_id, _starts_with(terms.c.term, prefix))
        .order_by(terms.c.term)
        .limit(1)
        .scalar_subquery()
    )
    return probe.is_not(None)


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

    def where(self, column: Any, after: str | None = None) -> list[ColumnElement[bool]] | None:
        """Conditions for the keys in range (and beyond `after`); None when none are."""
        if after is not None and after >= self.low:
            if self.exact or (self.high is not None and after >= self.high):
                return None
            conditions = [column > after]
        elif self.exact:
            conditions = [column == self.low]
        else:
            conditions = [column >= self.low if self.inclusive else column > self.low]
        if self.high is not None:
            conditions.append(column < self.high)
        return conditions


def sql_matches(table: Table, q: str) -> ColumnElement[bool] | None:
    """The condition "the row matches q", for lists filtered by q but sorted by a
    column; None when fold(q) is empty (everything matches). For a ranked page use
    `sql_search`: this condition is index-backed only as far as the sort is."""
    parsed = parse_query(q)
    if not parsed.folded:  # every title starts with ""
        return None
    title_prefix = _starts_with(title_key_column(table), parsed.folded)
    if not parsed.words:
        return title_prefix
    terms, owner = terms_table(table)
    every_word = [
        exists().where(owner == table.c.id, _starts_with(terms.c.term, word))
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
    not the table.
    """
    parsed = parse_query(q)
    wanted = offset + limit
    title_key, row_id = title_key_column(table), table.c.id
    buckets: list[Select[Any]] = []

    def bucket(number: int, key: Any, ids: Any, keys: _KeyRange, statement: Select[Any]) -> None:
        # (conditions, whether they pin the key to one value)
        parts: list[tuple[list[ColumnElement[bool]] | None, bool]]
        if after is None or number > after.bucket:
            parts = [(keys.where(key), keys.exact)]
        elif number == after.bucket:
            # "(key, id) > (after.key, after.id)" as two index seeks: the rest of
            # the cursor's key, then the keys after it. One condition with an OR,
            # or ranges stacked on an equality, would make the planners walk every
            # row of that key before the cursor: one term can have a million rows.
            same_key = [key == after.key, ids > after.id]
            if ids is not row_id:
                # The id bound on the row too, in the word bucket: it tells
                # PostgreSQL where a merge join of postings and rows may start.
                same_key.append(row_id > after.id)
            parts = [
                (same_key if keys.holds(after.key) else None, True),
                (keys.where(key, after=after.key), False),
            ]
        else:
            return
        for conditions, pinned in parts:
            if conditions is None:
                continue
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
            buckets.append(select(ranked.c.id, ranked.c.bucket, ranked.c.rank_key))

    rows = select().select_from(table).where(*where)
    bucket(EXACT_TITLE, title_key, row_id, _KeyRange(parsed.folded, exact=True), rows)
    title_prefix = _KeyRange(parsed.folded, inclusive=False, high=prefix_end(parsed.folded))
    bucket(TITLE_PREFIX, title_key, row_id, title_prefix, rows)
    driver = parsed.driver
    if driver is not None:
        terms, owner = terms_table(table)
        posting = terms.alias("posting")
        posting_owner = posting.c[owner.name]
        earlier = terms.alias("earlier")
        statement = (
            select()
            .select_from(posting.join(table, row_id == posting_owner))
            .where(
                ~_starts_with(title_key, parsed.folded),
                *where,
                # Each row once, at its smallest term in the driver's range.
                ~exists().where(
                    earlier.c[owner.name] == posting_owner,
                    earlier.c.term >= driver,
                    earlier.c.term < posting.c.term,
                ),
                *[
                    _has_term(terms, owner, posting_owner, word)
                    for word in parsed.words
                    if word != driver
                ],
            )
        )
        driver_terms = _KeyRange(driver, high=prefix_end(driver))
        bucket(WORD_MATCH, posting.c.term, posting_owner, driver_terms, statement)
    if not buckets:  # the cursor is past the last bucket this q can have
        buckets.append(
            select(
                row_id.label("id"),
                literal_column("0", Integer).label("bucket"),
                title_key.label("rank_key"),
            ).where(false())
        )
    ranked = union_all(*buckets).subquery("ranked")
    return (
        select(ranked.c.id, ranked.c.bucket, ranked.c.rank_key)
        .order_by(ranked.c.bucket, ranked.c.rank_key, ranked.c.id)
        .offset(offset)
        .limit(limit)
    )


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
    row.bucket, row.rank_key, row.id) is the cursor after it."""
    ranked = sql_search(table, q, offset=offset, limit=limit, after=after, where=where).subquery(
        "search_page"
    )
    return (
        statement.join_from(table, ranked, table.c.id == ranked.c.id)
        .add_columns(ranked.c.bucket, ranked.c.rank_key)
        .order_by(ranked.c.bucket, ranked.c.rank_key, ranked.c.id)
    )


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
