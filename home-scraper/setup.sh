#!/usr/bin/env bash
# Set up the home poller (POLLER_ID=home) on Ubuntu/Debian, from a checkout of this repo
# (clone it to /opt/staktrakr first). Safe to re-run. As root:
#   sudo /opt/staktrakr/home-scraper/setup.sh
# Does: system packages, a service user, the venv with staktrakr, chromium, the 0600 env file
# (from .env.example, kept if present), the `home` crontab for that user, the serve unit.
set -euo pipefail

APP_DIR="${APP_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
RUN_USER="${RUN_USER:-staktrakr}"
STATE_DIR="${STATE_DIR:-/var/lib/staktrakr}"
ENV_FILE="${ENV_FILE:-/etc/staktrakr/env}"
CRON_HOST="${CRON_HOST:-home}"
UNIT=/etc/systemd/system/staktrakr-serve.service

say() { echo "setup: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "run as root: sudo $0"; exit 2; }
[ -f "$APP_DIR/pyproject.toml" ] || { say "$APP_DIR is not a staktrakr checkout (set APP_DIR)"; exit 2; }

say "system packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv git cron ca-certificates >/dev/null

if ! id "$RUN_USER" >/dev/null 2>&1; then
  say "creating user $RUN_USER (home $STATE_DIR)"
  useradd --system --home-dir "$STATE_DIR" --create-home --shell /usr/sbin/nologin "$RUN_USER"
fi
install -d -o "$RUN_USER" -g "$RUN_USER" -m 0750 "$STATE_DIR" "$STATE_DIR/var"

say "venv in $APP_DIR/.venv"
[ -x "$APP_DIR/.venv/bin/python" ] || python3 -m venv "$APP_DIR/.venv"
# editable: the venv runs the checkout itself, so cron jobs and serve run the same code after a
# `git pull` (bin/upgrade pulls, re-runs this script and restarts serve)
"$APP_DIR/.venv/bin/pip" install -q --disable-pip-version-check -e "$APP_DIR"

# Debian ships a real chromium package; Ubuntu's is a snap wrapper Playwright cannot drive,
# so there Playwright's own chromium build is installed and CHROMIUM_PATH points at it.
chromium_path=/usr/bin/chromium
if grep -qi '^ID=debian' /etc/os-release; then
  say "chromium (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  say "chromium (Playwright build, for Ubuntu)"
  export PLAYWRIGHT_BROWSERS_PATH=/opt/ms-playwright
  "$APP_DIR/.venv/bin/python" -m playwright install --with-deps chromium >/dev/null
  chromium_path=$("$APP_DIR/.venv/bin/python" -c \
    'from playwright.sync_api import sync_playwright; p = sync_playwright().start(); print(p.chromium.executable_path); p.stop()')
fi

if [ ! -f "$ENV_FILE" ]; then
  say "env file $ENV_FILE from .env.example: fill in the secrets (TURSO_*, METAL_PRICE_API_KEY, GITHUB_TOKEN, ...)"
  install -d -m 0755 "$(dirname "$ENV_FILE")"
  sed -e "s#^PROVIDERS_FILE=.*#PROVIDERS_FILE=$APP_DIR/providers.json#" \
      -e "s#^STAKTRAKR_VAR_DIR=.*#STAKTRAKR_VAR_DIR=$STATE_DIR/var#" \
      -e "s#^API_EXPORT_DIR=.*#API_EXPORT_DIR=$STATE_DIR/api-export#" \
      "$APP_DIR/home-scraper/.env.example" > "$ENV_FILE.new"
  if [ "$chromium_path" != /usr/bin/chromium ]; then
    echo "CHROMIUM_PATH=$chromium_path" >> "$ENV_FILE.new"
  fi
  mv "$ENV_FILE.new" "$ENV_FILE"
fi
chown "$RUN_USER:$RUN_USER" "$ENV_FILE"
chmod 0600 "$ENV_FILE"

say "crontab for host $CRON_HOST (user $RUN_USER; job output to the journal via logger)"
"$APP_DIR/.venv/bin/staktrakr" ops crontab --host "$CRON_HOST" --app-dir "$APP_DIR" \
  --env-file "$ENV_FILE" --file "$APP_DIR/crontab" --log-suffix '2>&1 | logger -t staktrakr' \
  | crontab -u "$RUN_USER" -

say "systemd unit $UNIT"
sed -e "s#@RUN_USER@#$RUN_USER#g" -e "s#@APP_DIR@#$APP_DIR#g" -e "s#@ENV_FILE@#$ENV_FILE#g" \
    -e "s#@STATE_DIR@#$STATE_DIR#g" "$APP_DIR/home-scraper/staktrakr-serve.service" > "$UNIT"
systemctl daemon-reload
systemctl enable --now cron staktrakr-serve.service
systemctl restart staktrakr-serve.service

say "done. Check: sudo -u $RUN_USER STAKTRAKR_ENV_FILE=$ENV_FILE $APP_DIR/bin/staktrakr-cron db status"
say "      and:   curl -s http://127.0.0.1:8080/healthz"
