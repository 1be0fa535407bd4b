"""Reading the deployment files the way Docker would, for tests that have no engine:
docker-compose.yml (with `.env` interpolation), the Dockerfile's stages and the
gateway's nginx config."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.databases import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
POSTGRES_OVERRIDE = REPO_ROOT / "docker-compose.postgres.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
GATEWAY_CONF = REPO_ROOT / "gateway" / "nginx.conf"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
APP_SERVICES = (
    "auth_service",
    "album_service",
    "song_service",
    "user_service",
    "subsonic_service",
)


def service_host(name: str) -> str:
    """The DNS name a compose service is called by (its network alias) and the
    Kubernetes Service's name: `auth_service` -> `auth-service` (DNS-1123)."""
    return name.replace("_", "-")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as docker compose reads them; comments and blanks ignored."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """Compose's variable substitution over a loaded YAML tree."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = variables.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if unset and op and op.endswith("?"):
            raise ValueError(f"{name}: {arg}")
        if unset and op and op.endswith("-"):
            return arg
        return current or ""

    return _VARIABLE.sub(substitute, value)


def load_compose(files: list[Path], env: dict[str, str]) -> dict[str, Any]:
    """The merged, interpolated project (the merge covers what our override uses:
    mappings merged key by key, anything else replaced)."""
    merged: dict[str, Any] = {}
    for path in files:
        _merge(merged, interpolate(yaml.safe_load(path.read_text()), env))
    return merged


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def service_environment(service: dict[str, Any], project_dir: Path) -> dict[str, str]:
    """env_file first, then `environment` on top, as compose does."""
    env_files = service.get("env_file", [])
    env: dict[str, str] = {}
    for name in [env_files] if isinstance(env_files, str) else env_files:
        env.update(read_env_file(project_dir / name))
    env.update(
        {key: "" if v is None else str(v) for key, v in service.get("environment", {}).items()}
    )
    return env


@dataclass(frozen=True)
class Mount:
    source: str  # a named volume, or a path relative to the project
    target: str
    read_only: bool


def mounts(service: dict[str, Any]) -> list[Mount]:
    result = []
    for spec in service.get("volumes", []):
        source, target, *options = spec.split(":")
        result.append(Mount(source, target, "ro" in options))
    return result


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def dockerfile_stages(path: Path = DOCKERFILE) -> dict[str, Stage]:
    """Stages by name; each holds its own (INSTRUCTION, arguments) pairs."""
    text = re.sub(r"\\\n", " ", path.read_text())  # line continuations
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else parts[0]
            current = stages[name] = Stage(name, parts[0])
        elif current is not None:
            current.instructions.append((keyword, rest.strip()))
    return stages


def stage_setting(stages: dict[str, Stage], name: str, keyword: str) -> str | None:
    """The last KEYWORD in the stage or in the stages it is built FROM."""
    stage = stages[name]
    for instruction, args in reversed(stage.instructions):
        if instruction == keyword:
            return args
    return stage_setting(stages, stage.base, keyword) if stage.base in stages else None


def exec_form(args: str) -> list[str]:
    """A CMD/HEALTHCHECK CMD in JSON form as argv (the shell form as words)."""
    args = args.strip()
    if args.startswith("CMD "):
        args = args[4:].strip()
    if args.startswith("["):
        return list(yaml.safe_load(args))  # JSON is YAML
    return shlex.split(args)


def healthcheck_argv(stages: dict[str, Stage], name: str) -> list[str]:
    setting = stage_setting(stages, name, "HEALTHCHECK") or ""
    return exec_form(setting[setting.index("CMD") :]) if "CMD" in setting else []


def service_command(service: dict[str, Any], stages: dict[str, Stage]) -> list[str]:
    """The compose `command`, else the CMD of the Dockerfile target it builds."""
    if "command" in service:
        command = service["command"]
        return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    target = service["build"]["target"]
    cmd = stage_setting(stages, target, "CMD")
    assert cmd, f"neither compose nor Dockerfile stage {target} gives a command"
    return exec_form(cmd)


