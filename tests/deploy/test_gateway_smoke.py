"""docker-compose.yml run without Docker: each compose service's own command and
environment as a local process (service hostnames -> 127.0.0.1, volumes -> temporary
folders, SQL Server -> a SQLite file), Debian's nginx with gateway/nginx.conf in
front, and a browser's session driven through the gateway's port only. Ports are
moved to free ones (a developer's `make run` may hold 8000-8004), so host names
and port numbers are all that differ from the containers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import missing
from tests.deploy.compose import (
    APP_SERVICES,
    COMPOSE_FILE,
    dockerfile_stages,
    load_compose,
    local_gateway_argv,
    mounts,
    option,
    service_command,
    service_environment,
    service_host,
    write_project,
)
from tests.e2e.fleet import (
    REPO_ROOT,
    SETTINGS_VARIABLES,
    Fleet,
    free_ports,
    stop,
    wait_until_ready,
)

pytestmark = pytest.mark.e2e

FRONTEND = "http://frontend.test:5173"
DOCS = {"auth": "auth_service", "albums": "album_service", "songs": "song_service"}
DOCS["users"] = "user_service"
DOCS["subsonic"] = "subsonic_service"
# Where each service's paths start (auth_service's also at /.well-known).
PATHS = {"auth": "/", "albums": "/albums", "songs": "/songs", "users": "/users"}
PATHS["subsonic"] = "/rest/"
Ports = dict[str, tuple[int, int]]


def localise(env: dict[str, str], service: dict[str, Any], ports: Ports, tmp: Path) -> dict:
    """What compose's network and volumes provide, on this machine."""
    local = {}
    for key, value in env.items():
        for name, (port, local_port) in ports.items():  # //user-service:8003 -> //127.0.0.1:N
            for host in (name, service_host(name)):
                value = value.replace(f"//{host}:{port}", f"//127.0.0.1:{local_port}")
        for mount in mounts(service):
            value = value.replace(mount.target, str(tmp / "volumes" / mount.source))
        local[key] = value
    # SQL Server cannot run here; DATABASE_URL wins over DB_HOST & co.
    local["DATABASE_URL"] = f"sqlite:///{tmp / 'musicplayer.db'}"
    return local


