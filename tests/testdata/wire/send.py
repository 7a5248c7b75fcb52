"""Sends knock-like traffic on the namespace's lo; see capture.sh. Arguments pick the cases."""
import socket, struct, sys

def tcp(family, addr, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect((addr, port))  # closed port: SYN, then the kernel's RST,ACK
    except OSError:
        pass
    s.close()

def udp(family, addr, port, payload=b"knock"):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.sendto(payload, (addr, port))
    s.close()

def ext6():
    # Real kernel-built IPv6 extension headers via RFC 3542 sticky options.
    IPV6_HOPOPTS, IPV6_RTHDR, IPV6_DSTOPTS = 54, 57, 59
    pad4 = bytes([1, 2, 0, 0])  # PadN option of 4 bytes (type 1, length 2)
    cases = [
        ("hop", IPV6_HOPOPTS, bytes([0, 0]) + bytes([1, 4, 0, 0, 0, 0])),
        ("dst", IPV6_DSTOPTS, bytes([0, 1]) + pad4 + bytes([1, 8]) + bytes(8)),
        # Segment routing header (type 4) with one segment, ::1, and no segments left.
        ("rt", IPV6_RTHDR, bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, "::1")),
    ]
    for i, (name, opt, data) in enumerate(cases):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET6, kind)
            try:
                s.setsockopt(socket.IPPROTO_IPV6, opt, data)
            except OSError as e:
                print(name, "setsockopt failed:", e, file=sys.stderr)
            s.settimeout(1)
            try:
                if kind == socket.SOCK_DGRAM:
                    s.sendto(name.encode(), ("::1", 7100 + i))
                else:
                    s.connect(("::1", 7200 + i))
            except OSError:
                pass
            s.close()

def frag():
    # lo's MTU is 1280 here: a 3000-byte datagram leaves in three fragments.
    udp(socket.AF_INET6, "::1", 7300, bytes(3000))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: allow fragmenting
    s.sendto(bytes(3000), ("127.0.0.1", 7301))
    s.close()

for case in sys.argv[1:]:
    if case == "tcp4":
        tcp(socket.AF_INET, "127.0.0.1", 7000)
    elif case == "tcp6":
        tcp(socket.AF_INET6, "::1", 7000)
    elif case == "udp":
        udp(socket.AF_INET, "127.0.0.1", 8000)
        udp(socket.AF_INET6, "::1", 9000)
    elif case == "ext6":
        ext6()
    elif case == "frag":
        frag()
