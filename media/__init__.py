"""Library code about audio files: tags, storage, streaming, covers, generated audio."""
