// Small file helpers: whole-file reads (also /proc files of size 0) and
// thread lists, with EINTR retry.
#include "Internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// open(2) with EINTR retry.
int cu_sys_open(const char *path, int flags) {
  for (;;) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0 && errno == EINTR) continue;
    return fd;
  }
}

/// read(2) with EINTR retry.
ssize_t cu_sys_read(int fd, void *buf, size_t n) {
  for (;;) {
    ssize_t r = read(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

/// close(2): no retry on EINTR (Linux always releases the fd).
void cu_sys_close(int fd) {
  if (fd >= 0) (void)close(fd);
}

char *cu_read_file(const char *path, size_t *len, int *err) {
  *len = 0;
  int fd = cu_sys_open(path, O_RDONLY);
  if (fd < 0) {
    *err = errno;
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    cu_sys_close(fd);
    *err = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        cu_sys_close(fd);
        *err = ENOMEM;
        return NULL;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = cu_sys_read(fd, buf + n, cap - n);
    if (r < 0) {
      *err = errno;
      free(buf);
      cu_sys_close(fd);
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  cu_sys_close(fd);
  buf[n] = 0;
  *len = n;
  *err = 0;
  return buf;
}


