#!/bin/sh
# Take docs/lsp-neovim.png again: Neovim with editors/nvim/tombola.lua in a
# 120x30 tmux pane, on a copy of campaigns/showcase.yaml with a misspelt award,
# showing the diagnostic `tombola lsp` publishes and the award ids it completes.
#
#   TOMBOLA=/path/to/tombola docs/capture/take.sh
#
# Needs neovim, tmux and chromium (apt-get install -y neovim tmux chromium)
# and python3. TOMBOLA defaults to `tombola` on PATH.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tombola=$(realpath "$(command -v "${TOMBOLA:-tombola}")")
work=$(mktemp -d)
session=tombola-capture-$$
columns=120
rows=30
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

# The snippet starts the server only in a campaigns folder (or on *.test.yaml).
mkdir "$work/campaigns"
sed 's/^      give: nothing$/      give: nothng/' "$root/campaigns/showcase.yaml" >"$work/campaigns/showcase.yaml"
grep -q 'give: nothng' "$work/campaigns/showcase.yaml"

cd "$work"
tmux new-session -d -s "$session" -x "$columns" -y "$rows" -e TOMBOLA="$tombola" \
  "nvim -u '$here/init.lua' +53 campaigns/showcase.yaml"

# Wait for the diagnostic: the sign column's E on the blacklist's line.
tries=0
until tmux capture-pane -p -t "$session" | grep -q '^E  45 .*did you mean'; do
  tries=$((tries + 1))
  [ "$tries" -lt 50 ] || { echo "no diagnostic after 10 s:" >&2; tmux capture-pane -p -t "$session" >&2; exit 1; }
  sleep 0.2
done

# On `draw: [points, bonus_draws]`, change the second award and ask for completion.
tmux send-keys -t "$session" '0fbcw'
sleep 0.5
tmux send-keys -t "$session" C-x C-o
tries=0
until tmux capture-pane -p -t "$session" | grep -q 'headphones  *Constant item'; do
  tries=$((tries + 1))
  [ "$tries" -lt 50 ] || { echo "no completion menu after 10 s:" >&2; tmux capture-pane -p -t "$session" >&2; exit 1; }
  sleep 0.2
done

tmux capture-pane -e -p -t "$session" >screen.ans
python3 "$here/ansi2html.py" --columns "$columns" --rows "$rows" --title "tombola lsp in Neovim" <screen.ans >screen.html
size=$(python3 "$here/ansi2html.py" --columns "$columns" --rows "$rows" --print-size)
chromium --headless --no-sandbox --hide-scrollbars --window-size="$size" \
  --screenshot="$root/docs/lsp-neovim.png" "file://$work/screen.html" 2>/dev/null
echo "wrote $root/docs/lsp-neovim.png"
