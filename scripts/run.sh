#!/usr/bin/env bash
# Runs the whole CRM in one terminal: the Celery worker with the beat scheduler embedded, and
# the web server on http://127.0.0.1:8000. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST_PORT=${HOST_PORT:-127.0.0.1:8000}

trap 'kill 0 2>/dev/null' EXIT INT TERM
# -B runs beat inside the worker: fine for one machine; docker-compose runs a separate beat.
$BIN/celery -A config worker -B -Q default,imports,calling,meta --concurrency=2 --loglevel=INFO &
$BIN/python manage.py runserver "$HOST_PORT" --noreload &
sleep 2
echo
echo "  CRM running at http://$HOST_PORT/  (admin: /admin/, API docs: /docs)"
echo "  Demo login: admin / crm-demo-admin (also sales1 / crm-demo-sales, manager / crm-demo-manager)"
echo
wait
