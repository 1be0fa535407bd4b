"""The container setup checked without a Docker engine: compose accepts the files,
the Dockerfile copies what exists and runs what imports, and ports, healthchecks
and routes agree between the Dockerfile, docker-compose.yml and the gateway."""

from __future__ import annotations

import importlib
import importlib.util
import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from starlette.routing import Route

from common.settings import Settings
from tests.deploy.compose import (
    APP_SERVICES,
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    GATEWAY_CONF,
    POSTGRES_OVERRIDE,
    REPO_ROOT,
    compose_config,
    dockerfile_stages,
    exec_form,
    gateway_location_blocks,
    gateway_locations,
    gateway_upstreams,
    healthcheck_argv,
    load_compose,
    mounts,
    option,
    read_env_file,
    service_command,
    service_environment,
    service_host,
    stage_setting,
    write_project,
)

VARIANTS = {"sqlserver": [COMPOSE_FILE], "postgres": [COMPOSE_FILE, POSTGRES_OVERRIDE]}


@pytest.fixture(scope="module")
def project() -> dict:
    return load_compose([COMPOSE_FILE], read_env_file(ENV_EXAMPLE))["services"]


@pytest.fixture(scope="module")
def stages() -> dict:
    return dockerfile_stages()


@pytest.fixture(scope="module")
def gateway() -> str:
    return GATEWAY_CONF.read_text()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_docker_compose_accepts_the_files(variant: str, tmp_path: Path) -> None:
    write_project(tmp_path)
    done = compose_config(tmp_path, VARIANTS[variant], "-q")
    assert done.returncode == 0, done.stderr


def test_our_reading_of_compose_matches_docker_compose(tmp_path: Path) -> None:
    """The smoke test builds processes from load_compose; it must see what compose sees."""
    env = write_project(tmp_path)
    for files in VARIANTS.values():
        done = compose_config(tmp_path, files)
        assert done.returncode == 0, done.stderr
        theirs = yaml.safe_load(done.stdout)["services"]
        ours = load_compose(files, env)["services"]
        for name in ("keys", "migrate", "admin", *APP_SERVICES):
            assert theirs[name]["environment"] == service_environment(ours[name], tmp_path)


def test_postgres_variant_runs_without_sql_server() -> None:
    services = load_compose(VARIANTS["postgres"], read_env_file(ENV_EXAMPLE))["services"]
    assert services["sqlserver"]["profiles"] == ["sqlserver"]  # off unless asked for
    for name in ("migrate", *APP_SERVICES):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        # migrate waits for the server itself: a depends_on on a switched-off
        # service would make compose refuse the whole project.
        assert "sqlserver" not in services[name].get("depends_on", {})


def test_every_copy_source_exists(stages: dict) -> None:
    for stage in stages.values():
        for keyword, args in stage.instructions:
            if keyword == "COPY" and "--from=" not in args:
                *sources, _ = args.split()
                for source in sources:
                    assert (REPO_ROOT / source).exists(), f"COPY {source}: no such path"


def test_images_leave_out_tests_secrets_and_dev_tools(stages: dict) -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for pattern in (".env", ".venv", "data", "**/tests", "tests"):
        assert pattern in ignored
    copies = [a for s in stages.values() for k, a in s.instructions if k == "COPY"]
    assert not any("requirements-dev" in args for args in copies)
    assert stage_setting(stages, "runtime", "USER") == "musicplayer"


