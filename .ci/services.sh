# Sourced by .ci/run: installs PostgreSQL and Redis from Debian's packages,
# starts them on loopback and exports the variables the tests read. Under
# CI the tests that need them fail, rather than skip, when a variable is
# missing.

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if [ -z "$(pg_bin)" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt_install postgresql
fi
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi

# The server binaries, for the test that stops and restarts its own
# private PostgreSQL under load.
export USERCENTER_TEST_PG_BIN="$(pg_bin)"

pg_version="$(basename "$(dirname "$USERCENTER_TEST_PG_BIN")")"
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main"' | grep -q .; then
  as_root pg_createcluster "$pg_version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster "$pg_version" main start
fi
pg_port="$(pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $3}')"
as_postgres psql -q -p "$pg_port" -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
SELECT 'CREATE ROLE usercenter LOGIN PASSWORD ''usercenter-ci''' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'usercenter')\gexec
DROP DATABASE IF EXISTS usercenter_test;
CREATE DATABASE usercenter_test OWNER usercenter;
SQL
export USERCENTER_TEST_POSTGRES="postgres://usercenter:usercenter-ci@127.0.0.1:$pg_port/usercenter_test?sslmode=disable"

redis_port=6390
redis_pidfile="$(mktemp -d)/redis.pid"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$redis_pidfile" >/dev/null
trap 'kill "$(cat "$redis_pidfile" 2>/dev/null)" 2>/dev/null || true' EXIT
export USERCENTER_TEST_REDIS="redis://127.0.0.1:$redis_port/0"
