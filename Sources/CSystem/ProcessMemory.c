#define _GNU_SOURCE
#include "CSystem.h"
#include <limits.h>
#include <sys/uio.h>

// Glibc's module map does not give Swift process_vm_readv (it is _GNU_SOURCE only).
ssize_t cs_process_vm_readv(pid_t pid, void *local, size_t count, uint64_t remote) {
  struct iovec l = {local, count};
  struct iovec r = {(void *)(uintptr_t)remote, count};
  return process_vm_readv(pid, &l, 1, &r, 1, 0);
}

// Many small remote ranges in one call (dict keys scattered over the heap):
// one syscall instead of one per page. The kernel stops at the first range
// that is not mapped and returns what it read before it.
ssize_t cs_process_vm_gather(pid_t pid, void *local, const uint64_t *remote, size_t each, size_t n) {
  if (n > IOV_MAX) n = IOV_MAX;
  struct iovec l = {local, each * n};
  struct iovec r[IOV_MAX];
  for (size_t i = 0; i < n; i++) {
    r[i].iov_base = (void *)(uintptr_t)remote[i];
    r[i].iov_len = each;
  }
  return process_vm_readv(pid, &l, 1, r, n, 0);
}
