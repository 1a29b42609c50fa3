#!/usr/bin/env bash
# start-rgw.sh: a throw-away S3 with Object Lock for Vigil's tests and for
# development: a one-node Ceph cluster (one monitor, one in-memory OSD) and a
# radosgw gateway, all on 127.0.0.1. Data lives in RAM and is lost on stop.
#
# Usage:
#   scripts/s3/start-rgw.sh                       fresh cluster + gateway "a" on $RGW_PORT
#   scripts/s3/start-rgw.sh --gateway NAME --port P
#                                                 one more gateway on the running cluster
#                                                 (tests stop and restart it to simulate an S3 outage)
#
# Stdout: KEY=VALUE lines for `set -a; eval "$(scripts/s3/start-rgw.sh)"; set +a`:
#   S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, RGW_BASE, CEPH_CONF
# Progress and errors go to stderr; daemon logs to $RGW_BASE/log.
#
# Environment: RGW_BASE (default $HOME/.cache/vigil-rgw), RGW_PORT (7480),
#   MON_V2_PORT (3300), MON_V1_PORT (6789), OSD_PORT_MIN/MAX (6800/6830),
#   S3_ACCESS_KEY / S3_SECRET_KEY (fixed test credentials), OSD_MEM_BYTES
#   (memstore size, default 2 GiB), RGW_AUTO_INSTALL=1 (apt-get the packages).
# Needs Debian's ceph-mon ceph-osd radosgw ceph-common (Ceph 16); no ceph-mgr.
set -euo pipefail

BASE=${RGW_BASE:-$HOME/.cache/vigil-rgw}
RGW_PORT=${RGW_PORT:-7480}
MON_V2_PORT=${MON_V2_PORT:-3300}
MON_V1_PORT=${MON_V1_PORT:-6789}
OSD_PORT_MIN=${OSD_PORT_MIN:-6800}
OSD_PORT_MAX=${OSD_PORT_MAX:-6830}
ACCESS_KEY=${S3_ACCESS_KEY:-VIGILTESTACCESSKEY00}
SECRET_KEY=${S3_SECRET_KEY:-vigiltestsecretkey000000000000000000000}
OSD_MEM_BYTES=${OSD_MEM_BYTES:-2147483648}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF="$BASE/ceph.conf"

GATEWAY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --gateway) GATEWAY=${2:?--gateway needs a name}; shift 2 ;;
    --port) RGW_PORT=${2:?--port needs a number}; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-rgw.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -z "$GATEWAY" || "$GATEWAY" =~ ^[a-z0-9]+$ ]] || { echo "start-rgw.sh: gateway names are lowercase letters and digits" >&2; exit 2; }

t0=$EPOCHREALTIME
log() { echo "[start-rgw $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1fs", b-a}')] $*" >&2; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {
  cat <<EOF
S3_ENDPOINT=http://127.0.0.1:$1
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
AWS_REGION=us-east-1
RGW_BASE=$BASE
CEPH_CONF=$CONF
EOF
}

# start_gateway NAME PORT: radosgw connects to the cluster before it daemonises,
# so it is started in the background and the endpoint is polled until it answers.
start_gateway() {
  local name=$1 port=$2 code=000 pidfile="$BASE/run/client.rgw.$1.pid"
  if port_in_use "$port"; then echo "port 127.0.0.1:$port is already in use; choose another --port / RGW_PORT" >&2; exit 1; fi
  mkdir -p "$BASE/rgw/$name"
  log "starting radosgw $name on 127.0.0.1:$port"
  CEPH_CONF="$CONF" radosgw -n "client.rgw.$name" --rgw-frontends "beast endpoint=127.0.0.1:$port" \
    --rgw-data "$BASE/rgw/$name" </dev/null >>"$BASE/log/rgw-$name.out" 2>&1 &
  for _ in $(seq 1 240); do
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "radosgw $name exited; see $BASE/log/client.rgw.$name.log" >&2; exit 1
    fi
    code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    [ "$code" = 200 ] && break
    sleep 0.25
  done
  [ "$code" = 200 ] || { echo "radosgw $name is not answering on 127.0.0.1:$port (last HTTP code $code); see $BASE/log" >&2; exit 1; }
  log "radosgw $name answering"
}

if [ -n "$GATEWAY" ]; then
  [ -f "$CONF" ] || { echo "no cluster at $BASE: run scripts/s3/start-rgw.sh first" >&2; exit 1; }
  export CEPH_CONF="$CONF"
  ceph --connect-timeout 10 -s >/dev/null 2>&1 || { echo "the cluster at $BASE is not running: run scripts/s3/start-rgw.sh" >&2; exit 1; }
  start_gateway "$GATEWAY" "$RGW_PORT"
  print_env "$RGW_PORT"
  exit 0
fi

missing=0
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool uuidgen curl; do command -v "$b" >/dev/null || missing=1; done
/usr/bin/python3 -c 'import rados' 2>/dev/null || missing=1
PKGS="ceph-mon ceph-osd radosgw ceph-common curl"
if [ $missing = 1 ]; then
  if [ "${RGW_AUTO_INSTALL:-0}" = 1 ]; then
    log "installing $PKGS"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >&2
  else
    echo "Ceph is not installed: apt-get install -y --no-install-recommends $PKGS  (or rerun with RGW_AUTO_INSTALL=1)" >&2
    exit 1
  fi
