"""album_service: the albums of the catalogue."""
