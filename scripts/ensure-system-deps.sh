#!/usr/bin/env bash
# Installs the few system packages a bare Debian/Ubuntu machine lacks:
#   - the MariaDB/MySQL client headers that mysqlclient compiles against (always);
#   - Debian's Chromium, for the browser tests (only with --browser).
# Nothing is downloaded outside the distribution's own packages.
set -euo pipefail

want=()
if ! pkg-config --exists mysqlclient 2>/dev/null && ! pkg-config --exists libmariadb 2>/dev/null; then
  want+=(libmariadb-dev pkg-config)
fi
if [[ "${1:-}" == "--browser" ]] && [[ ! -x /usr/bin/chromium ]]; then
  want+=(chromium)
fi
[[ ${#want[@]} -eq 0 ]] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "Installing system packages: ${want[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${want[@]}" >/dev/null
else
  echo "Please install: ${want[*]} (MariaDB/MySQL client headers and pkg-config; chromium for browser tests)" >&2
  exit 1
fi
