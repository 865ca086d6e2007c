#!/usr/bin/env python3
"""A stand-in Quote Generation Service for tests: speaks the QGS message protocol QEMU's
tdx-quote-generator.c uses (4-byte big-endian length, qgs_msg_header_t, GET_QUOTE_REQ /
GET_QUOTE_RESP) on a unix socket, one request per connection.

Its "quote" is not a real one (nothing here can sign as Intel's quoting enclave): the bytes
b"TDXEMU-TEST-QUOTE\\0", the SHA-384 of the TDREPORT it was sent, then the report's 64-byte
REPORTDATA, so a test can check that its own report went through. A REPORTDATA starting with
b"QGS-ERROR" gets a reply with error_code 1, b"QGS-HANGUP" no reply at all.

Usage: fake_qgs.py SOCKET_PATH [LOG]   (runs until killed; LOG gets one line per request)
"""
import hashlib
import os
import socket
import struct
import sys

HDR = struct.Struct("<HHIII")  # major, minor, type, size, error_code
REQ = struct.Struct("<HHIIIII")  # header + report_size + id_list_size
GET_QUOTE_REQ, GET_QUOTE_RESP = 0, 1
REPORTDATA_OFF, REPORTDATA_LEN = 128, 64  # in TDREPORT_STRUCT (REPORTMACSTRUCT.REPORTDATA)


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def reply(conn, error_code, quote):
    body = HDR.pack(1, 1, GET_QUOTE_RESP, HDR.size + 8 + len(quote), error_code) + struct.pack("<II", 0, len(quote)) + quote
    conn.sendall(struct.pack(">I", len(body)) + body)


def serve(conn, log):
    (length,) = struct.unpack(">I", recv_exact(conn, 4))
    msg = recv_exact(conn, length)
    major, minor, typ, size, err, report_size, id_list_size = REQ.unpack_from(msg)
    report = msg[REQ.size:REQ.size + report_size]
    ok = (major, minor, typ, size, err, id_list_size) == (1, 1, GET_QUOTE_REQ, length, 0, 0) and len(report) == report_size
    rd = report[REPORTDATA_OFF:REPORTDATA_OFF + REPORTDATA_LEN]
    log.write("request: version %d.%d type %d size %d report %d bytes%s reportdata %s\n"
              % (major, minor, typ, size, report_size, "" if ok else " MALFORMED", rd[:16].hex()))
    log.flush()
    if rd.startswith(b"QGS-HANGUP"):
        return
    if not ok or rd.startswith(b"QGS-ERROR"):
        reply(conn, 1, b"")
        return
    reply(conn, 0, b"TDXEMU-TEST-QUOTE\0" + hashlib.sha384(report).digest() + rd)


def main():
    path = sys.argv[1]
    log = open(sys.argv[2], "a") if len(sys.argv) > 2 else sys.stderr
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        try:
            serve(conn, log)
        except (EOFError, struct.error) as e:
            log.write("bad request: %s\n" % e)
            log.flush()
        finally:
            conn.close()


if __name__ == "__main__":
    main()
