#!/usr/bin/env bash
# Install (if missing), start and prepare the PostgreSQL and MariaDB servers the
# database tests run against, then print the URLs for them on stdout:
#
#     eval "$(scripts/test_databases.sh)"   # sets TEST_POSTGRES_URL, TEST_MARIADB_URL
#
# Idempotent: running it again with both servers up changes nothing. Needs root
# (or sudo) and no stdin. Works without systemd, as in CI containers: Debian's
# pg_ctlcluster and the mariadb init script start the daemons directly.
# Progress goes to stderr so that stdout holds only the export lines.
set -euo pipefail

ROLE=musicplayer_test
# A throwaway password for a role that exists only on test servers bound to
# 127.0.0.1; it is not a secret, it only lets the drivers log in over TCP.
PASSWORD=${TEST_DB_PASSWORD:-musicplayer_test}
PG_PORT=${TEST_PG_PORT:-5432}
MARIADB_PORT=${TEST_MARIADB_PORT:-3306}

log() { echo "test_databases: $*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive

wanted=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || wanted+=(postgresql)
command -v mariadbd >/dev/null || command -v mysqld >/dev/null || wanted+=(mariadb-server)
if [ "${#wanted[@]}" -gt 0 ]; then
    log "apt-get install ${wanted[*]}"
    ${SUDO} apt-get update -qq >&2
    # policy-rc.d is absent in CI containers, so the packages try to start their
    # daemons during install; that may fail without systemd, which is harmless
    # because the servers are started explicitly below.
    ${SUDO} apt-get install -y -qq --no-install-recommends "${wanted[@]}" >&2
fi

# wait_for DESCRIPTION COMMAND...: retry COMMAND for up to 60 s.
wait_for() {
    local what=$1
    shift
    for _ in $(seq 1 120); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    log "${what} did not come up within 60 s"
    return 1
}

# PostgreSQL ------------------------------------------------------------------

# The newest installed major version; Debian 12 ships 15.
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk -v v="${pg_version}" '$1 == v && $2 == "main"' | grep -q .; then
    log "creating PostgreSQL ${pg_version} cluster main"
    ${SUDO} pg_createcluster "${pg_version}" main --port "${PG_PORT}" >&2
fi
pg_port=$(pg_lsclusters -h | awk -v v="${pg_version}" '$1 == v && $2 == "main" {print $3}')
if ! pg_lsclusters -h | awk -v v="${pg_version}" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    log "starting PostgreSQL ${pg_version}/main on port ${pg_port}"
    ${SUDO} pg_ctlcluster "${pg_version}" main start >&2
fi
pg_isready_bin="/usr/lib/postgresql/${pg_version}/bin/pg_isready"
wait_for "PostgreSQL" "${pg_isready_bin}" -h 127.0.0.1 -p "${pg_port}"

psql_admin() {
    # Peer authentication as the postgres OS user; runuser needs no password.
    ${SUDO} runuser -u postgres -- psql -p "${pg_port}" -X -q -v ON_ERROR_STOP=1 "$@"
}
# DO block: CREATE ROLE has no IF NOT EXISTS; ALTER keeps the password current.
psql_admin -d postgres >&2 <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN
        CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${PASSWORD}';
    ELSE
        ALTER ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${PASSWORD}';
    END IF;
END
\$\$;
SQL
wait_for "PostgreSQL login as ${ROLE}" env PGPASSWORD="${PASSWORD}" \
    psql -h 127.0.0.1 -p "${pg_port}" -U "${ROLE}" -d postgres -X -c "SELECT 1"

# MariaDB ---------------------------------------------------------------------

mariadb_up() { ${SUDO} mariadb-admin --protocol=socket ping; }
if ! mariadb_up >/dev/null 2>&1; then
    log "starting MariaDB"
    # The init script runs mysqld_safe in the background and waits for it; it
    # needs no systemd. Fall back to mysqld_safe directly if it is missing.
    if [ -x /etc/init.d/mariadb ]; then
        ${SUDO} /etc/init.d/mariadb start >&2 || true
    fi
    if ! mariadb_up >/dev/null 2>&1; then
        ${SUDO} install -d -o mysql -g mysql /run/mysqld
        (${SUDO} nohup mysqld_safe >/dev/null 2>&1 &)
    fi
fi
wait_for "MariaDB" mariadb_up

# Root logs in through unix_socket authentication as the root OS user.
${SUDO} mariadb --protocol=socket >&2 <<SQL
CREATE USER IF NOT EXISTS '${ROLE}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
CREATE USER IF NOT EXISTS '${ROLE}'@'localhost' IDENTIFIED BY '${PASSWORD}';
ALTER USER '${ROLE}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
ALTER USER '${ROLE}'@'localhost' IDENTIFIED BY '${PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO '${ROLE}'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO '${ROLE}'@'localhost';
SQL
mariadb_port=$(${SUDO} mariadb --protocol=socket -N -B -e "SELECT @@port")
wait_for "MariaDB login as ${ROLE}" mariadb -h 127.0.0.1 -P "${mariadb_port}" \
    -u "${ROLE}" -p"${PASSWORD}" -e "SELECT 1"

log "PostgreSQL ${pg_version} on 127.0.0.1:${pg_port}, MariaDB on 127.0.0.1:${mariadb_port}"
echo "export TEST_POSTGRES_URL=postgresql+psycopg://${ROLE}:${PASSWORD}@127.0.0.1:${pg_port}/postgres"
echo "export TEST_MARIADB_URL=mysql+pymysql://${ROLE}:${PASSWORD}@127.0.0.1:${mariadb_port}/mysql?charset=utf8mb4"
