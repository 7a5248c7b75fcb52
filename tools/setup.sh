#!/usr/bin/env bash
# Installs what knocktool's demo and tests need on Debian/Ubuntu, as root. Idempotent: skips what
# is already there. Deno comes pinned from npm (its own download server may be unreachable).
set -euo pipefail
DENO_VERSION=2.9.6
need_apt=()
for pkg in libpcap0.8 libpcap-dev iproute2 nftables knockd tcpdump binutils bash zsh fish systemd python3 \
  lintian dpkg-dev groff man-db fakeroot libnftables1 prometheus openssl nmap netcat-openbsd curl \
  hping3 coreutils nats-server; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Debian's knockd package enables its service; the tests run their own instances.
# Same for nats-server: the cluster tests start their own servers on random loopback ports.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now knockd >/dev/null 2>&1 || true; fi
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nats-server >/dev/null 2>&1 || true; fi
if ! command -v deno >/dev/null 2>&1 || [ "$(deno --version | head -1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  echo "setup: installing deno $DENO_VERSION from npm" >&2
  npm install -g --allow-scripts=deno "deno@$DENO_VERSION" >/dev/null 2>&1 || npm install -g "deno@$DENO_VERSION" >/dev/null
fi
deno --version | head -1 >&2
# `deno task deb` builds the arm64 package around the full deno binary for arm64, a stand-in for
# Deno's denort, which cannot be downloaded here (docs/PACKAGING.md). It comes from npm like deno.
STANDIN=/opt/knocktool-build/deno-aarch64-unknown-linux-gnu
if [ ! -x "$STANDIN" ] || [ "$(cat "$STANDIN.version" 2>/dev/null)" != "$DENO_VERSION" ]; then
  echo "setup: unpacking @deno/linux-arm64-glibc@$DENO_VERSION to $STANDIN" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@deno/linux-arm64-glibc@$DENO_VERSION" >/dev/null && tar -xzf ./*.tgz)
  install -D -m 0755 "$tmp/package/deno" "$STANDIN"
  echo "$DENO_VERSION" >"$STANDIN.version"
  rm -rf "$tmp"
fi
