#!/usr/bin/env bash
# The one test command (README and CI): formatting, lints, every test on SQLite and on a throwaway
# PostgreSQL cluster (with a hot standby), Schemathesis against the served OpenAPI document, and the
# browser tests in headless Chromium, and a bounded run of every fuzz target (VAXTRACE_FUZZ_SECONDS
# each, default 60). Under CI=true a missing PostgreSQL, Schemathesis, Chromium or cargo-fuzz is
# an error, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/postgres.sh

if start_test_postgres; then
  if start_throwaway_standby; then
    export VAXTRACE_TEST_POSTGRES_STANDBY_URL="$PG_STANDBY_URL"
    echo "PostgreSQL: hot standby of it at $PG_STANDBY_URL"
  elif [ "${CI:-}" = true ]; then
    echo "error: cannot start a hot standby (pg_basebackup)" >&2
    exit 1
  fi
elif [ "${CI:-}" = true ]; then
  echo "error: PostgreSQL is required under CI (apt-get install postgresql)" >&2
  exit 1
else
  echo "NOTICE: PostgreSQL is not installed: the PostgreSQL half of the suites prints SKIPPED"
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

if command -v st >/dev/null; then
  ./scripts/schemathesis.sh 15
elif [ "${CI:-}" = true ]; then
  echo "error: the API property tests need schemathesis (python3 -m pip install -r tests/e2e/requirements.txt)" >&2
  exit 1
else
  echo "NOTICE: schemathesis missing: API property tests SKIPPED (pip install schemathesis)"
fi

if command -v chromium >/dev/null && command -v chromedriver >/dev/null && python3 -c 'import selenium, pytest' 2>/dev/null; then
  cargo build --locked --bin vaxtrace
  VAXTRACE_BIN="$PWD/target/debug/vaxtrace" python3 -m pytest -q tests/e2e
elif [ "${CI:-}" = true ]; then
  echo "error: browser tests need chromium, chromium-driver and python3 -m pip install selenium pytest" >&2
  exit 1
else
  echo "NOTICE: chromium/chromedriver/selenium missing: browser tests SKIPPED (see .ci/run for the install)"
fi

# Bounded fuzzing of every parser of outside input (fuzz/README.md), last: it takes minutes.
if cargo fuzz --version >/dev/null 2>&1; then
  ./scripts/fuzz.sh "${VAXTRACE_FUZZ_SECONDS:-60}"
elif [ "${CI:-}" = true ]; then
  echo "error: the fuzz runs need cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
  exit 1
else
  echo "NOTICE: cargo-fuzz missing: fuzz runs SKIPPED (cargo install cargo-fuzz --locked)"
fi
