#!/bin/sh
# One image, every role: `entrypoint.sh web|worker|beat|migrate|bootstrap|smtpd`.
# The Docker image, docker-compose.yml, `make prod-local` and the systemd units in
# docs/deploy.md all start hcserver through this script. Any other command runs as is.
set -eu
cd "$(dirname "$0")/.."

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    # The application (hcserver.asgi or hcserver.wsgi) follows WEB_WORKER, in the config.
    exec python -m gunicorn --config deploy/gunicorn.conf.py "$@"
    ;;
  worker)
    # SIGTERM = warm shutdown: the task in progress finishes, then the worker exits.
    exec python -m celery --app hcserver worker --loglevel "${LOG_LEVEL:-INFO}" \
      --concurrency "${CELERY_CONCURRENCY:-2}" --hostname "worker-$$@%h" "$@"
    ;;
  beat)
    exec python -m celery --app hcserver beat --loglevel "${LOG_LEVEL:-INFO}" \
      --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/hcserver-celerybeat-schedule}" "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  bootstrap)
    exec python manage.py bootstrap --email "${BOOTSTRAP_EMAIL:-admin@localhost}" "$@"
    ;;
  smtpd)
    exec python manage.py smtpd --host "${SMTPD_HOST:-0.0.0.0}" \
      --port "${SMTPD_PORT:-2525}" "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
