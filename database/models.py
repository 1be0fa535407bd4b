"""ORM classes over the product's tables (database.tables), for scripts and
tests that like `insert(Song)` or `select(User.id)`. The services and their
repositories use the Core tables and never import this module, so a service
process does not load `sqlalchemy.orm`."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from database import tables


class Base(DeclarativeBase):
    metadata = tables.metadata


class User(Base):
    __table__ = tables.users


class Album(Base):
    __table__ = tables.albums


class Song(Base):
    __table__ = tables.songs


class AlbumSong(Base):
    __table__ = tables.album_songs


class UserLike(Base):
    __table__ = tables.user_likes


class Artist(Base):
    __table__ = tables.artists


class AlbumLike(Base):
    __table__ = tables.album_likes


class ArtistLike(Base):
    __table__ = tables.artist_likes


class Playlist(Base):
    __table__ = tables.playlists


class PlaylistSong(Base):
    __table__ = tables.playlist_songs


class Play(Base):
    __table__ = tables.plays


class ArtistTerm(Base):
    __table__ = tables.artist_terms


class MediaFile(Base):
    __table__ = tables.media_files


class LibraryScan(Base):
    __table__ = tables.library_scans


class RefreshToken(Base):
    __table__ = tables.refresh_tokens


class LoginFailure(Base):
    __table__ = tables.login_failures


class SongTerm(Base):
    __table__ = tables.song_terms


class AlbumTerm(Base):
    __table__ = tables.album_terms


__all__ = [
    "Album",
    "AlbumLike",
    "AlbumSong",
    "AlbumTerm",
    "Artist",
    "ArtistLike",
    "ArtistTerm",
    "Base",
    "LoginFailure",
    "Play",
    "Playlist",
    "PlaylistSong",
    "RefreshToken",
    "Song",
    "SongTerm",
    "User",
    "UserLike",
]
