#!/usr/bin/env bash
# Brings up the Redis and Postgres servers that hallpass needs (run before `npm start` and
# `npm test`). A server is used only when it answers AND takes our credentials: Redis a PING
# (after AUTH with the URL's password), Postgres a real login as the URL's user. Otherwise, for
# a local host (127.0.0.1, localhost, ::1) it starts a private server whose data lives in
# <repo>/.data/ (git-ignored), installing the package with apt-get first when running as root,
# and records what it started there. A remote host that does not answer is an error. The
# database and roles are created by the app.
#
#   bash scripts/services.sh               start what is missing (npm run services)
#   bash scripts/services.sh stop [--wipe] stop only what this script started (npm run services:stop);
#                                          --wipe also deletes .data/ (the data of both)
#
#   REDIS_URL           default redis://127.0.0.1:6379 (a password in it is given to the Redis started here)
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
    out.push(host, u.port || defPort, u.protocol.replace(/:$/, ""), safe.href, decodeURIComponent(u.username), decodeURIComponent(u.password))
  }
  console.log(out.concat("end").join("\n")) // "end": $(…) would drop trailing empty lines
' -- "$REDIS_URL" "$DATABASE_ADMIN_URL")" || exit 1
{
  read -r REDIS_HOST; read -r REDIS_PORT; read -r REDIS_SCHEME; read -r REDIS_SAFE_URL; read -r REDIS_USER; read -r REDIS_PASSWORD
  read -r PG_HOST; read -r PG_PORT; read -r _; read -r PG_SAFE_URL; read -r PG_USER; read -r _
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
  # AUTH as a RESP array (a password may hold spaces); the password travels in the environment
  # of this one command, never in its arguments (ps shows those)
  reply="$(HP_REDIS_USER="$REDIS_USER" HP_REDIS_PASSWORD="$REDIS_PASSWORD" LC_ALL=C with_timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    if [ -n "$HP_REDIS_PASSWORD" ]; then
      if [ -n "$HP_REDIS_USER" ]; then
        printf "*3\r\n\$4\r\nAUTH\r\n\$%d\r\n%s\r\n\$%d\r\n%s\r\n" "${#HP_REDIS_USER}" "$HP_REDIS_USER" "${#HP_REDIS_PASSWORD}" "$HP_REDIS_PASSWORD" >&3
      else
        printf "*2\r\n\$4\r\nAUTH\r\n\$%d\r\n%s\r\n" "${#HP_REDIS_PASSWORD}" "$HP_REDIS_PASSWORD" >&3
      fi
      IFS= read -r -t 2 line <&3 || exit 1
      case "$line" in +OK*) ;; *) printf "%s" "$line"; exit 0 ;; esac
    fi
    printf "PING\r\n" >&3
    IFS= read -r -t 2 line <&3 || exit 1
    printf "%s" "$line"' _ "$REDIS_HOST" "$REDIS_PORT" 2>/dev/null)" || return 1
  REDIS_REPLY="$reply"
  case "$reply" in
    +PONG*) return 0 ;;
    *) return 1 ;;
  esac
}

# a Redis that answers but will not take us: say what to put in REDIS_URL rather than start another
redis_refuses() {
  case "${REDIS_REPLY:-}" in
    -NOAUTH*) die "redis at $REDIS_SAFE_URL wants a password: put it in REDIS_URL (redis://:PASSWORD@$REDIS_HOST:$REDIS_PORT), or point REDIS_URL at a free port and this script starts a Redis of its own there" ;;
    -WRONGPASS*|-ERR*) die "redis at $REDIS_SAFE_URL refused the credentials in REDIS_URL (${REDIS_REPLY%%$'\r'}); fix the password in REDIS_URL, or point it at a free port and this script starts a Redis of its own there" ;;
  esac
  return 0
}

