#!/usr/bin/env bash
# One hot award against nine, on PostgreSQL, two servers: issue 13's "hot awards without a hot row".
#
#   TOMBOLA=target/release/tombola bash bench/hot-award.sh
#
# Two `tombola serve` processes on one fresh PostgreSQL database, both loading hot-award/: `hot`,
# where every draw lands on one award of stock 10,000,000, and `spread`, where draws spread over
# nine stocked awards. Each campaign is driven in turn by two wrk processes at once, one per server
# (1 thread, 32 connections each: 64 in all), every request a new draw. Prints draws/s for each and
# the ratio hot / spread (the target: at least 0.8). SECS (default 10) per measurement; PGURL as in
# ../shared/bench/draws.sh. Needs wrk, curl, createdb.
set -u
here=$(cd "$(dirname "$0")" && pwd)
T=${TOMBOLA:?set TOMBOLA to the tombola binary}
SECS=${SECS:-10}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 2; }
work=$(mktemp -d)
db=tombola_hot_$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  dropdb --maintenance-db="$PGURL/postgres" --if-exists "$db" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
createdb --maintenance-db="$PGURL/postgres" "$db" || exit 1
base=$((20000 + RANDOM % 20000))
ports=($base $((base + 1)))
for port in "${ports[@]}"; do
  "$T" serve --dev --listen 127.0.0.1:$port --watch-ms 0 --delivery false --database-url "$PGURL/$db" \
    --campaigns "$here/hot-award" >"$work/serve-$port.log" 2>&1 &
  pids+=($!)
  up=
  for _ in $(seq 150); do curl -fsS http://127.0.0.1:$port/readyz >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
  [ -n "$up" ] || { echo "the server on $port did not start:"; tail -5 "$work/serve-$port.log"; exit 1; }
done

load() { # $1 = campaign, $2 = seconds; prints the summed draws/s of both servers
  local i=0 files=()
  for port in "${ports[@]}"; do
    CAMPAIGN=$1 SERVER=$i wrk -t1 -c32 -d"$2"s -s "$here/draw-unique.lua" http://127.0.0.1:$port >"$work/wrk-$i" 2>&1 &
    files+=("$work/wrk-$i"); i=$((i + 1))
  done
  wait $(jobs -p | grep -v -F -x -f <(printf '%s\n' "${pids[@]}"))
  cat "${files[@]}" | awk '/Requests\/sec/ {s += $2} /Non-2xx/ {n += $NF} END {printf "%.0f draws/s, non-2xx %d", s, n}'
}
load hot 2 >/dev/null; load spread 2 >/dev/null
hot=$(load hot "$SECS"); spread=$(load spread "$SECS")
echo "hot (1 award):      $hot"
echo "spread (9 awards):  $spread"
awk -v a="${hot%% *}" -v b="${spread%% *}" 'BEGIN { if (b > 0) printf "ratio hot / spread: %.2f\n", a / b }'
