"""The `subsonic-response` envelope in XML (the default), JSON and JSONP
(OpenSubsonic reference: api-reference.md, Responses/Subsonic-response.md).

Methods return a neutral payload, rendered here once for every format:

- a dict is an element (XML) or an object (JSON); its scalar entries are XML
  attributes, its dict entries child elements, and its list entries repeated child
  elements of that name (`{"artist": [{…}, {…}]}` is two `<artist>` elements and
  one JSON array);
- the key `value` is an element's text in XML (`<genre songCount="3">Rock</genre>`)
  and stays `"value"` in JSON, as the reference shows for genres;
- None is left out of both; booleans are `true`/`false`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from fastapi.responses import Response

from subsonic_service.errors import SubsonicError

Payload = dict[str, Any]

API_VERSION = "1.16.1"  # the Subsonic REST API version the facade implements
SERVER_TYPE = "MusicPlayer"
SERVER_VERSION = "0.1.0"
XML_NAMESPACE = "http://subsonic.org/restapi"
FORMATS = ("xml", "json", "jsonp")
# A JSONP callback is spliced into JavaScript: only a dotted identifier may be.
CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
CALLBACK_MAX_LENGTH = 100
# XML 1.0 cannot carry these characters, even escaped; a tag could hold them.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def envelope(status: str, payload: Payload | None = None) -> Payload:
    """The response object: the OpenSubsonic header fields, then the payload."""
    body: Payload = {
        "status": status,
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": SERVER_VERSION,
        "openSubsonic": True,
    }
    body.update(payload or {})
    return body


def error_payload(error: SubsonicError) -> Payload:
    return {"error": {"code": error.code, "message": error.message, "helpUrl": error.help_url}}


def render(
    body: Payload,
    format: str,
    callback: str | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The envelope `body` as a response in `format` (xml, json or jsonp; the caller
    has checked it and, for jsonp, the callback)."""
    if format == "json":
        content = json.dumps({"subsonic-response": _pruned(body)}, ensure_ascii=False)
        return Response(content, status_code, dict(headers or {}), "application/json")
    if format == "jsonp":
        content = json.dumps({"subsonic-response": _pruned(body)}, ensure_ascii=False)
        return Response(
            f"{callback}({content});", status_code, dict(headers or {}), "text/javascript"
        )
    document = '<?xml version="1.0" encoding="UTF-8"?>' + _element(
        "subsonic-response", body, namespace=XML_NAMESPACE
    )
    return Response(document, status_code, dict(headers or {}), "text/xml; charset=utf-8")


def chosen_format(value: str | None) -> str:
    """The `f` parameter folded to a known format; xml when absent or unknown, since
    an error about `f` itself can only be said in the default format."""
    folded = (value or "xml").strip().lower()
    return folded if folded in FORMATS else "xml"


def valid_callback(value: str | None) -> bool:
    return bool(value) and len(value) <= CALLBACK_MAX_LENGTH and CALLBACK.match(value) is not None  # type: ignore[arg-type]


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _pruned(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_pruned(item) for item in value if item is not None]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_INVALID.sub("\ufffd", str(value))


def _element(name: str, value: Any, namespace: str | None = None) -> str:
    if not isinstance(value, dict):
        return f"<{name}>{escape(_text(value))}</{name}>"
    attributes = [f" xmlns={quoteattr(namespace)}"] if namespace else []
    children: list[str] = []
    text = ""
    for key, item in value.items():
        if item is None:
            continue
        if key == "value" and not isinstance(item, dict | list):
            text = escape(_text(item))
        elif isinstance(item, dict):
            children.append(_element(key, item))
        elif isinstance(item, list):
            children.extend(_element(key, entry) for entry in item if entry is not None)
        else:
            attributes.append(f" {key}={quoteattr(_text(item))}")
    opening = f"<{name}{''.join(attributes)}"
    if not children and not text:
        return f"{opening}/>"
    return f"{opening}>{text}{''.join(children)}</{name}>"
