#!/bin/sh
# Regenerates the captured vectors in this directory (run as root from this directory).
# Everything happens on `lo` inside a private network namespace; nothing leaves it.
# The kernel builds every packet except those sent through AF_PACKET by inject.py (VLAN-tagged
# frames and IPv6 AH, which the stack cannot be asked to emit without IPsec state).
set -eu
NS=kt-wire-$$
ip netns add "$NS"
trap 'ip netns del "$NS"' EXIT
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip link set lo mtu 1280
# Regenerating changes ephemeral ports and timestamps: update the table in
# src/wire/decode_test.ts from `tcpdump -nn -r <file>` afterwards.
cap() { # cap <file> <iface> <linktype> <command...>
  out=$1; iface=$2; lt=$3; shift 3
  ip netns exec "$NS" tcpdump -U -nn -i "$iface" -y "$lt" -w "$out" 2>/dev/null &
  pid=$!
  sleep 1
  ip netns exec "$NS" "$@"
  sleep 1
  kill "$pid"; wait "$pid" || true
}
cap lo_ipv4_tcp_syn.pcap lo EN10MB python3 send.py tcp4
cap lo_ipv6_tcp_syn.pcap lo EN10MB python3 send.py tcp6
cap lo_udp.pcap lo EN10MB python3 send.py udp
cap lo_ipv6_ext.pcap lo EN10MB python3 send.py ext6
cap lo_fragments.pcap lo EN10MB python3 send.py frag
cap lo_injected.pcap lo EN10MB python3 inject.py
cap any_sll.pcap any LINUX_SLL python3 send.py tcp4 tcp6 udp
cap any_sll2.pcap any LINUX_SLL2 python3 send.py tcp4 tcp6 udp
# Debian's knock 0.8 client: a TCP/UDP/TCP sequence over IPv4, then over IPv6.
cap lo_knock.pcap lo EN10MB sh -c 'knock -d 50 127.0.0.1 7000 8000:udp 9000 && knock -6 -d 50 ::1 7000 8000:udp 9000'
