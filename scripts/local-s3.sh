#!/usr/bin/env bash
# A real S3 with versioning on one machine: Ceph radosgw from Debian's packages (Pacific, 16.2).
# One mon + one OSD + radosgw (beast) on 127.0.0.1, no mgr. Two object stores:
#   memstore   objects live in RAM and every start wipes them (the tests' throwaway gateway; the default)
#   bluestore  objects live in a sparse file under the state dir and survive a stop/start (the local stack)
# Measured here: install about 16 s after apt-get update; memstore start about 2 s and about 120 MiB when idle;
# bluestore first start (mkfs) about 6 s, restart about 2 s (stop under 1 s), its data survives a stop and a
# SIGKILL alike; the OSD holds 60-110 MiB and radosgw about 45 MiB idle, 160 and 220 MiB after 1 GB of uploads.
#
# Usage:  scripts/local-s3.sh install   install the Debian packages if missing (root; once per machine)
#         scripts/local-s3.sh start     memstore: (re)start with an EMPTY store. bluestore: start on the store in
#                                       MODELPIN_S3_DIR, or create an empty one (and say so) when there is none
#         scripts/local-s3.sh ensure    start only if nothing answers on the port yet (tests share one gateway)
#         scripts/local-s3.sh stop      stop the daemons this script started, and nothing else
#         scripts/local-s3.sh status    exit 0 when the gateway answers
#         scripts/local-s3.sh wipe      stop, then delete MODELPIN_S3_DIR (the next start begins empty)
# Env:    MODELPIN_S3_STORE (memstore | bluestore), MODELPIN_S3_DIR (state dir, default /tmp/modelpin-ceph),
#         MODELPIN_S3_PORT (7480), MODELPIN_S3_MON_PORT (memstore: 3300; bluestore: a free port chosen when the
#         store is created, then kept), MODELPIN_S3_ACCESS_KEY / MODELPIN_S3_SECRET_KEY (modelpin / modelpin-secret)
set -euo pipefail

D=${MODELPIN_S3_DIR:-/tmp/modelpin-ceph}
STORE=${MODELPIN_S3_STORE:-memstore}
RGW_PORT=${MODELPIN_S3_PORT:-7480}
AK=${MODELPIN_S3_ACCESS_KEY:-modelpin}
SK=${MODELPIN_S3_SECRET_KEY:-modelpin-secret}
# written once the store holds a mon, an OSD and the S3 user: a store without it is incomplete and is created anew
READY=$D/store-ready
export CEPH_CONF=$D/ceph.conf
t0=$(date +%s.%N)
step() { awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$*" 'BEGIN{printf "[local-s3 %5.1fs] %s\n", b-a, m}' >&2; }
fail() { echo "local-s3: $*" >&2; exit 1; }

case $STORE in memstore|bluestore) ;; *) fail "MODELPIN_S3_STORE must be memstore or bluestore, got \"$STORE\"";; esac

have_binaries() { command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null \
  && command -v uuidgen >/dev/null && command -v curl >/dev/null; }

install() {
  if have_binaries; then step "radosgw already installed"; return; fi
  [ "$(id -u)" = 0 ] || fail "installing radosgw needs root (apt-get); run: sudo $0 install"
  step "apt-get update"
  apt-get update -qq >/dev/null
  step "apt-get install ceph-mon ceph-osd radosgw (about 20 s)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    ceph-mon ceph-osd radosgw uuid-runtime curl >/dev/null
  step "installed"
}

status() { curl -fs -m 5 -o /dev/null "http://127.0.0.1:$RGW_PORT/"; }   # -m: a wedged gateway (a full memstore) must not hang the caller

# The store a state dir holds, as its ceph.conf says (empty when there is none).
store_of() { sed -n 's/^osd objectstore = //p' "$D/ceph.conf" 2>/dev/null || true; }

pid_of() {   # the live pid of daemon $1 (mon.a, osd.0, client.rgw.a) that this script started, if any
  local p=$D/run/$1.pid pid
  [ -e "$p" ] || return 1
  pid=$(cat "$p")
  case $(ps -o comm= -p "$pid" 2>/dev/null) in ceph-mon|ceph-osd|radosgw) echo "$pid";; *) return 1;; esac
}

