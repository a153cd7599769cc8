# hcserver: one image for every role (web, worker, beat, migrate, bootstrap, smtpd).
# Build: docker build -t hcserver .   Run: see docker-compose.yml and docs/deploy.md.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/data \
    PORT=8000 \
    SMTPD_PORT=2525

RUN python -m venv /opt/venv \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin hc \
    && mkdir -p /data && chown hc:hc /data

WORKDIR /app
# Requirements first: the dependency layer is reused while only the code changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected into the image (served by WhiteNoise). The build needs
# no database and no secret: these values exist only for this one command.
RUN SECRET_KEY=collectstatic-only DATABASE_URL= DATA_DIR=/tmp/build \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build

USER hc
EXPOSE 8000 2525
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]
ENTRYPOINT ["deploy/entrypoint.sh"]
CMD ["web"]
