#define _GNU_SOURCE
#include "CSystem.h"
#include <sys/uio.h>

// Glibc's module map does not give Swift process_vm_readv (it is _GNU_SOURCE only).
ssize_t cs_process_vm_readv(pid_t pid, void *local, size_t count, uint64_t remote) {
  struct iovec l = {local, count};
  struct iovec r = {(void *)(uintptr_t)remote, count};
  return process_vm_readv(pid, &l, 1, &r, 1, 0);
}
