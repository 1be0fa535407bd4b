# One image for all four services; docker-compose.yml picks the service with `command:`.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

WORKDIR /app

# Dependencies before code, so a code change does not re-run pip.
# SQL Server needs Microsoft's ODBC driver on top; that comes with the full compose setup.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# A fixed non-root uid; /data is created here so a fresh named volume inherits its owner.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin musicplayer \
    && mkdir /data \
    && chown musicplayer:musicplayer /data

COPY common ./common
COPY database ./database
COPY auth_service ./auth_service
COPY album_service ./album_service
COPY song_service ./song_service
COPY user_service ./user_service

USER musicplayer
EXPOSE 8000 8001 8002 8003
