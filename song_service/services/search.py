"""One search across artists, albums and songs, and the genre list (API.md, Search
and genres). Every public method is one use case and one (read) unit of work."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from common.paging import Page, PageParams, offset_cursor, page_offset
from common.tokens import Principal
from song_service.repos.base import SongUnitOfWork
from song_service.schemas import AlbumHit, ArtistHit, GenreOut, SearchResults, SongOut
from song_service.services.songs import view_fields

GENRES_CURSOR = "genre"  # the name offset cursors of /genres carry


class SearchService:
    def __init__(self, unit: Callable[..., SongUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def search(
        self,
        q: str,
        *,
        types: Collection[str],
        limit: int,
        offsets: Mapping[str, int],
        caller: Principal | None,
    ) -> SearchResults:
        """Up to `limit` of each asked type ("artist", "album", "song") in
        database.search's rank order, from that type's offset; an empty q lists
        every row by title (name) key. A type not asked for is an empty list."""
        viewer = caller.user_id if caller else None
        artists, albums, songs = [], [], []
        with self._unit() as uow:
            if "artist" in types:
                artists = uow.search.artists(q, offset=offsets.get("artist", 0), limit=limit)
            if "album" in types:
                albums = uow.search.albums(q, offset=offsets.get("album", 0), limit=limit)
            if "song" in types:
                songs = uow.search.songs(
                    q, offset=offsets.get("song", 0), limit=limit, viewer_id=viewer
                )
            media = uow.media.for_songs([view.song.id for view in songs])
        return SearchResults(
            artists=[ArtistHit.model_validate(artist._asdict()) for artist in artists],
            albums=[AlbumHit.model_validate(album._asdict()) for album in albums],
            songs=[SongOut.model_validate(view_fields(view, media)) for view in songs],
        )

    def genres(self, page: PageParams) -> Page[GenreOut]:
        """A page of genres in folded-key order, offset-paged."""
        offset = page_offset(page, GENRES_CURSOR)
        with self._unit() as uow:
            rows = uow.search.genres(offset=offset, limit=page.limit + 1)
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = offset_cursor(GENRES_CURSOR, offset + page.limit)
        items = [
            GenreOut(name=row.name, song_count=row.song_count, album_count=row.album_count)
            for row in shown
        ]
        return Page(items, next_cursor)
