#!/usr/bin/env bash
# Brings up the Redis and Postgres servers that hallpass needs (run before `npm start` and
# `npm test`). When both already answer it does nothing. Otherwise, for a local host
# (127.0.0.1, localhost, ::1) it starts a private server whose data lives in <repo>/.data/
# (git-ignored), installing the package with apt-get first when running as root. A remote
# host that does not answer is an error. The database and roles are created by the app.
#
#   REDIS_URL           default redis://127.0.0.1:6379
#   DATABASE_ADMIN_URL  default postgres://postgres@127.0.0.1:5432/hallpass
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="$REPO_DIR/.data"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
DATABASE_ADMIN_URL="${DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/hallpass}"

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

# One node call parses both URLs: host, port, scheme and a printable form without the password.
parsed="$(node -e '
  const out = []
  for (const [raw, defPort] of [[process.argv[1], "6379"], [process.argv[2], "5432"]]) {
    let u
    try { u = new URL(raw) } catch { console.error(`services: not a URL: ${raw.replace(/:[^:@\/]*@/, ":***@")}`); process.exit(1) }
    const host = u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1"
    const safe = new URL(u.href)
    if (safe.password) safe.password = "***"
    out.push(host, u.port || defPort, u.protocol.replace(/:$/, ""), safe.href)
  }
  console.log(out.join("\n"))
' -- "$REDIS_URL" "$DATABASE_ADMIN_URL")" || exit 1
{
  read -r REDIS_HOST; read -r REDIS_PORT; read -r REDIS_SCHEME; read -r REDIS_SAFE_URL
  read -r PG_HOST; read -r PG_PORT; read -r _; read -r PG_SAFE_URL
} <<<"$parsed"

with_timeout() { # with_timeout SECONDS cmd...  (plain run where coreutils timeout is missing)
  if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi
}

is_local() { case "$1" in 127.0.0.1|localhost|::1) return 0 ;; *) return 1 ;; esac; }

tcp_open() { # tcp_open HOST PORT
  with_timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

redis_answers() {
  if [ "$REDIS_SCHEME" = rediss ]; then # TLS: /dev/tcp cannot speak it, so a TCP accept will do
    tcp_open "$REDIS_HOST" "$REDIS_PORT"; return
  fi
  local reply
  reply="$(with_timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "PING\r\n" >&3
    IFS= read -r -t 2 line <&3 || exit 1
    printf "%s" "$line"' _ "$REDIS_HOST" "$REDIS_PORT" 2>/dev/null)" || return 1
  case "$reply" in
    +PONG*|-NOAUTH*) return 0 ;; # -NOAUTH: a password-protected server, answering all the same
    *) return 1 ;;
  esac
}

postgres_answers() {
  tcp_open "$PG_HOST" "$PG_PORT" || return 1
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -t 3 >/dev/null 2>&1 || return 1
  fi
  return 0
}

wait_for() { # wait_for SECONDS check-function
  local tries=$(( $1 * 5 ))
  while [ "$tries" -gt 0 ]; do
    "$2" && return 0
    sleep 0.2
    tries=$(( tries - 1 ))
  done
  return 1
}

IS_ROOT=false
[ "$(id -u)" = 0 ] && IS_ROOT=true

apt_install() { # apt_install PACKAGE
  if $IS_ROOT && command -v apt-get >/dev/null 2>&1; then
    say "installing $1 with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    die "$1 is not installed; install it with: sudo apt-get install -y $1"
  fi
}

redis_ok=false; pg_ok=false
redis_answers && redis_ok=true
postgres_answers && pg_ok=true
if $redis_ok && $pg_ok; then
  say "redis and postgres answer"
  exit 0
fi

done_msgs=()

# ---------------------------------------------------------------- Redis
start_redis() {
  is_local "$REDIS_HOST" || die "redis does not answer at $REDIS_SAFE_URL (not a local host, so not starting one)"
  if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after installing"
    if redis_answers; then done_msgs+=("installed redis-server (its service answers on $REDIS_PORT)"); return; fi
  fi
  local bind=127.0.0.1
  [ "$REDIS_HOST" = ::1 ] && bind=::1
  mkdir -p "$DATA_DIR/redis"
  redis-server --daemonize yes --bind "$bind" --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$DATA_DIR/redis" --logfile "$DATA_DIR/redis.log" --pidfile "$DATA_DIR/redis.pid" >/dev/null
  if ! wait_for 10 redis_answers; then
    tail -n 20 "$DATA_DIR/redis.log" >&2 2>/dev/null || true
    die "started redis-server on $bind:$REDIS_PORT but it does not answer PING (log: .data/redis.log)"
  fi
  done_msgs+=("started redis on $bind:$REDIS_PORT")
}

