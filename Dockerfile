# daumoi in one slim image: the runtime lock only (no test tools), run as a non-root user.
# Build: `make image` (or `docker build -t daumoi .`); run: `docker compose up -d` (README "Deploying").
# The Python here must be the one the locks were made for (requirements/*.txt say "with Python 3.11").

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/daumoi
# Dependencies first (their own layer, rebuilt only when the lock changes), hashes checked.
COPY requirements/runtime.txt requirements/runtime.txt
RUN /opt/daumoi/bin/pip install --require-hashes -r requirements/runtime.txt
# Then the project itself, without dependencies (they are all in the lock).
COPY pyproject.toml README.md ./
COPY core core
COPY data data
COPY scheduler scheduler
COPY handlers handlers
COPY bot bot
RUN /opt/daumoi/bin/pip install --no-deps . \
    && /opt/daumoi/bin/pip uninstall --yes pip
COPY deploy/healthcheck.py /opt/daumoi/healthcheck.py

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /var/lib/daumoi --uid 10001 --user-group daumoi
COPY --from=build /opt/daumoi /opt/daumoi
ENV PATH=/opt/daumoi/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DAUMOI_HEALTH_LISTEN=0.0.0.0:8079 \
    DAUMOI_WEBHOOK_LISTEN=0.0.0.0:8080 \
    DAUMOI_ZALO_LISTEN=0.0.0.0:8081
# The working directory holds a SQLite file only when DAUMOI_DATABASE_URL is not set.
WORKDIR /var/lib/daumoi
USER daumoi
# Font cache of the chart, made once here instead of at the first /baocao bieudo.
RUN python -c "import matplotlib.font_manager"
# 8079: /healthz, /readyz, /metrics; 8080: Telegram webhook; 8081: Zalo webhook and report links;
# 8090: the web view when DAUMOI_WEB_LISTEN=0.0.0.0:8090 is set (off unless set).
EXPOSE 8079 8080 8081 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/opt/daumoi/healthcheck.py"]
CMD ["daumoi", "run"]
