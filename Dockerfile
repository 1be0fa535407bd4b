# syntax=docker/dockerfile:1
# One Dockerfile, one target per service:
#   docker build --target song_service -t musicplayer-song .
# `runtime` (no CMD) runs the one-shot jobs: keys and migrations.

# --- build: dependencies into a virtualenv that the runtime stage copies whole ---
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
# Only the runtime requirements: test and lint tools never reach an image.
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- runtime: code, ODBC, no build tools, no tests (.dockerignore), non-root ---
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

# pyodbc needs the unixODBC driver manager and a SQL Server driver: FreeTDS from
# Debian (no EULA). For Microsoft's msodbcsql18 instead, see README "Docker".
# tdsodbc registers FreeTDS with unixODBC only when its debconf answer says so.
RUN apt-get update \
    && apt-get install -y --no-install-recommends unixodbc tdsodbc \
    && rm -rf /var/lib/apt/lists/* \
    && (odbcinst -q -d -n FreeTDS >/dev/null || odbcinst -i -d -f /usr/share/tdsodbc/odbcinst.ini)

# A fixed uid, so volumes can be prepared for it. The key, media and cache folders
# exist here so a fresh named volume mounted on them inherits this owner (and 0700
# for the private ones); /srv/library is only ever mounted read-only.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin musicplayer \
    && mkdir -p /keys/private /keys/public /keys/stream /keys/credentials /srv/media \
       /srv/library /cache \
    && chown musicplayer:musicplayer /keys/private /keys/public /keys/stream /keys/credentials \
       /srv/media /cache \
    && chmod 0700 /keys/private /keys/stream /keys/credentials

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY common ./common
COPY database ./database
COPY media ./media
COPY auth_service ./auth_service
COPY album_service ./album_service
COPY song_service ./song_service
COPY user_service ./user_service
COPY subsonic_service ./subsonic_service

USER musicplayer

# --- one target per service: its port, healthcheck and command ---
# common.server runs uvicorn with the fleet's HTTP limits (header size and timeouts).
# X-Forwarded-For (the client address the login and sign-up throttles count) and
# X-Forwarded-Proto are believed only from FORWARDED_ALLOW_IPS, which
# docker-compose.yml sets to the gateway's address; unset, from nobody.
FROM runtime AS auth_service
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)"]
CMD ["python", "-m", "common.server", "auth_service", "--host", "0.0.0.0", "--port", "8000"]

FROM runtime AS album_service
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/health/ready', timeout=2)"]
CMD ["python", "-m", "common.server", "album_service", "--host", "0.0.0.0", "--port", "8001"]

FROM runtime AS song_service
EXPOSE 8002
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8002/health/ready', timeout=2)"]
CMD ["python", "-m", "common.server", "song_service", "--host", "0.0.0.0", "--port", "8002"]

FROM runtime AS user_service
EXPOSE 8003
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8003/health/ready', timeout=2)"]
CMD ["python", "-m", "common.server", "user_service", "--host", "0.0.0.0", "--port", "8003"]

# The Subsonic facade: reads the catalogue, authenticates and writes through the
# services above (AUTH_SERVICE_URL, ALBUM_SERVICE_URL, SONG_SERVICE_URL).
FROM runtime AS subsonic_service
EXPOSE 8004
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8004/health/ready', timeout=2)"]
CMD ["python", "-m", "common.server", "subsonic_service", "--host", "0.0.0.0", "--port", "8004"]