wait_gone() {   # waits up to $1 tenths of a second for the pids (a not yet reaped zombie counts as gone)
  local tenths=$1; shift
  for _ in $(seq "$tenths"); do
    ps -o stat= -p "$(IFS=,; echo "$*")" 2>/dev/null | grep -qv '^ *Z' || return 0; sleep 0.1
  done
  return 1
}

stop() {   # only daemons this script started (pid files + name check)
  local pids=() name pid
  if [ "$(store_of)" = bluestore ]; then
    # the store is kept: let each daemon shut down cleanly (gateway first, monitor last); SIGKILL only if it hangs
    for name in client.rgw.a osd.0 mon.a; do
      pid=$(pid_of "$name") || continue
      kill -TERM "$pid" 2>/dev/null || true
      wait_gone 300 "$pid" || { step "$name did not stop within 30 s: killing it"; kill -9 "$pid" 2>/dev/null || true; wait_gone 50 "$pid" || true; }
    done
  else
    # memstore's state is thrown away, so SIGKILL (a clean memstore shutdown would write every object to disk)
    for name in client.rgw.a osd.0 mon.a; do pid=$(pid_of "$name") && pids+=("$pid"); done
    if [ ${#pids[@]} -gt 0 ]; then kill -9 "${pids[@]}" 2>/dev/null || true; wait_gone 50 "${pids[@]}" || true; fi
  fi
  rm -f "$D"/run/*.pid
}

wipe() { stop; rm -rf "$D"; step "wiped $D"; }

free_port() {   # the first port from $1 on where nothing listens on 127.0.0.1
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

write_conf() {   # $1 fsid, $2 mon port
  local store_lines
  if [ "$STORE" = bluestore ]; then
    # A sparse file: it takes disk space only as objects are written. Memory capped for a small machine (2 cores,
    # shared with the stack): the OSD's caches are autotuned to keep it under osd_memory_target (896 MiB, the least
    # Ceph accepts); bluestore_cache_size is the cache if autotuning is off. One op shard: two cores, one client.
    store_lines="osd objectstore = bluestore
bluestore block create = true
bluestore block size = 34359738368
bluestore block db create = false
bluestore block wal create = false
bdev enable discard = false
osd memory target = 939524096
osd memory cache min = 67108864
bluestore cache autotune = true
bluestore cache size = 134217728
bluestore rocksdb options = compression=kNoCompression,max_write_buffer_number=2,min_write_buffer_number_to_merge=1,write_buffer_size=16777216,writable_file_max_buffer_size=0,compaction_readahead_size=2097152
osd op num shards = 1
osd op num threads per shard = 2"
  else
    # RAM is only used as objects are stored. The demo keeps two ResNet-50 versions (2 x 100 MB); the test suite and
    # the benchmarks upload several 100 MB objects at once (in parallel test files), and at 95 % full the OSD stops writes.
    store_lines="osd objectstore = memstore
memstore device bytes = 8589934592"
  fi
  cat >"$CEPH_CONF" <<CONF
[global]
fsid = $1
mon host = v2:127.0.0.1:$2
public addr = 127.0.0.1
ms bind ipv6 = false
keyring = $D/keyring
run dir = $D/run
pid file = $D/run/\$name.pid
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
mon data = $D/mon/\$id
osd data = $D/osd/\$id
$store_lines
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
# without these each pool creation costs ~2 s (rgw creates 7 pools lazily)
paxos propose interval = 0.05
paxos min wait = 0.01
[client.rgw.a]
# tcp_nodelay: beast leaves Nagle's algorithm on, and a small object's last segment then waits for the client's
# delayed ACK: about 1 GET in 4 of a 56 KB image took 45 ms instead of 4-5 (the warm benchmark's image read).
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $D/rgw
# radosgw frees a deleted object's data only after rgw_gc_obj_min_wait (2 h) in a pass every hour: tests and
# benchmarks that delete their 100 MB objects would fill the memstore long before. Free it right away.
rgw gc obj min wait = 0
rgw gc processor period = 60
CONF
}

start_osd_and_gateway() {
  ceph-osd -i 0 >>"$D/log/osd.0.stderr" 2>&1
  for _ in $(seq 240); do ceph osd dump 2>/dev/null | grep -q '^osd.0 up' && break; sleep 0.25; done
  ceph osd dump | grep -q '^osd.0 up' || fail "the OSD did not come up (see $D/log/osd.0.log)"
  step "radosgw: start"
  radosgw -n client.rgw.a
  for _ in $(seq 480); do status && break; sleep 0.25; done
  status || fail "radosgw does not answer on port $RGW_PORT (see $D/log/client.rgw.a.log)"
}

restart_kept_store() {
  local fsid mon_port
  fsid=$(sed -n 's/^fsid = //p' "$CEPH_CONF")
  mon_port=$(sed -n 's/^mon host = v2:127.0.0.1://p' "$CEPH_CONF")
  write_conf "$fsid" "$mon_port"   # the gateway's port may differ from the last start
  # No `ceph` CLI round-trips here (each one is a Python start, up to a second on a busy machine): the OSD finds the
  # monitor by itself, and radosgw answers only once it reaches the OSD, so its port is the one thing to wait for.
  step "mon, osd, radosgw: start on the kept store in $D"
  ceph-mon -i a
  ceph-osd -i 0 >>"$D/log/osd.0.stderr" 2>&1
  radosgw -n client.rgw.a
  for _ in $(seq 600); do status && break; sleep 0.1; done
  status || fail "radosgw does not answer on port $RGW_PORT (see $D/log/client.rgw.a.log and osd.0.log)"
  step "ready: http://127.0.0.1:$RGW_PORT (access key $AK; store kept in $D)"
}

create_store() {
  rm -rf "$D"; mkdir -p "$D"/{run,log,mon,osd/0,rgw}
  local fsid mon_port
  fsid=$(uuidgen)
  if [ "$STORE" = bluestore ]; then mon_port=${MODELPIN_S3_MON_PORT:-$(free_port $((RGW_PORT + 1)))}
  else mon_port=${MODELPIN_S3_MON_PORT:-3300}; fi
  write_conf "$fsid" "$mon_port"
  step "keys + monmap"
  ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n client.rgw.a \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$D/monmap" >/dev/null

  step "mon: mkfs + start"            # mkfs imports every key in the keyring into the mon
  ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
  ceph-mon -i a
  ceph -s --connect-timeout 30 >/dev/null

  step "osd: create + mkfs ($STORE) + start"
  local ouuid; ouuid=$(uuidgen)
  [ "$(ceph osd new "$ouuid")" = 0 ]
  ceph-osd -i 0 --mkfs --osd-uuid "$ouuid" >>"$D/log/osd.0.stderr" 2>&1
  start_osd_and_gateway

  step "radosgw-admin user create"
  radosgw-admin user create --uid=modelpin --display-name=modelpin \
    --access-key="$AK" --secret="$SK" >/dev/null
  date -u +%FT%TZ >"$READY"
  step "ready: http://127.0.0.1:$RGW_PORT (access key $AK; $STORE store in $D)"
}

start() {
  have_binaries || fail "radosgw is not installed; run: $0 install"
  local kept; kept=$(store_of)
  if [ "$STORE" = memstore ] && [ "$kept" = bluestore ]; then
    fail "$D holds a bluestore store that memstore would wipe; use MODELPIN_S3_STORE=bluestore, or \"$0 wipe\" first"
  fi
  stop
  if [ "$STORE" = bluestore ]; then
    if [ -e "$READY" ] && [ "$kept" = bluestore ]; then restart_kept_store; return; fi
    if [ -e "$D" ]; then step "no complete bluestore store in $D (never finished, or wiped): creating an EMPTY one"
    else step "no store in $D yet: creating an EMPTY one"; fi
  fi
  create_store
}

ensure() { if status; then step "already answering on http://127.0.0.1:$RGW_PORT"; else start; fi; }

[ $# -gt 0 ] || { echo "usage: $0 [install] start|ensure|stop|status|wipe" >&2; exit 2; }
for a in "$@"; do case $a in install|start|ensure|stop|status|wipe) "$a";; *) echo "local-s3: unknown command $a" >&2; exit 2;; esac; done
