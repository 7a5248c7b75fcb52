#!/usr/bin/env bash
# knocktool's main job on a fresh machine, end to end, as root: installs the prerequisites
# (tools/setup.sh), starts `knocktool serve -i lo` in a private network namespace with a door whose
# command appends to a file and adds the knocker to an nftables set whose elements time out in the
# kernel, knocks it with `knocktool knock 127.0.0.1 ...`, shows the log lines and the open door,
# and removes everything it made. Bounded in time; exits 0 when the door opened.
#
# knocktool runs as `deno run` with exactly the permissions `deno task compile` bakes into the
# binary (tools/permissions.ts). Usage: sudo tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run it as root (sudo tools/demo.sh): it creates a network namespace" >&2
  exit 1
fi

bash tools/setup.sh

ns="kt-demo-$$"
work=$(mktemp -d /tmp/kt-demo.XXXXXX)
server=""
cleanup() {
  # SIGTERM to the server (it runs pending stop commands and exits 15), then to anything else
  # still in the namespace; SIGKILL what is left after 5 s.
  local pids
  pids="$server $(ip netns pids "$ns" 2>/dev/null || true)"
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  [ -n "$server" ] && wait "$server" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r -a perms <<<"$(deno eval --quiet \
  'import { permissionFlags } from "./tools/permissions.ts"; console.log(permissionFlags().join(" "))')"
in_ns() { ip netns exec "$ns" "$@"; }
# knocktool as the compiled binary would run: exactly its permissions, no prompts.
knocktool_in_ns() { in_ns deno run --quiet --no-prompt "${perms[@]}" "$PWD/main.ts" "$@"; }

echo "== a private network namespace ($ns) with only lo, and an nftables set with timeouts"
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns nft -f examples/knock.nft

cat >"$work/knockd.conf" <<EOF
[options]
	LogFile = $work/knockd.log

[openSSH]
	sequence      = 7000,8000:udp,9000
	seq_timeout   = 5
	start_command = echo "door opened for %IP%" >> $work/door && /usr/sbin/nft add element inet knock allowed { %IP% timeout 30s }
EOF
echo "== $work/knockd.conf"
cat "$work/knockd.conf"
echo "== knocktool check -i lo (in the namespace)"
knocktool_in_ns check -i lo -c "$work/knockd.conf"

echo "== knocktool serve -i lo (in the namespace)"
# Started directly (not through a shell function), so that $! is the server itself.
ip netns exec "$ns" deno run --quiet --no-prompt "${perms[@]}" "$PWD/main.ts" \
  serve -i lo -c "$work/knockd.conf" -v >"$work/serve.out" 2>&1 &
server=$!
for _ in $(seq 150); do
  grep -qs "listening on" "$work/serve.out" "$work/knockd.log" && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.out"; echo "demo: serve exited" >&2; exit 1; }
  sleep 0.1
done
grep -qs "listening on" "$work/serve.out" "$work/knockd.log" ||
  { cat "$work/serve.out"; echo "demo: serve did not start within 15 s" >&2; exit 1; }

echo "== knocktool knock -v 127.0.0.1 7000 8000:udp 9000"
timeout 20 ip netns exec "$ns" deno run --quiet --no-prompt "${perms[@]}" "$PWD/main.ts" \
  knock -v 127.0.0.1 7000 8000:udp 9000

for _ in $(seq 100); do [ -s "$work/door" ] && break; sleep 0.1; done

echo "== serve's output"
cat "$work/serve.out"
echo "== LogFile ($work/knockd.log)"
cat "$work/knockd.log" 2>/dev/null || true
echo "== the door"
if [ ! -s "$work/door" ]; then
  echo "demo: the door did not open within 10 s" >&2
  exit 1
fi
cat "$work/door"
in_ns nft list set inet knock allowed
echo "demo: ok"
