#define _GNU_SOURCE
#include "CKernel.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/prctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>

void ck_free(void *p) { free(p); }

int ck_set_child_subreaper(int on) {
  return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)on, 0, 0, 0) == 0 ? 0 : -errno;
}

static ssize_t send_retry(int fd, const void *buf, size_t len) {
  ssize_t n;
  do { n = send(fd, buf, len, 0); } while (n < 0 && errno == EINTR);
  return n;
}

static ssize_t recv_retry(int fd, void *buf, size_t len) {
  ssize_t n;
  do { n = recv(fd, buf, len, 0); } while (n < 0 && errno == EINTR);
  return n;
}

/// Grows a malloc'ed array of `size`-byte records by one, copying `rec` in.
static int push(void **arr, size_t size, size_t *count, size_t *cap, const void *rec) {
  if (*count == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    void *n = realloc(*arr, ncap * size);
    if (!n) return -ENOMEM;
    *arr = n;
    *cap = ncap;
  }
  memcpy((char *)*arr + (*count)++ * size, rec, size);
  return 0;
}

/// Turns one SOCK_DIAG_BY_FAMILY message into a record; 0 = skip it.
typedef int (*ck_parse_fn)(const struct nlmsghdr *h, void *rec);
static int parse_reply(const char *buf, ssize_t n, ck_parse_fn parse, size_t size, void **arr, size_t *count,
                       size_t *cap, long *rc);

/// Sends one NETLINK_SOCK_DIAG dump request (`req`: a netlink header then
/// the family's request; the header is filled in here) and collects the
/// answer as a malloc'ed array of `size`-byte records made by `parse`.
/// Returns the count (array in *out) or -errno.
static long sock_diag_dump(struct nlmsghdr *req, size_t req_len, int timeout_ms, ck_parse_fn parse, size_t size,
                           void **out) {
  *out = NULL;
  req->nlmsg_len = (uint32_t)req_len;
  req->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req->nlmsg_seq = 1;
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -errno;

  // A dump normally streams without pause; the timeout only guards against a
  // kernel that never sends NLMSG_DONE so the caller can never hang here.
  struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  if (send_retry(fd, req, req_len) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }

  void *arr = NULL;
  size_t count = 0, cap = 0;
  long rc = 0;
  int done = 0;
  // Bounded: even a machine with millions of sockets finishes well within this.
  enum { BUF_SIZE = 32768 };
  char *local = malloc(BUF_SIZE);
  if (!local) { close(fd); return -ENOMEM; }
  for (int iter = 0; iter < 100000 && !done; iter++) {
    ssize_t n = recv_retry(fd, local, BUF_SIZE);
    if (n < 0) { rc = -errno; break; }
    if (n == 0) break;
    done = parse_reply(local, n, parse, size, &arr, &count, &cap, &rc);
  }
  free(local);
  close(fd);
  if (rc < 0 && count == 0) { free(arr); return rc; }
  *out = arr;
  return (long)count;
}

/// The pure half of a dump: decodes one received buffer (`buf`, 4-byte
/// aligned, `n` bytes) into records appended to *arr. Returns 1 when the dump
/// is over (NLMSG_DONE, NLMSG_ERROR with *rc set, or out of memory).
static int parse_reply(const char *buf, ssize_t n, ck_parse_fn parse, size_t size, void **arr, size_t *count,
                       size_t *cap, long *rc) {
  _Alignas(16) char rec[256];  // one record, as large as the largest type
  if (size > sizeof rec) { *rc = -ENOMEM; return 1; }
  // Signed: NLMSG_NEXT subtracts the ALIGNED length, so a last message whose
  // nlmsg_len is not a multiple of 4 takes `len` below 0; cast to unsigned
  // (as this loop once did) that let the walk run past the buffer (found by
  // fuzz-kernel; a real kernel pads every message, a damaged reply need not).
  int len = n > INT_MAX ? INT_MAX : (int)n;
  const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
  for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
    if (h->nlmsg_type == NLMSG_DONE) return 1;
    if (h->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr *err = NLMSG_DATA(h);
      *rc = h->nlmsg_len >= NLMSG_LENGTH(sizeof *err) && err->error ? err->error : -EPROTO;
      return 1;
    }
    if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
    memset(rec, 0, size);
    if (!parse(h, rec)) continue;
    if (push(arr, size, count, cap, rec) < 0) { *rc = -ENOMEM; return 1; }
  }
  return 0;
}

