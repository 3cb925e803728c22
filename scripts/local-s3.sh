#!/usr/bin/env bash
# A real S3 with versioning on one machine: Ceph radosgw from Debian's packages (Pacific, 16.2).
# One mon + one OSD (memstore: objects live in RAM) + radosgw (beast) on 127.0.0.1, no mgr.
# Measured here: install about 16 s after apt-get update, start about 2 s, about 120 MiB of RAM when idle.
#
# Usage:  scripts/local-s3.sh install   install the Debian packages if missing (root; once per machine)
#         scripts/local-s3.sh start     (re)start with an EMPTY store (memstore keeps nothing across starts)
#         scripts/local-s3.sh ensure    start only if nothing answers on the port yet (tests share one gateway)
#         scripts/local-s3.sh stop      stop the daemons this script started, and nothing else
#         scripts/local-s3.sh status    exit 0 when the gateway answers
# Env:    MODELPIN_S3_DIR (state dir, default /tmp/modelpin-ceph), MODELPIN_S3_PORT (7480), MODELPIN_S3_MON_PORT (3300),
#         MODELPIN_S3_ACCESS_KEY / MODELPIN_S3_SECRET_KEY (modelpin / modelpin-secret)
set -euo pipefail

D=${MODELPIN_S3_DIR:-/tmp/modelpin-ceph}
RGW_PORT=${MODELPIN_S3_PORT:-7480}
MON_PORT=${MODELPIN_S3_MON_PORT:-3300}
AK=${MODELPIN_S3_ACCESS_KEY:-modelpin}
SK=${MODELPIN_S3_SECRET_KEY:-modelpin-secret}
export CEPH_CONF=$D/ceph.conf
t0=$(date +%s.%N)
step() { awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$*" 'BEGIN{printf "[local-s3 %5.1fs] %s\n", b-a, m}' >&2; }

have_binaries() { command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null \
  && command -v uuidgen >/dev/null && command -v curl >/dev/null; }

install() {
  if have_binaries; then step "radosgw already installed"; return; fi
  [ "$(id -u)" = 0 ] || { echo "local-s3: installing radosgw needs root (apt-get); run: sudo $0 install" >&2; exit 1; }
  step "apt-get update"
  apt-get update -qq >/dev/null
  step "apt-get install ceph-mon ceph-osd radosgw (about 20 s)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    ceph-mon ceph-osd radosgw uuid-runtime curl >/dev/null
  step "installed"
}

status() { curl -fs -o /dev/null "http://127.0.0.1:$RGW_PORT/"; }

stop() {   # only daemons this script started (pid files + name check); state is thrown away, so SIGKILL
  local pids=() p pid
  for p in "$D"/run/*.pid; do
    [ -e "$p" ] || continue; pid=$(cat "$p")
    case $(ps -o comm= -p "$pid" 2>/dev/null) in ceph-mon|ceph-osd|radosgw) pids+=("$pid");; esac
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill -9 "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do   # wait until gone (a not yet reaped zombie counts as gone)
      ps -o stat= -p "$(IFS=,; echo "${pids[*]}")" 2>/dev/null | grep -qv '^ *Z' || break; sleep 0.1
    done
  fi
  rm -f "$D"/run/*.pid
}

start() {
  have_binaries || { echo "local-s3: radosgw is not installed; run: $0 install" >&2; exit 1; }
  stop; rm -rf "$D"; mkdir -p "$D"/{run,log,mon,osd/0,rgw}
  local fsid; fsid=$(uuidgen)
  cat >"$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
ms bind ipv6 = false
keyring = $D/keyring
run dir = $D/run
pid file = $D/run/\$name.pid
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
mon data = $D/mon/\$id
osd data = $D/osd/\$id
osd objectstore = memstore
# RAM is only used as objects are stored. The demo keeps two ResNet-50 versions (2 x 100 MB); the test suite and the
# benchmarks upload several 100 MB objects at once (in parallel test files), and at 95 % full the OSD stops writes.
memstore device bytes = 8589934592
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
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
# radosgw frees a deleted object's data only after rgw_gc_obj_min_wait (2 h) in a pass every hour: tests and
# benchmarks that delete their 100 MB objects would fill the memstore long before. Free it right away.
rgw gc obj min wait = 0
rgw gc processor period = 60
CONF
  step "keys + monmap"
  ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n client.rgw.a \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null

  step "mon: mkfs + start"            # mkfs imports every key in the keyring into the mon
  ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
  ceph-mon -i a
  ceph -s --connect-timeout 30 >/dev/null

  step "osd: create + mkfs + start"
  local ouuid; ouuid=$(uuidgen)
  [ "$(ceph osd new "$ouuid")" = 0 ]
  ceph-osd -i 0 --mkfs --osd-uuid "$ouuid" >>"$D/log/osd.0.stderr" 2>&1
  ceph-osd -i 0 >>"$D/log/osd.0.stderr" 2>&1
  for _ in $(seq 240); do ceph osd dump 2>/dev/null | grep -q '^osd.0 up' && break; sleep 0.5; done
  ceph osd dump | grep -q '^osd.0 up'

  step "radosgw: start"
  radosgw -n client.rgw.a
  for _ in $(seq 240); do status && break; sleep 0.5; done
  status

  step "radosgw-admin user create"
  radosgw-admin user create --uid=modelpin --display-name=modelpin \
    --access-key="$AK" --secret="$SK" >/dev/null
  step "ready: http://127.0.0.1:$RGW_PORT (access key $AK)"
}

ensure() { if status; then step "already answering on http://127.0.0.1:$RGW_PORT"; else start; fi; }

[ $# -gt 0 ] || { echo "usage: $0 [install] start|ensure|stop|status" >&2; exit 2; }
for a in "$@"; do case $a in install|start|ensure|stop|status) "$a";; *) echo "local-s3: unknown command $a" >&2; exit 2;; esac; done
