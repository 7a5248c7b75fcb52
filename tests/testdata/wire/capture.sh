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
cap() { # cap <file> <iface> <linktype> <python script...>
  out=$1; iface=$2; lt=$3; shift 3
  ip netns exec "$NS" tcpdump -U -nn -i "$iface" -y "$lt" -w "$out" 2>/dev/null &
  pid=$!
  sleep 1
  ip netns exec "$NS" python3 "$@"
  sleep 1
  kill "$pid"; wait "$pid" || true
}
cap lo_ipv4_tcp_syn.pcap lo EN10MB send.py tcp4
cap lo_ipv6_tcp_syn.pcap lo EN10MB send.py tcp6
cap lo_udp.pcap lo EN10MB send.py udp
cap lo_ipv6_ext.pcap lo EN10MB send.py ext6
cap lo_fragments.pcap lo EN10MB send.py frag
cap lo_injected.pcap lo EN10MB inject.py
cap any_sll.pcap any LINUX_SLL send.py tcp4 tcp6 udp
cap any_sll2.pcap any LINUX_SLL2 send.py tcp4 tcp6 udp
