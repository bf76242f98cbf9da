#!/usr/bin/env bash
# Crash safety on its own (docs/reliability.md): kill -9 during a bulk and an incremental import,
# during batch signing, and under HTTP load, on SQLite and on a throwaway PostgreSQL cluster. After
# each kill the database must be consistent and hold every acknowledged write.
# scripts/test.sh runs the same tests within the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/postgres.sh

start_test_postgres || echo "NOTICE: no PostgreSQL to start: only the SQLite half runs"

cargo test --locked -p vaxtrace-cli --test cli --test vaccinations --test crash_under_load \
  -- --nocapture survives_kill_9 under_load
