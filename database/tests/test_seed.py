from __future__ import annotations

from sqlalchemy import func, select

from database import Database
from database.models import Album, AlbumSong, Song
from database.seed import seed


def test_seed_loads_a_linked_catalogue_once(database: Database) -> None:
    albums, songs = seed(database)
    assert albums >= 30 and songs >= 300
    assert seed(database) == (0, 0)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Album)) == albums
        assert session.scalar(select(func.count()).select_from(Song)) == songs
        assert session.scalar(select(func.count()).select_from(AlbumSong)) == songs
        tracks = session.scalars(
            select(AlbumSong.track_number)
            .where(AlbumSong.album_id == 1)
            .order_by(AlbumSong.track_number)
        ).all()
        assert tracks == list(range(1, len(tracks) + 1))
        assert session.scalar(select(func.count()).where(Song.duration.is_(None))) == 0