def test_one_shot_commands_run_modules_that_exist(project: dict, stages: dict) -> None:
    for name in ("keys", "migrate", "admin"):
        argv = service_command(project[name], stages)
        assert argv[:2] == ["python", "-m"], argv
        assert importlib.util.find_spec(argv[2]) is not None, argv


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_command_port_healthcheck_and_gateway_agree(
    name: str, project: dict, stages: dict, gateway: str
) -> None:
    service = project[name]
    target = service["build"]["target"]
    argv = service_command(service, stages)
    # common.server: uvicorn with the fleet's HTTP limits, the one way services start.
    assert argv[:4] == ["python", "-m", "common.server", name], argv
    assert callable(importlib.import_module(f"{name}.main").create_app)

    port = int(option(argv, "--port") or 0)
    assert stage_setting(stages, target, "EXPOSE") == str(port)
    assert option(argv, "--host") == "0.0.0.0"  # noqa: S104 - comparing, not binding
    # Behind the gateway: X-Forwarded-* are believed from the gateway's fixed
    # address alone (FORWARDED_ALLOW_IPS, common.client_address), never from anyone.
    assert option(argv, "--forwarded-allow-ips") is None
    gateway_address = project["gateway"]["networks"]["default"]["ipv4_address"]
    trusted = service["environment"]["FORWARDED_ALLOW_IPS"].split(",")
    if name == "auth_service":
        # subsonic_service names its caller when it exchanges Subsonic credentials.
        subsonic_address = project["subsonic_service"]["networks"]["default"]["ipv4_address"]
        assert trusted == [gateway_address, subsonic_address]
    else:
        assert trusted == [gateway_address]

    check = " ".join(healthcheck_argv(stages, target))
    url = urlsplit(re.search(r"http://[^'\"\s]+", check).group(0))  # type: ignore[union-attr]
    assert url.port == port and url.path == "/health/ready"
    # The gateway calls it by its hyphenated alias, the Kubernetes Service's name too.
    assert gateway_upstreams(gateway)[name] == (service_host(name), port)
    assert service["networks"]["default"]["aliases"] == [service_host(name)]
    # The services are reached through the gateway only.
    assert "ports" not in service


@pytest.mark.parametrize("name", APP_SERVICES)
def test_gateway_routes_every_endpoint_to_its_service(name: str, gateway: str) -> None:
    app = importlib.import_module(f"{name}.main").create_app(Settings(_env_file=None))
    locations = gateway_locations(gateway)
    for route in app.routes:
        if not isinstance(route, Route) or route.path.startswith(("/health", "/docs", "/redoc")):
            continue
        # /metrics is for Prometheus on the cluster network, never through the
        # gateway (test_the_gateway_never_routes_a_services_metrics).
        if route.path in ("/openapi.json", "/metrics"):
            continue
        owner = [loc for loc in locations if route.path.startswith(loc)]
        assert owner, f"{route.path} of {name} is not routed by the gateway"
        assert locations[max(owner, key=len)] == name, route.path
    docs = [loc for loc, upstream in locations.items() if loc.startswith("/docs/")]
    assert [loc for loc in docs if locations[loc] == name], f"no docs prefix for {name}"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_service_variable_is_a_setting(variant: str) -> None:
    """A misspelt name in `environment` would be ignored silently by the service."""
    services = load_compose(VARIANTS[variant], read_env_file(ENV_EXAMPLE))["services"]
    settings = {name.upper() for name in Settings.model_fields}
    # Read by the database drivers, not by Settings: FreeTDS and libpq.
    drivers = {"TDSVER", "PGPASSWORD"}
    for name in ("keys", "migrate", "admin", *APP_SERVICES):
        unknown = set(services[name].get("environment", {})) - settings - drivers
        assert unknown == set(), f"{name}: {sorted(unknown)} are no settings"


def test_subsonic_service_calls_the_services_at_their_compose_addresses(
    project: dict, stages: dict
) -> None:
    service = project["subsonic_service"]
    env = service["environment"]
    for setting, neighbour in (
        ("AUTH_SERVICE_URL", "auth_service"),
        ("ALBUM_SERVICE_URL", "album_service"),
        ("SONG_SERVICE_URL", "song_service"),
    ):
        port = option(service_command(project[neighbour], stages), "--port")
        assert env[setting] == f"http://{service_host(neighbour)}:{port}", setting
        assert service["depends_on"][neighbour]["condition"] == "service_healthy"
    assert project["gateway"]["depends_on"]["subsonic_service"]["condition"] == "service_healthy"
    # Read-only, like album_service: it writes only through the owning services.
    for mount in mounts(service):
        assert mount.read_only or mount.source == "cache", mount
    assert "jwt-private" not in {m.source for m in mounts(service)}


