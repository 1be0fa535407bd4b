"""HTTP for uploads and library scans (API.md, Media): translate requests to
LibraryService calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response, status

from common.auth import AdminUser, AppAdmin
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import page_response
from common.schemas import ResourceId, error_responses
from media.uploads import received_files
from song_service.schemas import ScanOut, ScanStart, SongOut
from song_service.services.library import MAX_FILES_PER_UPLOAD, LibraryService

router = APIRouter(responses=error_responses(401, 403, 503))
Paging = Annotated[PageParams, Depends(page_params)]
UPLOAD_FILES = (
    f"One to {MAX_FILES_PER_UPLOAD} audio files (MP3, FLAC, Ogg Vorbis, Opus, M4A, WAV), "
    "each at most MAX_UPLOAD_MB"
)


def library_service(request: Request) -> LibraryService:
    """The app's LibraryService, made at start-up as `app.state.library`."""
    return request.app.state.library


# FastAPI documents its 422 only for what it validates itself; the upload's body
# is read by the route, whose 422s have the same list form.
VALIDATION_ERROR = {
    422: {
        "description": "Validation Error",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
        },
    }
}
# The body as OpenAPI (and Swagger's file picker) should show it: the route reads
# it itself, as it arrives (media.uploads), so FastAPI does not declare it.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "maxItems": MAX_FILES_PER_UPLOAD,
                            "description": UPLOAD_FILES,
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/songs/upload",
    tags=["songs"],
    status_code=status.HTTP_201_CREATED,
    response_model=list[SongOut],
    responses={**error_responses(409, 413, 415), **VALIDATION_ERROR},
    openapi_extra=UPLOAD_BODY,
    summary="Upload audio files: each becomes a song, with its artist and album",
)
async def upload_songs(request: Request, _: AdminUser) -> list[SongOut]:
    """Multipart form, field `files` repeated. Each file is written under
    MEDIA_DIR as it arrives, with its SHA-256, and refused (413) the moment it
    passes MAX_UPLOAD_MB. Tags are read from each file (title, artists, album,
    album artist, track/disc, genre, date, embedded cover); the artist and album
    are reused when they exist (folded names) and the songs linked in (disc,
    track) order. The files are kept under MEDIA_DIR.

    All or nothing: 409 `{"detail", "song_id"}` for a file already in the library
    (same bytes); 415 for a file that is not audio; 422 for a damaged or empty
    one, a body that is not multipart/form-data, or no file; 413 beyond
    MAX_UPLOAD_MB. After any refusal nothing of the request is kept, on disk or
    in the database."""
    library = library_service(request)
    async with received_files(
        request,
        field_name="files",
        max_files=MAX_FILES_PER_UPLOAD,
        settings=request.app.state.settings,
    ) as files:
        return await in_database(request, lambda: library.upload(files))


@router.post(
    "/library/scans",
    tags=["library"],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ScanOut,
    responses=error_responses(404, 409, 413),
    summary="Scan the library folder in the background",
)
async def start_scan(
    request: Request, caller: AppAdmin, body: Annotated[ScanStart | None, Body()] = None
) -> ScanOut:
    """Walks LIBRARY_DIR, or the folder `path` under it, in the background: new
    files are added, changed ones (path, size or mtime) re-read, songs whose files
    are gone removed with their likes, plays and playlist entries. 202 with the
    scan; follow it at GET /library/scans/{id}. One scan at a time: 409 with
    `detail` and the running `scan` while another is running. 404 for a folder
    not in the library."""
    path = body.path if body else None
    return await in_database(request, lambda: library_service(request).start_scan(path, caller))


@router.get(
    "/library/scans",
    tags=["library"],
    response_model=list[ScanOut],
    summary="Library scans, newest first (Link: rel=next)",
)
async def list_scans(request: Request, _: AdminUser, page: Paging) -> Response:
    """Every scan with its state and counts, newest first; paged with `limit`
    and `offset` or the `cursor` of the `Link` header."""
    result = await in_database(request, lambda: library_service(request).scans(page))
    return page_response(request, result, ScanOut)


@router.get(
    "/library/scans/{scan_id}",
    tags=["library"],
    response_model=ScanOut,
    responses=error_responses(404),
    summary="A library scan's state and counts",
)
async def get_scan(request: Request, scan_id: ResourceId, _: AdminUser) -> ScanOut:
    """`state` is queued, running, done or failed; `errors` lists files that could
    not be imported, with why."""
    return await in_database(request, lambda: library_service(request).get_scan(scan_id))