# A real login as the URL's user (with its password) to the maintenance database: a server that
# merely answers may be a freshly installed distro cluster (scram-sha-256, no passwords set) that
# nobody can log into. Sets PG_LOGIN to ok, refused (it answers, but not to us: PG_LOGIN_WHY says
# why) or down.
PG_LOGIN=down; PG_LOGIN_WHY=""
postgres_login() {
  PG_LOGIN=down; PG_LOGIN_WHY=""
  tcp_open "$PG_HOST" "$PG_PORT" || return 0
  local why rc=0
  why="$(cd "$REPO_DIR" && HP_PG_URL="$DATABASE_ADMIN_URL" with_timeout 15 node -e '
    const postgres = require("postgres")
    const url = new URL(process.env.HP_PG_URL)
    url.pathname = "/postgres" // the app creates its own database; log into the maintenance one
    const sql = postgres(url.href, { max: 1, connect_timeout: 5, onnotice: () => {} })
    sql`select 1`.then(() => process.exit(0), err => {
      console.log(`${err.code ?? ""} ${err.message}`.trim())
      // 28xxx: invalid authorization (bad password, no pg_hba entry); 3D000 cannot happen on "postgres"
      process.exit(/^28/.test(err.code ?? "") || /password|authentication/i.test(err.message) ? 2 : 3)
    })' 2>&1)" || rc=$?
  case "$rc" in
    0) PG_LOGIN=ok ;;
    2) PG_LOGIN=refused; PG_LOGIN_WHY="$why" ;;
    *) PG_LOGIN=down; PG_LOGIN_WHY="$why" ;;
  esac
  return 0
}
postgres_answers() { postgres_login; [ "$PG_LOGIN" = ok ]; }

free_port_near() { # free_port_near PORT: the first of PORT+1 … PORT+20 nothing listens on
  local p
  for p in $(seq $(( $1 + 1 )) $(( $1 + 20 ))); do
    tcp_open 127.0.0.1 "$p" || { echo "$p"; return 0; }
  done
  echo $(( $1 + 1 ))
}

# A Postgres answers on the URL's port but will not let us in, and it is not ours to change:
# say exactly what to do instead of adopting it (migrations would fail on authentication).
postgres_refuses() {
  local alt; alt="$(free_port_near "$PG_PORT")"
  die "postgres at $PG_SAFE_URL answers but refuses $PG_USER ($PG_LOGIN_WHY). It is not ours to change, so nothing was started. Either:
  - give the URLs passwords that server knows (as its admin: ALTER ROLE $PG_USER PASSWORD '…'):
      DATABASE_ADMIN_URL=postgres://$PG_USER:PASSWORD@$PG_HOST:$PG_PORT/hallpass DATABASE_URL=postgres://hallpass_app:PASSWORD@$PG_HOST:$PG_PORT/hallpass npm start
    (the first migration creates hallpass_app without a password: set one with ALTER ROLE hallpass_app PASSWORD '…'), or
  - let this script run its own Postgres (trust, data in .data/) on a free port:
      DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:$alt/hallpass DATABASE_URL=postgres://hallpass_app@127.0.0.1:$alt/hallpass npm start"
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

# ---------------------------------------------------------------- stop
# Only what the start below recorded: the Redis whose pid file it asked for, the Postgres whose
# data directory it made. A server this script adopted (it answered already) is never touched.
is_process() { # is_process PID NAME: PID runs a command whose name contains NAME
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "$2"
}
wait_gone() { # wait_gone PID SECONDS
  local tries=$(( $2 * 5 ))
  while kill -0 "$1" 2>/dev/null && [ "$tries" -gt 0 ]; do sleep 0.2; tries=$(( tries - 1 )); done
  ! kill -0 "$1" 2>/dev/null
}
stop_services() {
  local wipe=false msgs=() pid pg_data
  [ "${1:-}" = --wipe ] && wipe=true
  if [ -f "$DATA_DIR/redis.pid" ]; then
    pid="$(cat "$DATA_DIR/redis.pid")"
    if is_process "$pid" redis-server; then
      kill -TERM "$pid"
      wait_gone "$pid" 10 || die "redis (pid $pid) did not stop within 10 s"
      msgs+=("stopped redis (pid $pid)")
    fi
    rm -f "$DATA_DIR/redis.pid"
  fi
  pg_data="$(cat "$DATA_DIR/pg.datadir" 2>/dev/null || echo "$DATA_DIR/pg")"
  if [ -f "$pg_data/postmaster.pid" ]; then
    pid="$(head -n 1 "$pg_data/postmaster.pid")"
    if is_process "$pid" postgres; then
      kill -INT "$pid" # Postgres' fast shutdown: ends sessions, checkpoints, exits
      wait_gone "$pid" 30 || die "postgres (pid $pid) did not stop within 30 s"
      msgs+=("stopped postgres (pid $pid, data $pg_data)")
    fi
  fi
  [ ${#msgs[@]} -eq 0 ] && msgs+=("nothing of ours was running")
  if $wipe; then
    [ "$pg_data" != "$DATA_DIR/pg" ] && rm -rf "$(dirname "$pg_data")"
    rm -rf "$DATA_DIR"
    msgs+=("deleted .data/ (Redis and Postgres data, logs, the development JWT secret)")
  fi
  local msg="${msgs[0]}" m
  for m in "${msgs[@]:1}"; do msg="$msg; $m"; done
  say "$msg"
}

case "${1:-start}" in
  stop) stop_services "${2:-}"; exit 0 ;;
  start) ;;
  *) die "usage: bash scripts/services.sh [start | stop [--wipe]]" ;;
