#ifndef CKERNEL_H
#define CKERNEL_H

#include <stdint.h>
#include <stddef.h>

/// One AF_UNIX socket as reported by a NETLINK_SOCK_DIAG / SOCK_DIAG_BY_FAMILY dump.
typedef struct {
  uint32_t ino;
  uint32_t peer;      /* UNIX_DIAG_PEER inode, 0 if none */
  uint8_t state;      /* udiag_state (10 = TCP_LISTEN) */
  uint8_t type;       /* SOCK_STREAM / SOCK_DGRAM / SOCK_SEQPACKET */
  uint8_t has_rqlen;
  uint8_t name_len;   /* bytes valid in name; abstract names start with NUL */
  uint32_t rqueue;    /* UNIX_DIAG_RQLEN: listener = pending connections, else bytes queued */
  uint32_t wqueue;
  char name[108];
} ck_unix_sock;

/// Dumps every AF_UNIX socket via socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG).
/// On success returns the count and stores a malloc'ed array in *out (free with ck_free).
/// On failure returns -errno. Never blocks longer than about `timeout_ms` per recv
/// (SO_RCVTIMEO) and gives up after a bounded number of messages.
long ck_unix_diag_dump(ck_unix_sock **out, int timeout_ms);

/// One TCP socket (IPv4 or IPv6) from a NETLINK_SOCK_DIAG inet_diag dump.
typedef struct {
  uint32_t ino;       /* 0 for sockets without an inode (TIME_WAIT, SYN_RECV) */
  uint8_t family;     /* AF_INET or AF_INET6 */
  uint8_t state;      /* TCP state (10 = TCP_LISTEN) */
  uint16_t sport;     /* host byte order */
  uint16_t dport;
  uint8_t src[16];    /* network byte order; 4 bytes used for AF_INET */
  uint8_t dst[16];
  uint32_t rqueue;    /* listener: accept backlog; else bytes not yet read */
  uint32_t wqueue;    /* bytes not yet acknowledged by the peer */
} ck_inet_sock;

/// Dumps every TCP socket of `family` (AF_INET / AF_INET6) in every state,
/// like ck_unix_diag_dump (same bounds, same result convention).
long ck_tcp_diag_dump(int family, ck_inet_sock **out, int timeout_ms);

/// Decode one received sock_diag reply buffer as the dumps do (same result
/// convention), without a socket: the dumps' parser, reachable by the fuzzer.
long ck_unix_diag_parse(const void *buf, size_t len, ck_unix_sock **out);
long ck_tcp_diag_parse(const void *buf, size_t len, ck_inet_sock **out);

void ck_free(void *p);

/// prctl(PR_SET_CHILD_SUBREAPER, on): lets a test reap orphaned grandchildren.
int ck_set_child_subreaper(int on);

#endif
