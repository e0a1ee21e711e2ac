#!/bin/sh
# Container start for the Fly poller. Secrets arrive as Fly secrets (environment). Cron jobs do
# not inherit that environment, so the settings' variables (and nothing else) go to ONE env
# file created 0600 from the first byte; never /etc/environment. Then the api host's crontab
# is rendered from the repo's crontab, and the command (supervisord) is exec'd.
# The paths are variables so tests can run this script against a temp dir.
set -eu

APP_DIR="${STAKTRAKR_APP_DIR:-/app}"
ENV_FILE="${STAKTRAKR_ENV_FILE:-/run/staktrakr/env}"
CRON_FILE="${STAKTRAKR_CRON_FILE:-/etc/cron.d/staktrakr}"
CRON_HOST="${POLLER_ID:-api}"
STAKTRAKR="$APP_DIR/.venv/bin/staktrakr"

RUN_USER="${STAKTRAKR_RUN_USER:-staktrakr}"
JOB_LOG="${STAKTRAKR_JOB_LOG:-/run/staktrakr/job-output}"  # cron.sh's FIFO to the container's stdout
DATA_DIR="${STAKTRAKR_DATA_DIR:-/data}"

umask 077
mkdir -p "$(dirname "$ENV_FILE")" "${STAKTRAKR_VAR_DIR:-/data/var}"
export STAKTRAKR_ENV_FILE="$ENV_FILE"
"$STAKTRAKR" ops env-file "$ENV_FILE"
# the jobs and serve run as RUN_USER: they read the env file (still 0600) and own the volume
# (files an older root-run image left there are handed over once; the rest is not touched)
chown "$RUN_USER:$RUN_USER" "$(dirname "$ENV_FILE")" "$ENV_FILE"
if [ -d "$DATA_DIR" ]; then
  find "$DATA_DIR" -xdev ! -user "$RUN_USER" -exec chown "$RUN_USER:$RUN_USER" {} +
fi

umask 022
# cron ignores files in /etc/cron.d whose names contain a dot, so the temp file is never read
"$STAKTRAKR" ops crontab --host "$CRON_HOST" --app-dir "$APP_DIR" --env-file "$ENV_FILE" \
  --file "$APP_DIR/crontab" --user "$RUN_USER" --log-suffix ">> $JOB_LOG 2>&1" > "$CRON_FILE.new"
chmod 0644 "$CRON_FILE.new"
mv "$CRON_FILE.new" "$CRON_FILE"
echo "entrypoint: env file $ENV_FILE (0600), crontab for host $CRON_HOST in $CRON_FILE" >&2

exec "$@"