/// ck_*_diag_parse: one reply buffer -> records, as a dump decodes it (for fuzzing).
static long parse_buffer(const void *buf, size_t len, ck_parse_fn parse, size_t size, void **out) {
  *out = NULL;
  char *copy = malloc(len ? len : 1);  // malloc'ed: aligned as a recv buffer is
  if (!copy) return -ENOMEM;
  memcpy(copy, buf, len);
  void *arr = NULL;
  size_t count = 0, cap = 0;
  long rc = 0;
  parse_reply(copy, (ssize_t)len, parse, size, &arr, &count, &cap, &rc);
  free(copy);
  if (rc < 0 && count == 0) { free(arr); return rc; }
  *out = arr;
  return (long)count;
}

static int parse_unix(const struct nlmsghdr *h, void *rec) {
  const struct unix_diag_msg *m = NLMSG_DATA(h);
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m)) return 0;
  ck_unix_sock *s = rec;
  s->ino = m->udiag_ino;
  s->state = m->udiag_state;
  s->type = m->udiag_type;
  int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
  struct rtattr *a = (struct rtattr *)(m + 1);
  for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
    size_t plen = RTA_PAYLOAD(a);
    switch (a->rta_type) {
      case UNIX_DIAG_PEER:
        if (plen >= 4) memcpy(&s->peer, RTA_DATA(a), 4);
        break;
      case UNIX_DIAG_RQLEN:
        if (plen >= sizeof(struct unix_diag_rqlen)) {
          struct unix_diag_rqlen q;
          memcpy(&q, RTA_DATA(a), sizeof q);
          s->rqueue = q.udiag_rqueue;
          s->wqueue = q.udiag_wqueue;
          s->has_rqlen = 1;
        }
        break;
      case UNIX_DIAG_NAME: {
        size_t l = plen > sizeof s->name ? sizeof s->name : plen;
        memcpy(s->name, RTA_DATA(a), l);
        s->name_len = (uint8_t)l;
        break;
      }
    }
  }
  return 1;
}

long ck_unix_diag_dump(ck_unix_sock **out, int timeout_ms) {
  struct {
    struct nlmsghdr nlh;
    struct unix_diag_req req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.req.sdiag_family = AF_UNIX;
  msg.req.udiag_states = 0xffffffffu;
  msg.req.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_NAME;
  return sock_diag_dump(&msg.nlh, sizeof msg, timeout_ms, parse_unix, sizeof(ck_unix_sock), (void **)out);
}

static int parse_tcp(const struct nlmsghdr *h, void *rec) {
  const struct inet_diag_msg *m = NLMSG_DATA(h);
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m)) return 0;
  ck_inet_sock *s = rec;
  s->ino = m->idiag_inode;
  s->family = m->idiag_family;
  s->state = m->idiag_state;
  s->sport = ntohs(m->id.idiag_sport);
  s->dport = ntohs(m->id.idiag_dport);
  memcpy(s->src, m->id.idiag_src, 16);
  memcpy(s->dst, m->id.idiag_dst, 16);
  s->rqueue = m->idiag_rqueue;
  s->wqueue = m->idiag_wqueue;
  return 1;
}

long ck_tcp_diag_dump(int family, ck_inet_sock **out, int timeout_ms) {
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.req.sdiag_family = (uint8_t)family;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = 0xffffffffu;
  return sock_diag_dump(&msg.nlh, sizeof msg, timeout_ms, parse_tcp, sizeof(ck_inet_sock), (void **)out);
}

long ck_unix_diag_parse(const void *buf, size_t len, ck_unix_sock **out) {
  return parse_buffer(buf, len, parse_unix, sizeof(ck_unix_sock), (void **)out);
}

long ck_tcp_diag_parse(const void *buf, size_t len, ck_inet_sock **out) {
  return parse_buffer(buf, len, parse_tcp, sizeof(ck_inet_sock), (void **)out);
}
