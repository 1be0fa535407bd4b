"""What the images' code imports is installed in them: the Dockerfile installs
requirements.txt alone (test tools stay in requirements-dev.txt), so a module that
a service imports at run time from a development-only package works in every test
here and fails to start in its container."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.compose import (
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    REPO_ROOT,
    dockerfile_stages,
    load_compose,
    read_env_file,
    service_command,
)

REQUIREMENTS = REPO_ROOT / "requirements.txt"


def copied_packages() -> list[str]:
    """The folders of this repository the runtime image copies (COPY x ./x)."""
    stage = dockerfile_stages(DOCKERFILE)["runtime"]
    return [
        args.split()[0]
        for keyword, args in stage.instructions
        if keyword == "COPY" and "--from=" not in args and (REPO_ROOT / args.split()[0]).is_dir()
    ]


def module_file(module: str) -> Path | None:
    """The repository's file of a dotted module name, if it is one of ours."""
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(entry_points: list[str]) -> dict[str, Path]:
    """Top-level third-party module -> a file importing it, over every module of
    ours that `entry_points` reach by their imports (function-level ones too)."""
    found: dict[str, Path] = {}
    pending, seen = list(entry_points), set()
    while pending:
        module = pending.pop()
        path = module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the module's own package
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                # `from a import b` may import the module a.b
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for name in names:
                if module_file(name) is not None:
                    pending.append(name)
                    parent = name.rpartition(".")[0]
                    while parent:  # importing a.b.c runs a and a.b first
                        pending.append(parent)
                        parent = parent.rpartition(".")[0]
                elif module_file(name.split(".")[0]) is None:
                    found.setdefault(name.split(".")[0], path)
    return found


def installed_closure() -> set[str]:
    """The distributions requirements.txt installs, their dependencies included."""
    wanted = [
        Requirement(line.split("#")[0].strip())
        for line in REQUIREMENTS.read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        extras = {"", *requirement.extras}
        for line in importlib.metadata.requires(requirement.name) or []:
            dependency = Requirement(line)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras):
                wanted.append(dependency)
    return seen


def test_every_module_the_images_import_is_installed_in_them() -> None:
    """From each service's app and each one-shot job (keys, migrate, admin), every
    third-party module reached is installed by requirements.txt (directly or as a
    dependency of what it lists)."""
    packages = copied_packages()
    assert {"common", "database", "media", "subsonic_service"} <= set(packages)
    project = load_compose([COMPOSE_FILE], read_env_file(ENV_EXAMPLE))["services"]
    stages = dockerfile_stages()
    entry_points = []
    for service in project.values():
        if "build" not in service:
            continue
        argv = service_command(service, stages)
        assert argv[:2] == ["python", "-m"], argv
        if argv[2] == "common.server":  # the app it serves
            entry_points += ["common.server", f"{argv[3]}.main"]
        else:
            entry_points += [argv[2], f"{argv[2]}.__main__"]
    assert {"subsonic_service.main", "user_service.admin"} <= set(entry_points)
    reached = third_party_imports(entry_points)
    distributions = importlib.metadata.packages_distributions()
    installed = installed_closure()
    missing = []
    for module, path in sorted(reached.items()):
        if module in sys.stdlib_module_names or module == "__future__":
            continue
        where = path.relative_to(REPO_ROOT)
        assert path.relative_to(REPO_ROOT).parts[0] in packages, f"{where} is not in the image"
        owners = {canonicalize_name(d) for d in distributions.get(module, [])}
        assert owners, f"{module} ({where}) is not installed here at all"
        if not owners & installed:
            missing.append(f"{module} ({where}: {', '.join(sorted(owners))})")
    assert missing == [], f"imported by image code, not in requirements.txt: {missing}"


def test_the_requirements_are_pinned() -> None:
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[\w,]+\])?==[\w.]+", line), line
