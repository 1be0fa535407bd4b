"""subsonic_service's unit of work: one connection for the reads of one Subsonic
call (the facade never writes; the owners do, over HTTP: upstream.py)."""

from __future__ import annotations

from sqlalchemy import Connection

from database.unit_of_work import SqlUnitOfWork
from subsonic_service.repos.library_sql import LibraryReads
from subsonic_service.repos.lists_sql import ListReads
from subsonic_service.repos.media_sql import MediaReads
from subsonic_service.repos.playlists_sql import PlaylistReads
from subsonic_service.repos.system_sql import SystemReads


class SqlSubsonicUnitOfWork(SqlUnitOfWork):
    """Read-only: a Subsonic method opens it without `write` and never commits."""

    library: LibraryReads
    lists: ListReads
    media: MediaReads
    playlists: PlaylistReads
    system: SystemReads

    def bind(self, connection: Connection) -> None:
        self.library = LibraryReads(connection)
        self.lists = ListReads(connection, self.library)
        self.media = MediaReads(connection)
        self.playlists = PlaylistReads(connection, self.library)
        self.system = SystemReads(connection)
