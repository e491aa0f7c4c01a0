#!/usr/bin/env python3
"""Writes real NETLINK_SOCK_DIAG reply buffers (first recv of an AF_UNIX and a
TCP dump, as CKernel.c's dumps send them) as fuzz-kernel corpus files:
selector byte 2 (Unix) or 3 (TCP), then the buffer. Run once to reseed."""
import socket, struct, sys

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY = 4, 20
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
out = sys.argv[1]

def dump(req):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    s.send(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + req)
    return s.recv(32768)

# Listening and connected Unix sockets (one abstract name) so replies hold every attribute.
srv = socket.socket(socket.AF_UNIX); srv.bind("\0tractor-fuzz-seed"); srv.listen()
a, b = socket.socketpair()
# unix_diag_req: family, protocol, pad, states, ino, show (PEER|RQLEN|NAME), cookie
unix = dump(struct.pack("=BBHIIIQ", socket.AF_UNIX, 0, 0, 0xFFFFFFFF, 0, 1 | 16 | 8, 0))
tl = socket.socket(); tl.bind(("127.0.0.1", 0)); tl.listen()
tc = socket.create_connection(tl.getsockname())
# inet_diag_req_v2: family, protocol, ext, pad, states, sockid (48 bytes)
tcp = dump(struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + bytes(48))
open(f"{out}/sockdiag-unix", "wb").write(b"\x02" + unix[:4096])
open(f"{out}/sockdiag-tcp", "wb").write(b"\x03" + tcp[:4096])
open(f"{out}/sun-path-abstract", "wb").write(b"\x04\x00tractor-fuzz-seed")