def test_fixed_addresses_are_in_the_subnet_and_out_of_the_dynamic_range(project: dict) -> None:
    """Docker gives the other containers addresses from ip_range; a fixed address in
    it could be taken by a container started earlier."""
    network = load_compose([COMPOSE_FILE], read_env_file(ENV_EXAMPLE))["networks"]["default"]
    (config,) = network["ipam"]["config"]
    subnet = ipaddress.ip_network(config["subnet"])
    dynamic = ipaddress.ip_network(config["ip_range"])
    assert dynamic.subnet_of(subnet)  # type: ignore[arg-type]
    fixed = {
        name: ipaddress.ip_address(service["networks"]["default"]["ipv4_address"])
        for name, service in project.items()
        if "ipv4_address" in service.get("networks", {}).get("default", {})
    }
    assert set(fixed) == {"gateway", "subsonic_service"}
    assert len(set(fixed.values())) == len(fixed)
    for name, address in fixed.items():
        assert address in subnet and address not in dynamic, name
        assert address not in (subnet.network_address + 1, subnet.broadcast_address), name


def test_credentials_key_is_mounted_only_where_it_is_needed(project: dict, stages: dict) -> None:
    """The keys job writes the credentials key, auth_service reads it; no one else,
    and never into the image's read-only /app."""
    holders = {
        name: mount
        for name, service in project.items()
        for mount in mounts(service)
        if mount.source == "credentials-key"
    }
    assert set(holders) == {"keys", "auth_service"}
    assert holders["auth_service"].read_only and not holders["keys"].read_only
    for name in holders:
        key_file = project[name]["environment"]["CREDENTIALS_KEY_FILE"]
        assert key_file.startswith(holders[name].target + "/"), name
    run = " ".join(args for keyword, args in stages["runtime"].instructions if keyword == "RUN")
    assert re.search(r"chmod 0700 [^&]*/keys/credentials", run)


def test_gateway_passes_subsonic_calls_through_unbuffered(gateway: str) -> None:
    """/rest: the facade's upstream, answers streamed (transcodes), form POSTs within
    the server-wide body backstop, and no Swagger page outside /docs/subsonic/."""
    upstream, block = gateway_location_blocks(gateway)["/rest"]
    assert upstream == "subsonic_service"
    assert re.search(r"proxy_buffering\s+off;", block)
    # Nothing narrower than the server's backstop, which is above MAX_BODY_BYTES.
    assert "client_max_body_size" not in block
    backstop = re.search(r"^\s*client_max_body_size\s+(\d+)m;", gateway, re.MULTILINE)
    max_body_bytes = Settings(_env_file=None).max_body_bytes
    assert backstop and int(backstop.group(1)) * 1024 * 1024 > max_body_bytes
    # The proxy headers are the server's, set for every location; the block sets
    # none of its own (a proxy_set_header there would drop all the server's).
    assert "proxy_set_header" not in block
    # Only the /docs/<name>/ locations reach a service's /docs and /openapi.json.
    docs = [loc for loc in gateway_locations(gateway) if loc.startswith("/docs")]
    prefixes = ("auth", "albums", "songs", "users", "subsonic")
    assert sorted(docs) == sorted(f"/docs/{prefix}/" for prefix in prefixes)


def test_gateway_port_and_healthcheck_match_compose(project: dict, gateway: str) -> None:
    gateway_service = project["gateway"]
    assert re.search(r"listen\s+8080;", gateway)
    assert [p.split(":")[-1] for p in gateway_service["ports"]] == ["8080"]
    health = next(a for a in gateway_service["healthcheck"]["test"] if a.startswith("http"))
    assert urlsplit(health).port == 8080
    assert f"location = {urlsplit(health).path} " in gateway
    config_mount = next(m for m in mounts(gateway_service) if m.source == "./gateway")
    conf_path = option(gateway_service["command"], "-c")
    assert conf_path == f"{config_mount.target}/nginx.conf"


