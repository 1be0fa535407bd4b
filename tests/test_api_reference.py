"""The repository carries its own API reference, and it is current: docs/API.md
and docs/openapi/*.json are what `make api-docs` generates from the code now.
The README links only files inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from scripts import api_docs

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_checked_in_api_reference_is_current() -> None:
    files = api_docs.render(api_docs.documents())
    outdated = [str(path.relative_to(ROOT)) for path in api_docs.stale(files)]
    assert outdated == [], f"out of date: {outdated}; run `make api-docs` and commit the result"
    reference = files[api_docs.DOCS / "API.md"]
    for service in api_docs.SERVICES:
        assert f"## {service}" in reference


def test_the_reference_lists_every_operation() -> None:
    docs = api_docs.documents()
    reference = (ROOT / "docs" / "API.md").read_text()
    for doc in docs.values():
        for path in doc["paths"]:
            assert f"| `{path}` |" in reference, path


def test_the_readme_links_only_files_in_the_repository() -> None:
    for document in (ROOT / "README.md", ROOT / "docs" / "API.md"):
        for target in LINK.findall(document.read_text()):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            path = target.split("#", 1)[0]
            assert not path.startswith("/"), (
                f"{document.name} links {target}: not in the repository"
            )
            resolved = (document.parent / path).resolve()
            assert resolved.is_relative_to(ROOT), f"{document.name} links {target} outside"
            assert resolved.exists(), f"{document.name} links {target}: no such file"
    assert "docs/API.md" in (ROOT / "README.md").read_text()