fi

# A fresh start: stop what an earlier run of this script left (by its PID files), wipe.
RGW_BASE="$BASE" "$HERE/stop-rgw.sh" >&2 || true
rm -rf "$BASE"
mkdir -p "$BASE"/{mon,osd,rgw,run,log}
for port in "$RGW_PORT" "$MON_V2_PORT" "$MON_V1_PORT"; do
  if port_in_use "$port"; then echo "port 127.0.0.1:$port is already in use; set RGW_PORT / MON_V2_PORT / MON_V1_PORT" >&2; exit 1; fi
done

FSID=$(uuidgen)
cat >"$CONF" <<EOF
# Written by Vigil's scripts/s3/start-rgw.sh: a disposable single-node cluster on loopback.
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_V1_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind port min = $OSD_PORT_MIN
ms bind port max = $OSD_PORT_MAX
# no authentication inside a throw-away loopback cluster
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
keyring = /dev/null
run dir = $BASE/run
pid file = $BASE/run/\$name.pid
log file = $BASE/log/\$name.log
log to stderr = false
err to stderr = true
debug ms = 0
# one OSD: single replica, few placement groups
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# the monitor batches map updates every paxos propose interval (1 s by default);
# a short interval makes each pool or OSD creation take milliseconds
paxos propose interval = 0.01
paxos min wait = 0.001

[mon]
admin socket = $BASE/run/\$name.asok
mon data = $BASE/mon/\$name
mon data avail crit = 0
mon data avail warn = 0
mon allow pool delete = true
mon cluster log file = $BASE/log/mon-cluster.log

[osd]
admin socket = $BASE/run/\$name.asok
osd objectstore = memstore
memstore device bytes = $OSD_MEM_BYTES
osd data = $BASE/osd/\$name
osd class load list = *
osd class default list = *
osd op num shards = 1
osd op num threads per shard = 2

[client]
admin socket = $BASE/run/\$name.asok
# radosgw defaults to cephx and a secure monitor connection; with auth none it
# would loop on "get_initial_auth_request returned -13"
auth client required = none
ms mon client mode = crc
rgw thread pool size = 64
rgw enable apis = s3, admin
rgw dns name = 127.0.0.1
# SSE-KMS with radosgw's testing backend: two static AES-256 keys, testkey-1 and
# testkey-2, so that aws:kms puts are encrypted and an unknown key id is refused.
# Plain HTTP on loopback, hence no TLS requirement for encryption headers.
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY= testkey-2=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=
rgw crypt require ssl = false
EOF
export CEPH_CONF="$CONF"

log "creating the monitor"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_V1_PORT]" "$BASE/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$BASE/monmap" --keyring /dev/null
ceph-mon -i a
ceph --connect-timeout 30 -s >/dev/null
log "monitor up"

# Register the OSD and create radosgw's pools in one librados session: radosgw
# would otherwise create them one by one on first use, which takes seconds.
OSD_ID=$(/usr/bin/python3 - <<'PY'
import json, os, rados
c = rados.Rados(conffile=os.environ['CEPH_CONF'])
c.connect(timeout=30)
def mon(cmd):
    ret, out, err = c.mon_command(json.dumps(cmd), b'', timeout=30)
    if ret != 0:
        raise SystemExit(f"monitor command {cmd['prefix']} failed: {ret} {err}")
    return out
osd = json.loads(mon({"prefix": "osd create", "format": "json"}))["osdid"]
mon({"prefix": "osd crush add", "id": osd, "name": f"osd.{osd}", "weight": 1.0, "args": ["root=default", "host=localhost"]})
for pool in [".rgw.root", "default.rgw.control", "default.rgw.meta", "default.rgw.log",
             "default.rgw.buckets.index", "default.rgw.buckets.data", "default.rgw.buckets.non-ec"]:
    mon({"prefix": "osd pool create", "pool": pool, "pg_num": 8, "pgp_num": 8})
    mon({"prefix": "osd pool application enable", "pool": pool, "app": "rgw"})
c.shutdown()
print(osd)
PY
)
log "osd.$OSD_ID registered, pools created"

mkdir -p "$BASE/osd/osd.$OSD_ID"
ceph-osd -i "$OSD_ID" --mkfs >"$BASE/log/osd-mkfs.out" 2>&1
ceph-osd -i "$OSD_ID" 2>>"$BASE/log/osd-stderr.log"
for _ in $(seq 1 120); do
  ceph osd dump 2>/dev/null | grep -q "^osd.$OSD_ID up" && break
  sleep 0.25
done
ceph osd dump | grep -q "^osd.$OSD_ID up" || { echo "osd.$OSD_ID did not come up; see $BASE/log" >&2; exit 1; }
log "osd.$OSD_ID up"

start_gateway a "$RGW_PORT"

radosgw-admin user create --uid=vigil-test --display-name="Vigil tests" \
  --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null
log "S3 user created; ready"
print_env "$RGW_PORT"
