#!/usr/bin/env bash
# stop-rgw.sh: stops what scripts/s3/start-rgw.sh started, by the PID files it
# wrote under $RGW_BASE/run (never by process name), after checking that each PID
# is a Ceph daemon started with this cluster's ceph.conf.
#
# Usage:
#   scripts/s3/stop-rgw.sh                 stop every gateway, the OSD and the monitor
#   scripts/s3/stop-rgw.sh --wipe          the same, then delete $RGW_BASE
#   scripts/s3/stop-rgw.sh --gateway NAME  stop one gateway only (the cluster and its data stay)
set -u
BASE=${RGW_BASE:-$HOME/.cache/vigil-rgw}
RUN="$BASE/run"
GATEWAY=""
WIPE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --gateway) GATEWAY=${2:?--gateway needs a name}; shift 2 ;;
    --wipe) WIPE=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stop-rgw.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -d "$RUN" ] || { [ $WIPE = 1 ] && rm -rf "$BASE"; exit 0; }

# ours PID: true if PID is a Ceph daemon running with this cluster's ceph.conf.
ours() {
  local pid=$1 exe
  [ -r "/proc/$pid/cmdline" ] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  case "$exe" in */ceph-mon|*/ceph-osd|*/radosgw) ;; *) return 1 ;; esac
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "CEPH_CONF=$BASE/ceph.conf"
}

# stop_group PIDFILE...: SIGTERM each of our daemons named by these files, wait
# up to 10 s for them to exit, then SIGKILL the same PIDs.
stop_group() {
  local pids=() f pid p alive
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && ours "$pid"; then
      echo "[stop-rgw] stopping $(basename "$f" .pid) (pid $pid)" >&2
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$f"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for _ in $(seq 1 200); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.05
  done
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then echo "[stop-rgw] SIGKILL $p" >&2; kill -KILL "$p" 2>/dev/null || true; fi
  done
}

if [ -n "$GATEWAY" ]; then
  stop_group "$RUN/client.rgw.$GATEWAY.pid"
  exit 0
fi
# Gateways first (they need the OSD to close cleanly), then the OSD, then the monitor.
stop_group "$RUN"/client.rgw.*.pid
stop_group "$RUN"/osd.*.pid
stop_group "$RUN"/mon.*.pid
[ $WIPE = 1 ] && rm -rf "$BASE"
exit 0
