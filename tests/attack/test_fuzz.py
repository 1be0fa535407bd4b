"""Schema fuzzing: schemathesis generates requests from each service's OpenAPI
document, as a user and as an admin, and checks every response against it: no
server error, documented status codes, bodies and headers that match the schema,
and never a password or hash in a body. Some generated bodies are sent with
bytes that are not UTF-8 spliced in: those too must get a documented answer.

CI runs a fixed seed and a few examples per operation; `make fuzz` raises
FUZZ_EXAMPLES and draws a new seed (FUZZ_SEED replays one). Driven through
hypothesis directly: schemathesis' pytest plugin does not run on this pytest.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.attack.conftest import World
from tests.attack.walk import assert_no_secrets, shown_once_key

pytestmark = pytest.mark.fuzz

LONG_RUN = "FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("FUZZ_SEED", random.randrange(2**32) if LONG_RUN else 20260117))
ROLES = [("auth", "user"), ("album", "user"), ("album", "admin"), ("song", "user"),
         ("song", "admin"), ("user", "user"), ("user", "admin")]  # fmt: skip


@schemathesis.check
def no_secrets_in_body(ctx: Any, response: Any, case: Any) -> None:
    is_json = response.headers.get("content-type", [""])[0].startswith("application/json")
    if is_json and response.content:  # a HEAD response has no body
        request = response.request
        shown = shown_once_key(request.method, str(request.url), response.status_code)
        assert_no_secrets(response.json(), shown_once=shown)


def undecodable(case: Any) -> bytes | None:
    """The generated body serialized as its media type, with bytes that can start no
    UTF-8 sequence inside its first string (or in front); None without a body."""
    if case.media_type is None or isinstance(case.body, NotSet):
        return None
    if "json" in case.media_type:
        raw = json.dumps(case.body).encode()
    else:
        raw = urlencode(case.body if isinstance(case.body, dict) else {}, doseq=True).encode()
    at = raw.find(b'"') + 1
    return raw[:at] + b"\xff\xfe" + raw[at:]


@pytest.mark.parametrize(("service", "role"), ROLES, ids=[f"{s}-as-{r}" for s, r in ROLES])
def test_fuzz(
    service: str, role: str, clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    if LONG_RUN:
        print(f"\n{service} as {role}: FUZZ_SEED={SEED} FUZZ_EXAMPLES={EXAMPLES}")
    user_id = world.admin_id if role == "admin" else world.user_id
    headers = {"Authorization": f"Bearer {make_token(user_id, role)}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", clients[service].app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @given(case=operation.as_strategy(), spoil=st.booleans())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @seed(SEED)
        def check(case: Any, spoil: bool) -> None:
            raw = undecodable(case) if spoil else None
            case.call_and_validate(
                headers=headers,
                additional_checks=[no_secrets_in_body],
                # Opaque cursors and tokens are schema-valid strings the server
                # must still refuse; every other check applies.
                excluded_checks=[positive_data_acceptance],
                **({} if raw is None else {"data": raw}),
            )

        check()