esac

redis_ok=false; pg_ok=false
redis_answers && redis_ok=true
postgres_answers && pg_ok=true
if $redis_ok && $pg_ok; then
  say "redis answers at $REDIS_SAFE_URL and postgres takes $PG_USER at $PG_SAFE_URL"
  exit 0
fi
$redis_ok || redis_refuses
INSTALLED_PG=false
if [ "$PG_LOGIN" = refused ]; then postgres_refuses; fi

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
  # the URL's password (and user) go in as configuration on stdin ("-"), never as arguments
  {
    if [ -n "$REDIS_PASSWORD" ]; then
      printf 'requirepass "%s"\n' "$(redis_quote "$REDIS_PASSWORD")"
      if [ -n "$REDIS_USER" ] && [ "$REDIS_USER" != default ]; then
        printf 'user "%s" on ">%s" ~* &* +@all\n' "$(redis_quote "$REDIS_USER")" "$(redis_quote "$REDIS_PASSWORD")"
      fi
    fi
  } | redis-server - --daemonize yes --bind "$bind" --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$DATA_DIR/redis" --logfile "$DATA_DIR/redis.log" --pidfile "$DATA_DIR/redis.pid" >/dev/null
  if ! wait_for 10 redis_answers; then
    tail -n 20 "$DATA_DIR/redis.log" >&2 2>/dev/null || true
    die "started redis-server on $bind:$REDIS_PORT but it does not answer PING (log: .data/redis.log)"
  fi
  done_msgs+=("started redis on $bind:$REDIS_PORT${REDIS_PASSWORD:+ with the password of REDIS_URL} (data .data/redis)")
}
redis_quote() { local v="${1//\\/\\\\}"; printf '%s' "${v//\"/\\\"}"; } # for a double-quoted redis.conf value

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

# Debian's postgresql package, which this very run installed, started an empty cluster on our
# port with scram-sha-256 and no passwords: nobody can log in and nothing is in it. Stop it and
# keep it from starting at boot (start.conf: manual), so our own cluster can take the port.
stop_fresh_distro_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || postgres_refuses
  local ver name port rest
  while read -r ver name port rest; do
    [ "$port" = "$PG_PORT" ] || continue
    pg_ctlcluster "$ver" "$name" stop || postgres_refuses
    echo manual >"/etc/postgresql/$ver/$name/start.conf"
    done_msgs+=("stopped the cluster $ver/$name that apt-get had just started on $PG_PORT (no one could log into it; set to manual start in /etc/postgresql/$ver/$name/start.conf)")
    return 0
  done < <(pg_lsclusters -h 2>/dev/null)
  postgres_refuses
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
    postgres_login
    if [ "$PG_LOGIN" = ok ]; then done_msgs+=("installed postgresql (its cluster takes $PG_USER on $PG_PORT)"); return; fi
    if [ "$PG_LOGIN" = refused ]; then stop_fresh_distro_cluster; fi
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
  wait_for 10 postgres_answers || die "postgres started but does not take $PG_USER on $listen:$PG_PORT (log: $PG_LOG)"
  mkdir -p "$DATA_DIR"; echo "$PG_DATA" >"$DATA_DIR/pg.datadir"
  done_msgs+=("started postgres on $listen:$PG_PORT (trust, data $PG_DATA)")
}

if $redis_ok; then done_msgs+=("redis already answers"); else start_redis; fi
if $pg_ok; then done_msgs+=("postgres already answers"); else start_postgres; fi

msg="${done_msgs[0]}"
for m in "${done_msgs[@]:1}"; do msg="$msg; $m"; done
say "$msg"
case "$msg" in *started*) say "they keep running after the server stops; stop them with: npm run services:stop (add -- --wipe to delete their data)" ;; esac