def process_argv(argv: list[str]) -> list[str]:
    """The image's `python` and `uvicorn` are this interpreter's."""
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    if argv[0] == "uvicorn":
        return [sys.executable, "-m", "uvicorn", *argv[1:]]
    return argv


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        missing("nginx is not installed: apt-get install nginx")

    tmp = tmp_path_factory.mktemp("compose")
    # Picked now: the gateway's address is the stack's PUBLIC_URL (Link headers).
    gateway_port = free_ports(1)[0]
    env_values = write_project(
        tmp,
        CORS_ORIGINS=FRONTEND,
        LOG_LEVEL="INFO",
        PUBLIC_URL=f"http://127.0.0.1:{gateway_port}",
        # The .env.example placeholder is refused (user_service.admin), as it should be.
        ADMIN_PASSWORD="smoke-admin-password-123",
    )
    services = load_compose([COMPOSE_FILE], env_values)["services"]
    stages = dockerfile_stages()
    # service -> (its port in compose, the free local port standing in for it)
    ports: Ports = {
        name: (int(option(service_command(services[name], stages), "--port") or 0), free)
        for name, free in zip(APP_SERVICES, free_ports(len(APP_SERVICES)), strict=True)
    }
    base_env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    base_env.update(PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1")

    def environment(name: str) -> dict[str, str]:
        compose_env = service_environment(services[name], tmp)
        return {**base_env, **localise(compose_env, services[name], ports, tmp)}

    for service in services.values():  # named volumes exist before anything runs
        for mount in mounts(service):
            if not mount.source.startswith("."):
                (tmp / "volumes" / mount.source).mkdir(parents=True, exist_ok=True)
    for name in ("keys", "migrate", "admin"):  # the one-shot jobs, in order
        done = subprocess.run(
            process_argv(service_command(services[name], stages)),
            cwd=tmp,
            env=environment(name),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{name}: {done.stdout}\n{done.stderr}"

    processes: dict[str, subprocess.Popen[bytes]] = {}
    fleet = Fleet(urls={})
    try:
        for name in APP_SERVICES:
            local_port = ports[name][1]
            argv = service_command(services[name], stages)
            argv[argv.index("--port") + 1] = str(local_port)
            fleet.urls[name] = f"http://127.0.0.1:{local_port}"
            fleet.logs[name] = tmp / f"{name}.log"
            with fleet.logs[name].open("wb") as log:
                processes[name] = subprocess.Popen(
                    process_argv(argv),
                    cwd=tmp,
                    env=environment(name),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        wait_until_ready(fleet, processes)

        # The gateway: the same config and compose's own arguments, with only the
        # hosts, ports and volume paths changed (tests.deploy.compose).
        volumes = {
            mount.source: tmp / "volumes" / mount.source
            for mount in mounts(services["gateway"])
            if not mount.source.startswith(".")
        }
        gateway_argv = local_gateway_argv(
            nginx,
            services["gateway"],
            port=gateway_port,
            upstreams={name: f"127.0.0.1:{local}" for name, (_, local) in ports.items()},
            volumes=volumes,
            work=tmp,
            loopback_port=free_ports(1)[0],
        )
        fleet.logs["gateway"] = tmp / "gateway.log"
        with fleet.logs["gateway"].open("wb") as log:
            processes["gateway"] = subprocess.Popen(
                gateway_argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        fleet.urls["gateway"] = f"http://127.0.0.1:{gateway_port}"
        wait_until_ready(fleet, {"gateway": processes["gateway"]}, "/health")
        yield {**env_values, "GATEWAY": fleet.urls["gateway"], "PROJECT_DIR": str(tmp)}
    finally:
        stop(processes)


@pytest.fixture(scope="module")
def http(stack: dict[str, str]) -> Iterator[httpx.Client]:
    # The gateway's port only: every request below goes through nginx.
    with httpx.Client(base_url=stack["GATEWAY"], timeout=20, trust_env=False) as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    body = ok(http.post("/auth/login", json={"email": email, "password": password}))
    return {"Authorization": f"Bearer {body['auth_token']}"}


def test_a_browser_signs_up_logs_in_browses_and_likes(
    stack: dict[str, str], http: httpx.Client
) -> None:
    # The preflight a browser sends before a JSON sign-up from the frontend's origin.
    preflight = http.options(
        "/users",
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == FRONTEND
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed

    unique = uuid.uuid4().hex[:8]
    email, password = f"fan.{unique}@example.com", f"pw-{unique}-long"
    signed_up = http.post(
        "/users",
        json={"username": f"fan_{unique}", "email": email, "password": password, "first_name": "F"},
        headers={"Origin": FRONTEND},
    )
    ok(signed_up, 201)
    assert signed_up.headers["access-control-allow-origin"] == FRONTEND
    user = login(http, email, password)
    assert ok(http.get("/users/me", headers=user))["email"] == email

    admin = login(http, stack["ADMIN_EMAIL"], stack["ADMIN_PASSWORD"])
    genre = f"smoke-{unique}"
    song = {"artist": "Gateway", "genre": genre, "file_url": "/audio/smoke.mp3"}
    songs = [
        ok(http.post("/songs", json={**song, "title": f"Song {n}"}, headers=admin), 201)
        for n in range(2)
    ]
    ok(
        http.post(
            "/albums", json={"title": "A", "artist": "Gateway", "genre": genre}, headers=admin
        ),
        201,
    )

    page = http.get("/songs", params={"genre": genre, "limit": 1})
    assert [song["id"] for song in ok(page)] == [songs[0]["id"]]
    # PUBLIC_BASE_URL (compose: $PUBLIC_URL) puts the next page on the gateway's
    # origin, whatever Host the client sent.
    assert page.headers["link"].startswith(f"<{stack['GATEWAY']}/songs?")
    forged = http.get("/songs", params={"genre": genre, "limit": 1},
                      headers={"Host": "evil.example"})  # fmt: skip
    assert forged.headers["link"].startswith(f"<{stack['GATEWAY']}/songs?")

    liked = ok(http.post(f"/songs/{songs[1]['id']}/like", headers=user))
    assert liked["liked"] is True and liked["like_count"] == 1
    assert ok(http.get(f"/songs/{songs[1]['id']}", headers=user))["liked_by_me"] is True
    assert ok(http.get("/.well-known/jwks.json"))["keys"]


@pytest.mark.parametrize("prefix", sorted(DOCS))
def test_each_service_docs_work_under_their_prefix(
    prefix: str, stack: dict[str, str], http: httpx.Client
) -> None:
    page = http.get(f"/docs/{prefix}", follow_redirects=True)
    assert page.status_code == 200 and page.url.path == f"/docs/{prefix}/docs"
    assert f"'/docs/{prefix}/openapi.json'" in page.text
    # Swagger's and ReDoc's assets come from the service, through the same prefix.
    for docs_page in (page, http.get(f"/docs/{prefix}/redoc")):
        assets = re.findall(r'(?:src|href)="([^"]+)"', docs_page.text)
        assert assets and all(asset.startswith(f"/docs/{prefix}/") for asset in assets)
        for asset in assets:
            assert http.get(asset).status_code == 200, asset

    schema = ok(http.get(f"/docs/{prefix}/openapi.json"))
    # "Try it out" calls the server listed here, i.e. through the same prefix.
    assert schema["servers"] == [{"url": f"/docs/{prefix}"}]
    assert any(path.startswith(PATHS[prefix]) for path in schema["paths"])
    assert ok(http.get(f"/docs/{prefix}/health"))["service"] == DOCS[prefix]
    for scheme in schema.get("components", {}).get("securitySchemes", {}).values():
        token_url = scheme["flows"]["password"]["tokenUrl"]
        assert token_url == f"{stack['PUBLIC_URL']}/auth/token"


def test_the_gateway_refuses_oversized_request_heads(http: httpx.Client) -> None:
    assert http.get("/health", headers={"X-Big": "a" * 9000}).status_code == 400
    assert ok(http.get("/health", headers={"X-Fine": "a" * 4000}))["service"] == "gateway"


def test_a_forged_prefix_header_is_dropped(stack: dict[str, str], http: httpx.Client) -> None:
    """The gateway sets X-Forwarded-Prefix itself, whatever the client sent."""
    schema = ok(http.get("/docs/songs/openapi.json", headers={"X-Forwarded-Prefix": "/evil"}))
    assert schema["servers"] == [{"url": "/docs/songs"}]


def envelope(response: httpx.Response) -> dict[str, Any]:
    """The JSON `subsonic-response` of an answer (HTTP 200, as Subsonic answers)."""
    body = ok(response)
    assert set(body) == {"subsonic-response"}, body
    return dict(body["subsonic-response"])


@pytest.mark.parametrize(
    "path", ["/rest/getOpenSubsonicExtensions", "/rest/getOpenSubsonicExtensions.view"]
)
def test_subsonic_apps_reach_the_facade_through_the_gateway(path: str, http: httpx.Client) -> None:
    """OpenSubsonic's discovery call needs no credentials; ping does."""
    found = envelope(http.get(path, params={"f": "json"}))
    assert (found["status"], found["openSubsonic"]) == ("ok", True)
    names = {extension["name"] for extension in found["openSubsonicExtensions"]}
    assert {"apiKeyAuthentication", "formPost"} <= names
    # XML unless `f` says otherwise; HEAD as GET without the body.
    xml = http.get(path)
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("text/xml")
    assert "<subsonic-response " in xml.text and 'status="ok"' in xml.text
    head = http.head(path)
    assert (head.status_code, head.content) == (200, b"")
    # formPost: the parameters in a form body.
    posted = http.post(path, data={"f": "json"})
    assert envelope(posted)["openSubsonicExtensions"] == found["openSubsonicExtensions"]

    ping = path.replace("getOpenSubsonicExtensions", "ping")
    refused = envelope(http.get(ping, params={"f": "json", "v": "1.16.1", "c": "smoke"}))
    assert (refused["status"], refused["error"]["code"]) == ("failed", 10), refused
    # One trace across the gateway: the client's request id comes back.
    traced = http.get(path, params={"f": "json"}, headers={"X-Request-ID": "smoke-subsonic-1"})
    assert traced.headers["x-request-id"] == "smoke-subsonic-1"


def test_a_subsonic_api_key_is_checked_by_auth_service_behind_the_gateway(
    stack: dict[str, str], http: httpx.Client
) -> None:
    """subsonic_service reaches auth_service at compose's AUTH_SERVICE_URL: a key made
    through the gateway signs a Subsonic call in; a made-up one is refused (44)."""
    unique = uuid.uuid4().hex[:8]
    email, password = f"app.{unique}@example.com", f"pw-{unique}-long"
    body = {"username": f"app_{unique}", "email": email, "password": password, "first_name": "A"}
    ok(http.post("/users", json=body), 201)
    made = ok(http.post("/auth/api-keys", json={"name": "smoke"},
                        headers=login(http, email, password)), 201)  # fmt: skip
    params = {"f": "json", "v": "1.16.1", "c": "smoke"}
    pong = envelope(http.get("/rest/ping.view", params={**params, "apiKey": made["key"]}))
    assert pong["status"] == "ok", pong
    # The same as a form body, where apps put credentials to keep them out of URLs.
    posted = envelope(http.post("/rest/ping.view", data={**params, "apiKey": made["key"]}))
    assert posted["status"] == "ok", posted
    wrong = envelope(http.get("/rest/ping.view", params={**params, "apiKey": "x" * 40}))
    assert (wrong["status"], wrong["error"]["code"]) == ("failed", 44), wrong
    # No log line holds a key, the gateway's (which logs /rest without the query)
    # or a service's.
    time.sleep(0.3)  # nginx writes its access line after the answer
    logs = Path(stack["PROJECT_DIR"])
    for log in [logs / "gateway.log", *logs.glob("*_service.log")]:
        text = log.read_text(errors="replace")
        assert made["key"] not in text and "x" * 40 not in text, log.name
    assert '"GET /rest/ping.view HTTP/1.1" 200' in (logs / "gateway.log").read_text()
    # The exchange subsonic_service uses is not reachable through the gateway: an
    # app password or key must not buy a token outside a Subsonic call.
    for path in ("/auth/subsonic/token", "/auth/subsonic/token/", "/auth/subsonic/x"):
        refused = http.post(path, json={"api_key": made["key"]})
        assert refused.status_code == 404, (path, refused.text)


def test_form_posts_up_to_the_services_body_cap_pass_the_gateway(
    stack: dict[str, str], http: httpx.Client
) -> None:
    """A long form body (a playlist's thousands of ids, say) is the service's to cap
    (MAX_BODY_BYTES, 1 MiB by default), not the gateway's: just under it passes."""
    cap = 1024 * 1024
    path = "/rest/getOpenSubsonicExtensions.view"
    posted = http.post(path, data={"f": "json", "x": "a" * (cap - 1024)})
    assert envelope(posted)["status"] == "ok"


def test_the_subsonic_route_exposes_no_docs_of_its_own(http: httpx.Client) -> None:
    """/rest/... reaches only the Subsonic methods; the facade's Swagger page and
    document are under /docs/subsonic/ like every service's."""
    for path in ("/rest/docs", "/rest/openapi.json", "/rest/redoc", "/rest/../docs"):
        answer = http.get(path)
        assert "swagger" not in answer.text.lower() and '"openapi"' not in answer.text, path
    for path in ("/openapi.json", "/docs", "/redoc", "/health/ready"):
        assert http.get(path).status_code == 404, path


@pytest.mark.parametrize("prefix", sorted(DOCS))
def test_no_service_metrics_through_the_gateway(prefix: str, http: httpx.Client) -> None:
    """Prometheus scrapes the services on their own ports; through the gateway
    /docs/<name>/metrics, however spelt, is nginx's own 404 (no X-Request-ID: the
    service never saw it), while the prefix still reaches the service."""
    assert ok(http.get(f"/docs/{prefix}/health"))["service"] == DOCS[prefix]
    for path in (
        f"/docs/{prefix}/metrics",
        f"/docs/{prefix}/metrics/",
        f"/docs/{prefix}//metrics",
        f"/docs/{prefix}/%6Detrics",
        f"/docs/{prefix}/x/../metrics",
        "/metrics",
    ):
        answer = http.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert "x-request-id" not in answer.headers, path
        assert "# HELP" not in answer.text, path
