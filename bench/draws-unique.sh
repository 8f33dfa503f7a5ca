#!/usr/bin/env bash
# ../shared/bench/draws.sh with bench/draw-unique.lua: every request a draw not made before.
#
#   TOMBOLA=target/release/tombola bash bench/draws-unique.sh [sqlite] [postgres]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/../../shared/bench/." "$work/"
cp "$here/draw-unique.lua" "$work/draw.lua"
bash "$work/draws.sh" "$@"
