#!/usr/bin/env bash
# Runs the whole CRM in one terminal: the Celery worker with the beat scheduler embedded, and
# the web server on http://127.0.0.1:8000. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST_PORT=${HOST_PORT:-127.0.0.1:8000}

# -B runs beat inside the worker: fine for one machine; docker-compose runs a separate beat.
$BIN/celery -A config worker -B -Q default,imports,calling,meta --concurrency=2 --loglevel=INFO &
worker=$!
# The worker is a background job (it ignores Ctrl-C): stop it, and wait for its warm shutdown,
# whenever this script ends.
trap 'kill -TERM $worker 2>/dev/null || true; wait $worker 2>/dev/null || true' EXIT

echo
echo "  CRM starting at http://$HOST_PORT/  (admin: /admin/, API docs: /docs)"
echo "  Demo login: admin / crm-demo-admin (also sales1 / crm-demo-sales, manager / crm-demo-manager)"
echo "  Ctrl-C stops the web server and the worker."
echo
$BIN/python manage.py runserver "$HOST_PORT" --noreload
