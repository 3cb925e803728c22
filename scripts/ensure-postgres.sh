#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust auth and a database `test` (what the
# registry tests expect). Starts an existing Debian cluster if it is stopped; installs one from Debian's packages
# if there is none (root). Set MODELPIN_TEST_PG_URL to use another server and skip all of this.
set -euo pipefail
say() { echo "[ensure-postgres] $*" >&2; }

if [ -n "${MODELPIN_TEST_PG_URL:-}" ]; then say "using MODELPIN_TEST_PG_URL"; exit 0; fi
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if command -v pg_isready >/dev/null && ready; then say "running on 127.0.0.1:5432"; else
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    [ "$(id -u)" = 0 ] || { say "PostgreSQL is missing; install it (apt-get install postgresql) or run as root"; exit 1; }
    say "installing postgresql from Debian's packages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 60); do ready && break; sleep 0.5; done
  ready || { say "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
fi

# trust auth on loopback and a `test` database, as on the project's machines (only changed when missing)
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { say "cannot connect as postgres over TCP without a password; configure trust auth"; exit 1; }
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  say "enabling trust auth for 127.0.0.1 in $hba"
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname = 'test'")" != 1 ]; then
  say "creating database test"
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
fi
say "ready: postgres://postgres@127.0.0.1:5432/test"
