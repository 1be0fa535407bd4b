"""Where the covers of albums and artists come from (API.md, Media: covers); the
SQL and in-memory versions both honour it. The rules, in media.covers terms:

- an album: the media file's art of its first track (album_songs in disc, track,
  song id order) whose media file has art (embedded picture or an image beside
  it), else the album's `cover_image_url`;
- an artist: the album rule on the artist's newest album that has a cover by it
  (newest release first, undated last, then newest id: the order of the artist's
  `cover` field). Artists have no image URL of their own.

Only rows are read here (media_files is song_service's table, read through
database.tables); files are media.covers' business."""

from __future__ import annotations

from typing import Protocol

from media.covers import CoverSource


class CoverRepository(Protocol):
    def album_cover(self, album_id: int) -> CoverSource | None:
        """The album's cover sources; None when there is no such album. Two reads:
        the album's row, and its tracks along the (album, disc, track) index up to
        the first whose media file has art."""
        ...

    def artist_cover(self, artist_id: int) -> CoverSource | None:
        """The cover sources of the artist's newest album with a cover; NO_COVER
        when none has one; None when there is no such artist."""
        ...
