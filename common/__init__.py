"""Cross-cutting code every MusicPlayer service imports: written once, never copied."""