# ---------------------------------------------------------------- Postgres
PG_BIN=""
find_pg_bin() { # sets PG_BIN to a directory holding initdb and pg_ctl, or leaves it empty
  local want="" d
  [ -f "$PG_DATA/PG_VERSION" ] && want="$(cat "$PG_DATA/PG_VERSION")"
  # an existing cluster needs the binaries of its own major version
  if [ -n "$want" ] && [ -x "/usr/lib/postgresql/$want/bin/pg_ctl" ]; then PG_BIN="/usr/lib/postgresql/$want/bin"; return; fi
  if command -v pg_ctl >/dev/null 2>&1; then
    d="$(dirname "$(command -v pg_ctl)")"
    if [ -x "$d/initdb" ]; then PG_BIN="$d"; return; fi
  fi
  while IFS= read -r d; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then PG_BIN="$d"; fi # sorted, so the last is the highest
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
  return 0
}

as_pg() { # run a command as the postgres OS user when root (initdb and postgres refuse root)
  if ! $IS_ROOT; then "$@"; return; fi
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"
  else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  fi
}

start_postgres() {
  is_local "$PG_HOST" || die "postgres does not answer at $PG_SAFE_URL (not a local host, so not starting one)"
  PG_DATA="$DATA_DIR/pg"; PG_SOCK="$DATA_DIR/pg-socket"; PG_LOG="$DATA_DIR/pg.log"
  if $IS_ROOT; then
    id -u postgres >/dev/null 2>&1 || useradd -r -m postgres
    mkdir -p "$PG_DATA" "$PG_SOCK"; touch "$PG_LOG"
    chown -R postgres: "$PG_DATA" "$PG_SOCK" "$PG_LOG"
    if ! as_pg test -w "$PG_DATA" -a -w "$PG_SOCK" -a -w "$PG_LOG"; then
      # the repo sits where the postgres user cannot reach it (e.g. in a home only root can enter)
      local base="/var/tmp/hallpass-pg-$PG_PORT"
      rmdir "$PG_DATA" "$PG_SOCK" 2>/dev/null || true
      [ -s "$PG_LOG" ] || rm -f "$PG_LOG"
      PG_DATA="$base/data"; PG_SOCK="$base/socket"; PG_LOG="$base/pg.log"
      mkdir -p "$PG_DATA" "$PG_SOCK"; touch "$PG_LOG"
      chown -R postgres: "$base"
      say "postgres cannot reach the repo; using $base instead"
    fi
  else
    mkdir -p "$PG_DATA" "$PG_SOCK"
  fi

  find_pg_bin
  if [ -z "$PG_BIN" ]; then
    apt_install postgresql
    if postgres_answers; then done_msgs+=("installed postgresql (its service answers on $PG_PORT)"); return; fi
    find_pg_bin
    [ -n "$PG_BIN" ] || die "initdb/pg_ctl still not found after installing postgresql"
  fi

  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    # --locale=C: does not depend on which locales the machine has generated
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null \
      || die "initdb failed for $PG_DATA"
    done_msgs+=("initialised a postgres cluster in $PG_DATA")
  fi

  local listen=127.0.0.1 sock_opt
  [ "$PG_HOST" = ::1 ] && listen=::1
  sock_opt="-k '$PG_SOCK'"
  # a Unix socket path is limited to 107 bytes; TCP is all the app needs
  [ $(( ${#PG_SOCK} + 20 )) -gt 107 ] && sock_opt="-k ''"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 30 \
      -o "-c listen_addresses=$listen -p $PG_PORT $sock_opt" start >/dev/null; then
    tail -n 20 "$PG_LOG" >&2 2>/dev/null || true
    die "pg_ctl could not start postgres on $listen:$PG_PORT (log: $PG_LOG)"
  fi
  wait_for 10 postgres_answers || die "postgres started but does not accept connections on $listen:$PG_PORT (log: $PG_LOG)"
  done_msgs+=("started postgres on $listen:$PG_PORT (data $PG_DATA)")
}

if $redis_ok; then done_msgs+=("redis already answers"); else start_redis; fi
if $pg_ok; then done_msgs+=("postgres already answers"); else start_postgres; fi

msg="${done_msgs[0]}"
for m in "${done_msgs[@]:1}"; do msg="$msg; $m"; done
say "$msg"
