# chattrader in paper mode: a slim image that runs as an unprivileged user and keeps every
# byte of state (SQLite database, JSON logs, backups, imported data) in the /data volume.
#
#   docker build -t chattrader .
#   docker run --rm -it -v chattrader-data:/data --env-file .env chattrader run
#   docker run --rm -v chattrader-data:/data chattrader backtest XAUUSD 90d
#
# compose.yaml does the same with a health check and a restart policy. MetaTrader 5 needs
# Windows and its terminal, so BROKER=mt5 does not run in this (Linux) image: see docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DB_PATH=/data/chattrader.db \
    DATA_DIR=/data

# A system user without a login shell; /data is its home and the only place it writes.
RUN groupadd --system --gid 10001 chattrader \
    && useradd --system --uid 10001 --gid chattrader --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin chattrader \
    && mkdir -p /data && chown chattrader:chattrader /data && chmod 0750 /data

# The sources stay in /app, owned by root and read-only for the service. The install is
# editable because the chat's translations are read from /app/locales beside the packages.
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY engine ./engine
COPY storage ./storage
COPY bot ./bot
COPY locales ./locales
RUN pip install --editable . \
    && python -m compileall -q engine storage bot \
    && chattrader --version

USER chattrader
# The working directory is the volume, so a .env placed in it is read like on a desktop.
WORKDIR /data
VOLUME ["/data"]
# Only used when `run --health-port 8080` is given (compose.yaml does): /healthz and /metrics.
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["chattrader"]
CMD ["run"]
