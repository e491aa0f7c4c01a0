// Who is on the other end of a Unix socket, and the open-file limit: what
// the fork server checks before it forks for a client, and what a 1023-actor
// tree needs.
#ifndef CACCESS_H
#define CACCESS_H
#include <stdint.h>
#include <sys/types.h>

/// getsockopt(SO_PEERCRED): the pid, uid and gid of the process that
/// connected (as of connect(2)). Returns 0 or an errno.
int cs_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);

/// getrlimit(RLIMIT_NOFILE). Returns 0 or an errno.
int cs_get_nofile(uint64_t *soft, uint64_t *hard);
/// setrlimit(RLIMIT_NOFILE) with a new soft limit (hard kept). Returns 0 or an errno.
int cs_set_nofile_soft(uint64_t soft);
#endif
