"""Receiving uploaded files: a multipart/form-data body parsed as it arrives
(python-multipart's streaming parser), each file part written straight to a
temporary file under MEDIA_DIR/.incoming, hashed on the way, and refused the
moment it passes the cap. Nothing is buffered in memory or in the system's
temporary folder first, and nothing is left behind: every file received is
deleted when the block ends (placing one keeps a hard link, media.storage.place).

Writes go to the file from the parser's callbacks, on the event loop: a chunk
is at most the size the server read (64 KiB), written to the page cache in a
few microseconds, less than a thread hop would cost.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from common.errors import ContentTooLargeError, InvalidInputError
from common.settings import Settings
from media.storage import INCOMING, root_dir

# A form field that is not a file is read and dropped; more than this is refused.
MAX_FIELD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """One uploaded file, complete on disk."""

    name: str  # the file name the client sent (never a path to use as is)
    path: Path  # under MEDIA_DIR/.incoming
    checksum: str  # SHA-256, hex
    size: int  # bytes


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    handle: int | None = None
    path: Path | None = None
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0


class _Receiver:
    """The parser's callbacks for one request (python-multipart calls them
    synchronously from `write`)."""

    def __init__(
        self, field_name: str, max_bytes: int, max_files: int, max_upload_mb: int, folder: Path
    ) -> None:
        self.field_name = field_name
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.max_upload_mb = max_upload_mb
        self.folder = folder
        self.received: list[ReceivedFile] = []
        self.part = _Part()
        self._header_name = b""
        self._header_value = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options or self.part.name != self.field_name:
            return  # another field: read and dropped
        if len(self.received) >= self.max_files:
            raise InvalidInputError(FILES, f"At most {self.max_files} files per upload")
        filename = options[b"filename"].decode("utf-8", "replace").replace("\x00", "")
        # Browsers send a bare name; some clients a path: keep its last part.
        self.part.filename = filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload"
        suffix = re.sub(r"[^a-z0-9.]", "", Path(self.part.filename).suffix.lower())[:8]
        self.part.handle, name = tempfile.mkstemp(dir=self.folder, suffix=suffix)
        self.part.path = Path(name)
        # Readable by the gateway's nginx (another user in the containers), which
        # sends the bytes once the file is placed; mkstemp makes it owner-only.
        os.fchmod(self.part.handle, 0o644)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        part.size += end - start
        if part.handle is None:
            if part.size > MAX_FIELD_BYTES:
                raise InvalidInputError(("body", part.name), "Form field too large")
            return
        if part.size > self.max_bytes:
            raise ContentTooLargeError(
                f"{part.filename}: larger than MAX_UPLOAD_MB ({self.max_upload_mb} MiB)"
            )
        chunk = data[start:end]
        part.digest.update(chunk)
        os.write(part.handle, chunk)

    def on_part_end(self) -> None:
        part = self.part
        if part.handle is None or part.path is None or part.filename is None:
            return
        os.close(part.handle)
        part.handle = None
        self.received.append(
            ReceivedFile(part.filename, part.path, part.digest.hexdigest(), part.size)
        )

    def close(self) -> None:
        """Close the part being written (a refusal mid-file) and delete every file."""
        if self.part.handle is not None:
            os.close(self.part.handle)
            self.part.handle = None
        paths = [file.path for file in self.received]
        if self.part.path is not None:
            paths.append(self.part.path)
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()


FILES = ("body", "files")


@contextlib.asynccontextmanager
async def received_files(
    request: Request, *, field_name: str, max_files: int, settings: Settings
) -> AsyncIterator[list[ReceivedFile]]:
    """The files of field `field_name` of a multipart/form-data request, each on
    disk under MEDIA_DIR/.incoming, in the order sent; all deleted when the block
    ends.

    Raises InvalidInputError (422) for a body that is not multipart/form-data or
    cannot be parsed, no file, or more than `max_files`; ContentTooLargeError
    (413) for a file over MAX_UPLOAD_MB, as soon as its bytes pass it."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInputError(FILES, "Send multipart/form-data with the files in `files`")
    folder = root_dir("media", settings) / INCOMING
    folder.mkdir(parents=True, exist_ok=True)
    max_bytes = settings.max_upload_mb * 1024 * 1024
    receiver = _Receiver(field_name, max_bytes, max_files, settings.max_upload_mb, folder)
    try:
        try:
            parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise InvalidInputError(FILES, "The multipart body could not be parsed") from exc
        if receiver.part.handle is not None:  # the body ended inside a file
            raise InvalidInputError(FILES, "The multipart body ended inside a file")
        if not receiver.received:
            raise InvalidInputError(FILES, "Send one or more files in the form field `files`")
        yield receiver.received
    finally:
        receiver.close()
