"""Injects hand-built frames on lo through AF_PACKET; see capture.sh. Checksums are computed
here independently of src/wire/build.ts."""
import socket, struct

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def ip4_tcp(src, dst, sport, dport, flags=0x02):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 1024, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + tcp

def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload

def udp6(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + struct.pack("!IxxxB", len(u), 17)
    return u[:6] + struct.pack("!H", csum(pseudo + u) or 0xFFFF) + u[8:]

MACS = bytes.fromhex("020000000002" "020000000001")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("lo", 0))
v4 = ip4_tcp("192.0.2.7", "127.0.0.1", 41000, 7000)
# 802.1Q tag (VID 100), then 802.1ad + 802.1Q QinQ (VIDs 10/20), then a legacy 0x9100 outer tag.
s.send(MACS + struct.pack("!HH", 0x8100, 100) + b"\x08\x00" + v4)
s.send(MACS + struct.pack("!HHHH", 0x88A8, 10, 0x8100, 20) + b"\x08\x00" + v4)
s.send(MACS + struct.pack("!HHHH", 0x9100, 30, 0x8100, 40) + b"\x08\x00" + v4)
src, dst = "2001:db8::7", "::1"
u = udp6(src, dst, 42000, 9000, b"ah")
# AH (51): next header UDP, payload length 4 → (4 + 2) * 4 = 24 bytes, SPI 0x100, seq 1, 12-byte ICV.
ah = struct.pack("!BBHII", 17, 4, 0, 0x100, 1) + bytes(12)
s.send(MACS + b"\x86\xdd" + ip6(src, dst, 51, ah + u))
# Hop-by-hop, then destination options, then UDP in a VLAN tag.
hbh = bytes([60, 0, 1, 4, 0, 0, 0, 0])
dopt = bytes([17, 0, 1, 4, 0, 0, 0, 0])
s.send(MACS + struct.pack("!HH", 0x8100, 200) + b"\x86\xdd" + ip6(src, dst, 0, hbh + dopt + u))
s.close()
