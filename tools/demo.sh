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
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r -a perms <<<"$(deno eval --quiet \
  'import { permissionFlags } from "./tools/permissions.ts"; console.log(permissionFlags().join(" "))')"
knocktool() { deno run --quiet --no-prompt "${perms[@]}" "$PWD/main.ts" "$@"; }
in_ns() { ip netns exec "$ns" "$@"; }

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
echo "== knocktool check"
knocktool check -c "$work/knockd.conf"

echo "== knocktool serve -i lo (in the namespace)"
in_ns deno run --quiet --no-prompt "${perms[@]}" "$PWD/main.ts" \
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
in_ns timeout 20 deno run --quiet --no-prompt "${perms[@]}" "$PWD/main.ts" \
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
