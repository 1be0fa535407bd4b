"""Every operation documents the error statuses it can answer, so clients (and the
schema fuzzer) can rely on the OpenAPI documents."""

from __future__ import annotations

from fastapi.testclient import TestClient

BODY_METHODS = {"post", "put", "patch"}
NO_DATABASE = {"/health", "/.well-known/jwks.json"}  # answered from memory


def test_error_statuses_are_documented(clients: dict[str, TestClient]) -> None:
    missing: list[str] = []
    for service, client in clients.items():
        for path, item in client.get("/openapi.json").json()["paths"].items():
            for method, operation in item.items():
                documented = set(operation["responses"])
                expected = set()
                if path not in NO_DATABASE:
                    expected.add("503")  # the database may be down
                if operation.get("parameters") or operation.get("requestBody"):
                    expected.add("422")
                if operation.get("security"):
                    expected.add("401")
                if method in BODY_METHODS and operation.get("requestBody"):
                    expected.add("413")
                for status in sorted(expected - documented):
                    missing.append(f"{service} {method.upper()} {path}: {status}")
    assert missing == []
