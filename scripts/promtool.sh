#!/usr/bin/env bash
# Prints the path of a promtool binary, or with arguments runs it. Uses the one on PATH if
# there is one; otherwise extracts Debian's `prometheus` package into a cache folder with
# `apt-get download` + `dpkg -x`, so no Prometheus server is installed or started.
set -euo pipefail

find_promtool () {
  if command -v promtool >/dev/null 2>&1; then command -v promtool; return; fi
  local cache="${PROMTOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hallpass-promtool}"
  local bin="$cache/root/usr/bin/promtool"
  if [ ! -x "$bin" ]; then
    mkdir -p "$cache"
    (
      cd "$cache"
      rm -f prometheus_*.deb
      apt-get download prometheus >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get download prometheus >/dev/null; }
      rm -rf root
      dpkg -x prometheus_*.deb root
      rm -f prometheus_*.deb
    ) >&2
  fi
  echo "$bin"
}

bin="$(find_promtool)"
if [ "$#" -eq 0 ]; then echo "$bin"; else exec "$bin" "$@"; fi
