"""song_service: the songs of the catalogue."""
