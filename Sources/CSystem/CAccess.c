#define _GNU_SOURCE
#include "CAccess.h"
#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>

int cs_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
  struct ucred c;
  socklen_t len = sizeof c;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) return errno;
  *pid = c.pid;
  *uid = c.uid;
  *gid = c.gid;
  return 0;
}

int cs_get_nofile(uint64_t *soft, uint64_t *hard) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return errno;
  *soft = r.rlim_cur;
  *hard = r.rlim_max;
  return 0;
}

int cs_set_nofile_soft(uint64_t soft) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return errno;
  r.rlim_cur = soft;
  return setrlimit(RLIMIT_NOFILE, &r) == 0 ? 0 : errno;
}
