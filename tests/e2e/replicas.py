"""The real gateway in front of several replicas of every service, for end-to-end
tests: gateway/nginx.conf run by Debian's nginx as tests/deploy runs it
(tests.deploy.compose.local_gateway_argv), with each service's upstream listing
all of its replicas, as a load balancer in front of scaled-out services would."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.databases import missing
from tests.deploy.compose import COMPOSE_FILE, load_compose, local_gateway_argv, write_project
from tests.e2e.fleet import SERVICES, Fleet, free_ports, stop, wait_until_ready

# An upstream block: `upstream <name> { ...directives... }` (no nested blocks in one).
_UPSTREAM_BLOCK = re.compile(r"upstream\s+(?P<name>[\w.-]+)\s*\{(?P<body>[^{}]*)\}")
_SERVER_DIRECTIVE = re.compile(r"\s*\bserver\s+[^;]*;")


def _folded(name: str) -> str:
    return name.replace("-", "_")


def replicated_upstreams(
    conf: str,
    servers: Mapping[str, Sequence[str]],
    *,
    max_fails: int = 1,
    fail_timeout_seconds: int = 10,
) -> str:
    """`conf` (an nginx config) with the `server` lines of each upstream named in
    `servers` (upstream name -> ["127.0.0.1:8123", ...]) replaced by one line per
    address, in order, each `max_fails=... fail_timeout=...s`: after `max_fails`
    failed attempts (a refused connection, a reset, a timeout) within
    `fail_timeout_seconds` nginx leaves that server alone for as long, and round
    robin goes on over the others. The block's other directives (keepalive) stay.
    Blocks are found by their name, whatever host name their server lines use
    (auth_service:8000, auth-service:8000, ...), and `auth_service` names the block
    `auth-service` too. ValueError when a named upstream is missing or appears twice."""
    wanted = {_folded(name): list(addresses) for name, addresses in servers.items()}
    names = {_folded(name): name for name in servers}
    found: dict[str, int] = {}

    def rewrite(match: re.Match[str]) -> str:
        name = match.group("name")
        key = _folded(name)
        if key not in wanted:
            return match.group(0)
        found[key] = found.get(key, 0) + 1
        others = _SERVER_DIRECTIVE.sub("", match.group("body")).strip()
        # A shared zone: every nginx worker then knows at once that a replica was
        # marked down, not only the worker that saw it fail (a POST is never
        # retried on the other replica, so each worker's own discovery would be a
        # 502 of its own).
        lines = [
            f"zone {name}_replicas 64k;",
            *(
                f"server {address} max_fails={max_fails} fail_timeout={fail_timeout_seconds}s;"
                for address in wanted[key]
            ),
        ]
        return f"upstream {name} {{ {' '.join([*lines, others]).strip()} }}"

    result = _UPSTREAM_BLOCK.sub(rewrite, conf)
    wrong = {name: found.get(key, 0) for key, name in names.items() if found.get(key, 0) != 1}
    if wrong:
        raise ValueError(f"upstream blocks found (name: times), wanted each once: {wrong}")
    return result


# What local_gateway_argv first puts in the upstream server lines, which
# replicated_upstreams then replaces (a port nothing listens on, never used).
_PLACEHOLDER = "127.0.0.1:9"


class _AnyUpstream(dict[str, str]):
    """local_gateway_argv's `upstreams` when replicated_upstreams rewrites the server
    lines afterwards: every compose service name maps to the placeholder, and so
    does any other name it looks up (whether it keys them by the compose service,
    auth_service, or by the host name in the conf, auth-service)."""

    def __init__(self) -> None:
        super().__init__({f"{service}_service": _PLACEHOLDER for service in SERVICES})

    def __missing__(self, key: str) -> str:
        return _PLACEHOLDER


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        missing("nginx is not installed: apt-get install nginx")
    return nginx


@contextmanager
def replicated_gateway(
    fleet: Fleet, work: Path, *, max_fails: int = 1, fail_timeout_seconds: int = 10
) -> Iterator[str]:
    """gateway/nginx.conf in front of `fleet` (started with `replicas`), its
    upstream `<service>_service` listing every replica of that service (round
    robin, see replicated_upstreams); the media volumes are the fleet's DATA_DIR
    folders (`work` must be it: MEDIA_DIR and LIBRARY_DIR are under it). nginx's
    output goes to fleet.logs["gateway"]. Yields the gateway's base URL once its
    /health answers; stops nginx after."""
    gateway = load_compose([COMPOSE_FILE], write_project(work))["services"]["gateway"]
    port, loopback_port = free_ports(2)
    argv = local_gateway_argv(
        nginx_binary(),
        gateway,
        port=port,
        upstreams=_AnyUpstream(),
        volumes={"media": work / "media", "library": work / "library"},
        work=work,
        loopback_port=loopback_port,
    )
    # local_gateway_argv wrote the config there; only its upstreams change now.
    conf_path = work / "gateway" / "nginx.conf"
    servers = {
        f"{service}_service": [
            fleet.urls[name].removeprefix("http://") for name in fleet.replicas_of(service)
        ]
        for service in SERVICES
    }
    conf_path.write_text(
        replicated_upstreams(
            conf_path.read_text(),
            servers,
            max_fails=max_fails,
            fail_timeout_seconds=fail_timeout_seconds,
        )
    )
    fleet.logs["gateway"] = work / "gateway.log"
    url = f"http://127.0.0.1:{port}"
    with fleet.logs["gateway"].open("wb") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    processes = {"gateway": process}
    fleet.urls["gateway"] = url
    try:
        wait_until_ready(fleet, processes, "/health")
        yield url
    finally:
        stop(processes)
        del fleet.urls["gateway"]
