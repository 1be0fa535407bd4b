"""auth_service killed with SIGKILL while clients keep refreshing, then restarted on
the same port: no refresh token a client was handed is lost (API.md: refresh is one
atomic step; a token presented again within the grace window is a retry).

Each client walks several refresh chains in turn, always presenting the newest token
of a chain. When the kill cuts a request off, the client does not know whether that
refresh happened: after the restart it presents the same token again, which must
work either way (not applied: the token is unused; applied: a retry within the
grace window). Every other chain's newest token came in a 200 and was never
presented, so it must simply work."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.clients import client, log_in, refresh, sign_up
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

CLIENTS = 3
CHAINS_PER_CLIENT = 2
CRASHES = 3
REFRESHES_BEFORE_CRASH = 3  # per chain, in each round
# The restarted service's grace window is long enough to cover its own restart, so
# a retry of a refresh that did happen just before the kill is still a retry.
GRACE_AFTER_RESTART = {"REFRESH_REUSE_GRACE_SECONDS": "60"}
ROUND_TIMEOUT_SECONDS = 60.0


@dataclass
class Chain:
    name: str
    token: str
    refreshed: int = 0
    cut_off: bool = False  # its last request got no response


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


def keep_refreshing(fleet: Fleet, chains: list[Chain], errors: list[str]) -> None:
    """Refresh the chains in turn until the service goes away (or time runs out)."""
    deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
    with client() as own:
        while time.monotonic() < deadline:
            for chain in chains:
                try:
                    response = refresh(own, fleet, chain.token)
                except httpx.TransportError:
                    chain.cut_off = True
                    return
                if response.status_code != 200:
                    errors.append(f"{chain.name} before the crash: {response.status_code}")
                    return
                chain.token = response.json()["refresh_token"]
                chain.refreshed += 1


def crash_while_refreshing(fleet: Fleet, groups: list[list[Chain]]) -> list[str]:
    errors: list[str] = []
    for chain in (c for group in groups for c in group):
        chain.refreshed, chain.cut_off = 0, False
    threads = [
        threading.Thread(target=keep_refreshing, args=(fleet, group, errors), daemon=True)
        for group in groups
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
    chains = [c for group in groups for c in group]
    while min(c.refreshed for c in chains) < REFRESHES_BEFORE_CRASH and not errors:
        assert time.monotonic() < deadline, "the clients made no progress"
        time.sleep(0.02)
    time.sleep(random.uniform(0, 0.05))
    fleet.kill("auth")
    for thread in threads:
        thread.join(timeout=ROUND_TIMEOUT_SECONDS)
        assert not thread.is_alive()
    return errors


def test_no_refresh_token_is_lost_when_auth_service_is_killed(
    http: httpx.Client, fleet: Fleet
) -> None:
    account = sign_up(http, fleet)
    groups = [
        [
            Chain(
                f"chain {g}.{i}",
                log_in(http, fleet, account.email, account.password)["refresh_token"],
            )
            for i in range(CHAINS_PER_CLIENT)
        ]
        for g in range(CLIENTS)
    ]
    try:
        for crash in range(CRASHES):
            errors = crash_while_refreshing(fleet, groups)
            assert errors == [], f"crash {crash}"
            fleet.start("auth", GRACE_AFTER_RESTART)
            lost = []
            for chain in (c for group in groups for c in group):
                response = refresh(http, fleet, chain.token)
                if response.status_code == 200:
                    chain.token = response.json()["refresh_token"]
                else:
                    how = "cut off by the kill" if chain.cut_off else "received in a 200"
                    lost.append(f"{chain.name} ({how}): {response.status_code} {response.text}")
            assert lost == [], f"crash {crash}"
    finally:
        # Back to the fleet's own settings for the tests that follow.
        if fleet.processes["auth"].poll() is None:
            fleet.stop_service("auth")
        fleet.start("auth")
