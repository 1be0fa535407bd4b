"""HTTP/1.1 as the gateway's keep-alive connections use it, against the real
server processes: an answer must never leave a connection unusable."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from tests.e2e.fleet import Fleet


@pytest.mark.parametrize(
    ("service", "head_path"),
    [("song", "/songs?limit=2"), ("album", "/albums"), ("auth", "/auth/login")],
    ids=["page", "another service", "a POST-only route (405)"],
)
def test_head_then_get_on_one_keep_alive_connection(
    fleet: Fleet, service: str, head_path: str
) -> None:
    """HEAD gets GET's status and headers without a body (RFC 9110, 9.3.2), and
    the same connection then answers the next request."""
    address = urlsplit(fleet.urls[service])
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", head_path)
        got = connection.getresponse()
        get_status, get_body = got.status, got.read()
        connection.request("HEAD", head_path)
        head = connection.getresponse()
        assert head.status == get_status
        assert head.read() == b""
        assert head.getheader("content-length") == str(len(get_body))
        assert head.getheader("connection") != "close"
        connection.request("GET", "/health")
        after = connection.getresponse()
        assert after.status == 200, after.read()
        assert b'"status":"ok"' in after.read()
    finally:
        connection.close()
