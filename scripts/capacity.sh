#!/usr/bin/env bash
# Measures what one request costs the application and the database, in CPU seconds, for the
# capacity model of docs/scale.md. Starts a throwaway PostgreSQL primary and hot standby on
# loopback, loads a registry, runs `vaxtrace serve` (release build) and drives it with wrk for a
# bounded time per request kind, sampling each process's CPU (scripts/cpu_split.py).
#
#   scripts/capacity.sh [CITIZENS=200000] [SECONDS=10]
#
# Needs: PostgreSQL server binaries, wrk, curl, python3. Targets only 127.0.0.1; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
citizens="${1:-200000}"
seconds="${2:-10}"
bin=target/release/vaxtrace
cargo build --release -q --bin vaxtrace
command -v wrk > /dev/null || { echo "capacity: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

. scripts/lib/postgres.sh
start_throwaway_postgres
start_throwaway_standby
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null || true
  stop_throwaway_postgres
  rm -rf "$work"
}
trap cleanup EXIT

db="${PG_URL%/postgres}/capacity"
standby_db="${PG_STANDBY_URL%/postgres}/capacity"
psql -q "$PG_URL" -c "CREATE DATABASE capacity"
"$bin" --log warn generate citizens --province 91 --count "$citizens" --seed 7 --out "$work/people.csv"
"$bin" --log warn import citizens "$work/people.csv" --database-url "$db" --no-progress > /dev/null
export VAXTRACE_KEY_PASSPHRASE="capacity-keys-$(date +%s)-$$"
"$bin" --log warn keys root --database-url "$db" > /dev/null
"$bin" --log warn keys pass-signer --database-url "$db" > /dev/null
password="capacity-run-$(date +%s)-$$"
echo "$password" | "$bin" --log warn user add --database-url "$db" --username site_91 \
  --role vaccination_site --jurisdiction 91 > /dev/null

# One body per citizen: an identity check (matches), a first-dose report, a travel declaration.
python3 - "$work" "$(TZ=Asia/Ho_Chi_Minh date +%F)" << 'PY'
import csv, json, sys
work, today = sys.argv[1], sys.argv[2]
with open(f"{work}/people.csv", newline="") as f, open(f"{work}/verify.jsonl", "w") as v, \
        open(f"{work}/record.jsonl", "w") as r, open(f"{work}/declare.jsonl", "w") as d:
    for row in csv.DictReader(f):
        d.write(json.dumps({
            "personal_id": row["personal_id"], "full_name": row["full_name"],
            "birth_date": row["birth_date"], "sex": row["sex"], "symptoms": [],
            "origin_commune_code": row["permanent_commune_code"],
            "origin_address": row["permanent_address"], "destination_commune_code": "00004",
            "destination_address": "1 Đinh Tiên Hoàng", "travel_date": today, "transport": "car",
            "vehicle": "51A-000.01"}, ensure_ascii=False) + "\n")
        v.write(json.dumps({"personal_id": row["personal_id"], "full_name": row["full_name"],
                            "birth_date": row["birth_date"]}, ensure_ascii=False) + "\n")
        r.write(json.dumps({
            "source": "capacity", "source_record_id": "@N@", "personal_id": row["personal_id"],
            "full_name": row["full_name"], "birth_date": row["birth_date"], "sex": row["sex"],
            "commune_code": row["permanent_commune_code"], "vaccine_code": "EU/1/21/1529",
            "dose_number": "1", "administered_at": "2021-08-02T09:00:00+07:00",
            "site_code": "KG-CAP", "lot": "ABV123"}, ensure_ascii=False) + "\n")
PY

# Waits until the standby has replayed the load, so both measure the same data.
lsn="$(psql -Atq "$PG_URL" -c 'SELECT pg_current_wal_lsn()')"
caught_up=""
for _ in $(seq 300); do
  [ "$(psql -Atq "$PG_STANDBY_URL" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && { caught_up=1; break; }
  sleep 0.2
done
[ -n "$caught_up" ] || { echo "capacity: the standby did not catch up within 60 s" >&2; exit 1; }

run() { # label, server args...
  local label="$1"; shift
  "$bin" --log warn serve --database-url "$db" --addr 127.0.0.1:0 "$@" > "$work/banner" &
  server_pid=$!
  for _ in $(seq 300); do
    grep -q listening "$work/banner" 2> /dev/null && break
    kill -0 "$server_pid" 2> /dev/null || { echo "capacity: vaxtrace serve exited" >&2; exit 1; }
    sleep 0.1
  done
  local url
  url="$(sed -n 's/^vaxtrace listening on //p' "$work/banner")"
  local token
  token="$(curl -sf "$url/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"site_91\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  for kind in verify record declare; do
    local path=/api/v1/identity/verify
    [ "$kind" = record ] && path=/api/v1/vaccinations
    [ "$kind" = declare ] && path=/api/v1/declarations
    echo "== $label: $kind ($path), 32 connections, ${seconds} s"
    RUN="${label// /-}" TOKEN="$token" BODIES="$work/$kind.jsonl" python3 scripts/cpu_split.py -- \
      wrk -t2 -c32 -d"${seconds}s" --latency -s scripts/load/post.lua "$url$path" 2>&1 |
      grep -E 'requests in|Requests/sec|50%|99%|Non-2xx|cpu_split|Socket errors' | grep -v ': 0.0 CPU s'
  done
  kill "$server_pid"; wait "$server_pid" 2> /dev/null || true; server_pid=""
}

run "primary only"
run "reads on the standby" --read-database-url "$standby_db"