def test_private_key_is_mounted_only_where_it_is_needed(project: dict) -> None:
    holders = {
        name: mount
        for name, service in project.items()
        for mount in mounts(service)
        if mount.source == "jwt-private"
    }
    assert set(holders) == {"keys", "auth_service"}
    assert holders["auth_service"].read_only and not holders["keys"].read_only
    for name in APP_SERVICES:
        public = [m for m in mounts(project[name]) if m.source == "jwt-public"]
        assert public and public[0].read_only
        assert project[name]["depends_on"]["keys"]["condition"] == "service_completed_successfully"
        assert (
            project[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
        assert project[name]["restart"] == "unless-stopped"


def test_env_example_documents_every_variable() -> None:
    """Every setting and every ${VAR} the compose files use, each with a comment above it."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    compose_text = COMPOSE_FILE.read_text() + POSTGRES_OVERRIDE.read_text()
    wanted = {name.upper() for name in Settings.model_fields}
    wanted |= set(re.findall(r"\$\{(\w+)", compose_text))
    for name in sorted(wanted):
        at = [i for i, line in enumerate(lines) if re.match(rf"#?\s?{name}=", line)]
        assert at, f".env.example does not mention {name}"
        assert lines[at[0] - 1].startswith("#"), f"{name} has no comment saying what it is for"


def test_dockerfile_healthcheck_uses_only_the_standard_library(stages: dict) -> None:
    # Slim images have no curl or wget; the check must run with python alone.
    for name in APP_SERVICES:
        argv = healthcheck_argv(stages, name)
        assert argv[:2] == ["python", "-c"] and "urllib.request" in argv[2]
    assert exec_form('CMD ["a", "b"]') == ["a", "b"]
    assert DOCKERFILE.read_text().count("FROM python:3.11-slim") == 2


def test_gateway_bounds_slow_and_large_request_heads(gateway: str) -> None:
    """nginx answers slow or oversized request heads itself; the services have the
    same bounds of their own (common.server)."""

    def seconds(directive: str) -> int:
        found = re.search(rf"^\s*{directive}\s+(\d+)s;", gateway, re.MULTILINE)
        assert found, f"gateway/nginx.conf does not set {directive}"
        return int(found.group(1))

    assert seconds("client_header_timeout") <= 30
    assert seconds("client_body_timeout") <= 60
    buffers = re.search(r"^\s*large_client_header_buffers\s+(\d+)\s+(\d+)k;", gateway, re.M)
    assert buffers, "gateway/nginx.conf does not set large_client_header_buffers"
    total = int(buffers.group(1)) * int(buffers.group(2)) * 1024
    assert total <= 2 * Settings(_env_file=None).http_max_header_bytes


def test_no_gateway_log_line_can_carry_a_credential(gateway: str) -> None:
    """Subsonic apps send credentials in the query string (apiKey, u+t+s, p, jwt),
    and signed stream URLs their signature: the locations such a request passes
    through log it without its query, and keep nginx's error lines (which quote the
    whole request line) to `crit`. /auth/subsonic/ is not routed at all."""
    for location in ("/rest", "/_media/media/", "/_media/library/"):
        block = re.search(rf"location {re.escape(location)} \{{(.*?)\n        \}}", gateway, re.S)
        assert block, f"no location {location}"
        assert "access_log /dev/stdout no_query;" in block.group(1), location
        assert "error_log stderr crit;" in block.group(1), location
    internal = re.search(r"location \^~ /auth/subsonic/ \{(.*?)\}", gateway, re.S)
    assert internal and "return 404" in internal.group(1)


def test_the_gateway_never_routes_a_services_metrics(gateway: str) -> None:
    """/metrics is for the scraper on the cluster network: /docs/<name>/metrics (and
    /metrics/, which a mounted metrics app answers too) is the gateway's own 404, in
    a regex location, which nginx prefers to the /docs/<name>/ prefixes. The smoke
    test asks nginx itself (tests/deploy/test_gateway_smoke.py)."""
    blocked = re.search(r"location ~ \^/docs/\[\^/\]\+/metrics\(/\|\$\) \{(.*?)\}", gateway, re.S)
    assert blocked and "return 404" in blocked.group(1)
    pattern = re.compile(r"^/docs/[^/]+/metrics(/|$)")
    for prefix in ("auth", "albums", "songs", "users", "subsonic"):
        assert pattern.search(f"/docs/{prefix}/metrics")
        assert pattern.search(f"/docs/{prefix}/metrics/")
        assert not pattern.search(f"/docs/{prefix}/metricsx")
    # Nothing else proxies a service's root path, so /metrics itself is not routed.
    assert not [loc for loc in gateway_locations(gateway) if "/metrics".startswith(loc)]
