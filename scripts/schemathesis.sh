#!/usr/bin/env bash
# Property-based API testing from the served OpenAPI document (Schemathesis, PyPI): starts a demo
# server on loopback with a fresh SQLite database, logs in as the demo admin, and checks that no
# generated request gets a 5xx and that every status code is documented. Bounded by examples per
# operation and a time limit; stops the server at the end.
#
#   scripts/schemathesis.sh [EXAMPLES_PER_OPERATION=25]
#
# Needs: `pip install schemathesis`; builds the debug binary if needed. The demo makes its keys
# with VAXTRACE_KEY_PASSPHRASE when it is set, else with one of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-25}"
command -v st > /dev/null || { echo "schemathesis: not installed (pip install schemathesis)" >&2; exit 1; }
cargo build -q --bin vaxtrace
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && exec "$OLDPWD/target/debug/vaxtrace" --log warn demo --database-url "sqlite:$work/demo.db" \
  --addr 127.0.0.1:0 --citizens 500 > "$work/demo.log" 2>&1) &
server_pid=$!
for _ in $(seq 1200); do
  grep -q '^Open http' "$work/demo.log" 2> /dev/null && break
  kill -0 "$server_pid" 2> /dev/null || { cat "$work/demo.log" >&2; exit 1; }
  sleep 0.25
done
url="$(sed -n 's|^Open \(http://[^/]*\)/login.*|\1|p' "$work/demo.log")"
[ -n "$url" ] || { echo "schemathesis: the demo server did not start" >&2; cat "$work/demo.log" >&2; exit 1; }
password="$(awk '$1 == "admin" {print $2; exit}' "$work/demo.db.demo-logins.txt")"
token="$(python3 - "$url" "$password" << 'PY'
import json, sys, urllib.request
url, password = sys.argv[1], sys.argv[2]
body = json.dumps({"username": "admin", "password": password}).encode()
req = urllib.request.Request(f"{url}/api/v1/auth/login", body, {"content-type": "application/json"})
print(json.load(urllib.request.urlopen(req))["token"])
PY
)"

# Logout would end the run's own session; the rest is fair game. Its cache stays in the work dir.
cd "$work"
timeout 900 st run "$url/api/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance \
  --max-examples "$examples" \
  --exclude-path /api/v1/auth/logout \
  --generation-deterministic \
  --request-timeout 10
