#!/bin/sh
# supervisord's cron program: cron in the foreground. On SIGTERM (a deploy or restart) stop cron,
# pass SIGTERM to each running job runner (bin/staktrakr-cron records its pid under
# $STAKTRAKR_VAR_DIR/run while it runs; each runner forwards it to its job) and wait until they
# have finished, at most STOP_WAIT_S seconds. Cron starts each job in a session of its own, so a
# signal to cron's process group would never reach them.
VAR_DIR="${STAKTRAKR_VAR_DIR:-/data/var}"
STOP_WAIT_S="${STOP_WAIT_S:-25}"
CRON="${CRON:-/usr/sbin/cron}"
RUN_USER="${STAKTRAKR_RUN_USER:-staktrakr}"
JOB_LOG="${STAKTRAKR_JOB_LOG:-/run/staktrakr/job-output}"

# The jobs run as RUN_USER, which may not open /proc/1/fd/1 (root's): each crontab line appends
# its output to this FIFO instead, and one reader copies it to our stdout (supervisord's, so
# `fly logs`). Opened read-write, the reader never sees end-of-file between jobs.
if [ ! -p "$JOB_LOG" ]; then
  mkdir -p "$(dirname "$JOB_LOG")"
  rm -f "$JOB_LOG"
  mkfifo -m 0620 "$JOB_LOG"
fi
chown "root:$RUN_USER" "$JOB_LOG"
cat 0<>"$JOB_LOG" &
reader_pid=$!

"$CRON" -f &
cron_pid=$!

stop() {
  kill -TERM "$cron_pid" 2>/dev/null
  for pidfile in "$VAR_DIR"/run/cron-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null)
    # only a live runner of ours, `python -P -m staktrakr ops cron JOB` (a stale file may name a reused pid)
    if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-m staktrakr ops cron "; then
      kill -TERM "$pid" 2>/dev/null
    fi
  done
  waited=0
  while [ "$waited" -lt "$STOP_WAIT_S" ] && ls "$VAR_DIR"/run/cron-*.pid >/dev/null 2>&1; do
    sleep 1
    waited=$((waited + 1))
  done
  kill -TERM "$reader_pid" 2>/dev/null
  exit 0
}
trap stop TERM INT
wait "$cron_pid"
