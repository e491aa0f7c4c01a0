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

void ck_free(void *p);

/// prctl(PR_SET_CHILD_SUBREAPER, on): lets a test reap orphaned grandchildren.
int ck_set_child_subreaper(int on);

#endif