def option(argv: list[str], name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE` in an argv."""
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


_UPSTREAM = re.compile(r"upstream\s+(\w+)\s*\{\s*server\s+([\w.-]+):(\d+)")


def gateway_upstreams(conf: str) -> dict[str, tuple[str, int]]:
    """upstream name -> (host, port)."""
    return {name: (host, int(port)) for name, host, port in _UPSTREAM.findall(conf)}


def gateway_locations(conf: str) -> dict[str, str]:
    """Plain prefix `location` -> the upstream it proxies to (wherever in the block
    its proxy_pass stands)."""
    return {path: upstream for path, (upstream, _) in gateway_location_blocks(conf).items()}


def gateway_location_blocks(conf: str) -> dict[str, tuple[str, str]]:
    """Plain prefix `location` that proxies -> (its upstream, the block's directives),
    in the public server (the first): the loopback access-check server behind it
    serves no client directly."""
    public = re.split(r"^\s*server\s*\{", conf, flags=re.MULTILINE)[1]
    blocks = {}
    for path, body in re.findall(r"location\s+(/[^\s{]*)\s*\{([^{}]*)\}", public):
        upstream = re.search(r"proxy_pass\s+http://(\w+)[^;]*;", body)
        if upstream:
            blocks[path] = (upstream.group(1), body)
    return blocks


def docker_compose() -> str:
    """Debian's docker-compose (v1), which validates files without an engine."""
    path = shutil.which("docker-compose")
    if path is None:
        missing("docker-compose is not installed: apt-get install docker-compose")
    return path


def compose_config(
    project_dir: Path, files: list[Path], *args: str
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` on the files, with `project_dir/.env` as the .env."""
    argv = [docker_compose(), "--project-directory", str(project_dir)]
    for path in files:
        argv += ["-f", str(path)]
    # Only the .env decides; a COMPOSE_* or setting in the caller's shell must not.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [*argv, "config", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def write_project(project_dir: Path, **overrides: str) -> dict[str, str]:
    """A project folder whose `.env` is `.env.example` plus `overrides`; returns its values."""
    lines = ENV_EXAMPLE.read_text().rstrip("\n").splitlines()
    lines += [f"{key}={value}" for key, value in overrides.items()]
    (project_dir / ".env").write_text("\n".join(lines) + "\n")
    return read_env_file(project_dir / ".env")


def local_gateway_argv(
    nginx: str,
    gateway: dict[str, Any],
    *,
    port: int,
    upstreams: dict[str, str],
    volumes: dict[str, Path],
    work: Path,
    loopback_port: int,
) -> list[str]:
    """gateway/nginx.conf run as compose runs it (`gateway`: its compose service),
    on this machine: only the upstream `server` lines (`upstreams`: compose service
    -> host:port; the conf names each by its hyphenated alias), the listen port,
    the audio access-check server's loopback port and cache folder (several
    gateways may run here at once), and the media volumes' mount points
    (`volumes`: volume -> folder) changed, written under `work`. The nginx command
    line, with its prefix in `work`."""
    by_host = {service_host(name): address for name, address in upstreams.items()}
    conf = re.sub(
        r"server\s+([\w-]+):(\d+);",
        lambda m: f"server {by_host[m.group(1)]};",
        GATEWAY_CONF.read_text(),
    )
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("127.0.0.1:8081", f"127.0.0.1:{loopback_port}")
    conf = conf.replace("/tmp/nginx-media-cache", str(work / "nginx-media-cache"))  # noqa: S108
    gateway_mounts = mounts(gateway)
    for mount in gateway_mounts:
        if mount.source in volumes:
            conf = conf.replace(f"{mount.target}/", f"{volumes[mount.source]}/")
    conf_dir = work / "gateway"
    conf_dir.mkdir(exist_ok=True)
    (conf_dir / "nginx.conf").write_text(conf)
    conf_mount = next(m for m in gateway_mounts if m.source == "./gateway")
    args = [arg.replace(conf_mount.target, str(conf_dir)) for arg in gateway["command"][1:]]
    directives = args.index("-g") + 1
    args[directives] = re.sub(r"pid [^;]+;", f"pid {work / 'gateway.pid'};", args[directives])
    if os.geteuid() == 0:
        # The container runs nginx as one unprivileged user throughout; started as
        # root, its workers would become `nobody`, who cannot read the media
        # volumes in a private temporary folder.
        args[directives] += " user root;"
    # -p: nginx's prefix is the work folder; -e: early errors to the log.
    return [nginx, "-p", str(work), "-e", "stderr", *args]
