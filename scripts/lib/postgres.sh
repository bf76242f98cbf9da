# Sourced by scripts: starts a throwaway PostgreSQL cluster on 127.0.0.1 and exports its URL.
# start_throwaway_postgres sets PG_URL (superuser 'postgres', trust auth) and registers cleanup;
# start_throwaway_standby then adds a hot standby of it (streaming replication) and sets
# PG_STANDBY_URL.

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_throwaway_postgres() {
  local bin
  bin=$(pg_bin_dir) || return 1
  PG_DIR=$(mktemp -d /tmp/vaxtrace-pg.XXXXXX)
  PG_PORT=$(free_port)
  local as=()
  # PostgreSQL refuses to run as root: run it as the 'postgres' system user then.
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=512MB" >/dev/null \
    || { cat "$PG_DIR/server.log"; return 1; }
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  PG_AS=("${as[@]}")
  PG_CTL=("${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data")
  trap stop_throwaway_postgres EXIT
}

start_throwaway_standby() {
  local bin
  bin=$(pg_bin_dir) || return 1
  [ -n "${PG_DIR:-}" ] || return 1
  PG_STANDBY_PORT=$(free_port)
  local as=("${PG_AS[@]}")
  # initdb's pg_hba.conf already trusts replication connections from 127.0.0.1.
  "${as[@]}" "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$PG_DIR/standby" \
    -R -X stream >"$PG_DIR/basebackup.log" 2>&1 || { cat "$PG_DIR/basebackup.log"; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/standby" -l "$PG_DIR/standby.log" -w start \
    -o "-p $PG_STANDBY_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c hot_standby=on -c fsync=off -c max_connections=300" >/dev/null \
    || { cat "$PG_DIR/standby.log"; return 1; }
  PG_STANDBY_URL="postgres://postgres@127.0.0.1:$PG_STANDBY_PORT/postgres"
  PG_STANDBY_CTL=("${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/standby")
}

# For the test scripts: a throwaway cluster whose URL the suites read.
start_test_postgres() {
  start_throwaway_postgres || return 1
  export VAXTRACE_TEST_POSTGRES_URL="$PG_URL"
  echo "PostgreSQL: throwaway cluster at $PG_URL"
}

stop_throwaway_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  [ -z "${PG_STANDBY_URL:-}" ] || "${PG_STANDBY_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
  "${PG_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}
