"""Where the covers of songs and playlists come from (API.md, Media: covers); the
SQL and in-memory versions both honour it. The rules, in media.covers terms:

- a song: its own media file's art (embedded picture, then sidecar image), else
  its `cover_image_url`;
- a playlist: the song of its first entry (by position) that has a cover by the
  song rule.

Only rows are read here; files are media.covers' business."""

from __future__ import annotations

from typing import Protocol

from media.covers import CoverSource


class CoverRepository(Protocol):
    def song_cover(self, song_id: int) -> CoverSource | None:
        """The song's cover sources, in one primary-key read; None when there is
        no such song."""
        ...

    def playlist_cover(self, playlist_id: int) -> CoverSource:
        """The cover sources of the first entry (by position) whose song has a
        media file with art or a cover_image_url; NO_COVER when none has. One
        read along the playlist_songs primary key (playlist_id, position), which
        stops at the first such entry. The caller checks the playlist exists and
        may be seen."""
        ...
