#!/usr/bin/env python3
"""A stand-in network peer for tests: the other end of QEMU's `-netdev dgram` on unix sockets
(one Ethernet frame per datagram). It is 10.0.2.2 at 52:54:00:12:34:02 and answers ARP
requests and ICMP echo requests for that address, so a guest's `ping 10.0.2.2` goes out and
comes back through the guest's virtio-net device.

Usage: fake_net.py OUR_SOCKET QEMU_SOCKET [LOG]   (runs until killed; LOG gets one line per
frame answered: "arp from MAC" or "icmp echo from IP seq N")
"""
import os
import socket
import struct
import sys

OUR_IP = bytes([10, 0, 2, 2])
OUR_MAC = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x02])
ETH_ARP, ETH_IP = 0x0806, 0x0800


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def arp_reply(src_mac, body):
    """The reply to an ARP request for OUR_IP, or None."""
    if len(body) < 28:
        return None
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", body[:8])
    sha, spa, tpa = body[8:14], body[14:18], body[24:28]
    if (htype, ptype, hlen, plen, op) != (1, ETH_IP, 6, 4, 1) or tpa != OUR_IP:
        return None
    arp = struct.pack("!HHBBH", 1, ETH_IP, 6, 4, 2) + OUR_MAC + OUR_IP + sha + spa
    return src_mac + OUR_MAC + struct.pack("!H", ETH_ARP) + arp


def icmp_reply(src_mac, body):
    """The echo reply to an ICMP echo request for OUR_IP, or None; and the request's seq."""
    if len(body) < 20 or body[0] >> 4 != 4:
        return None, None
    ihl = (body[0] & 15) * 4
    total = struct.unpack("!H", body[2:4])[0]
    if body[9] != 1 or body[16:20] != OUR_IP or total > len(body) or total < ihl + 8:
        return None, None
    icmp = bytearray(body[ihl:total])
    if icmp[0] != 8 or checksum(bytes(icmp)) != 0:
        return None, None
    seq = struct.unpack("!H", icmp[6:8])[0]
    icmp[0] = 0  # echo reply
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", checksum(bytes(icmp)))
    ip = bytearray(body[:ihl])
    ip[12:16], ip[16:20] = body[16:20], body[12:16]
    ip[8] = 64
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    return src_mac + OUR_MAC + struct.pack("!H", ETH_IP) + bytes(ip) + bytes(icmp), seq


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    ours, qemu = sys.argv[1], sys.argv[2]
    log = open(sys.argv[3], "a", buffering=1) if len(sys.argv) == 4 else None
    if os.path.exists(ours):
        os.unlink(ours)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(ours)
    while True:
        frame = s.recv(65536)
        if len(frame) < 14:
            continue
        src_mac, ethertype, body = frame[6:12], struct.unpack("!H", frame[12:14])[0], frame[14:]
        reply, note = None, None
        if ethertype == ETH_ARP:
            reply = arp_reply(src_mac, body)
            note = "arp from " + src_mac.hex(":")
        elif ethertype == ETH_IP:
            reply, seq = icmp_reply(src_mac, body)
            note = "icmp echo from %s seq %s" % (".".join(str(b) for b in body[12:16]), seq)
        if reply is None:
            continue
        try:
            s.sendto(reply, qemu)
        except OSError:
            continue  # QEMU not bound yet or gone: the guest retries
        if log:
            log.write(note + "\n")


if __name__ == "__main__":
    main()
