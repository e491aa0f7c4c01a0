#define _GNU_SOURCE
#include "CSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// At fork the kernel copies the page table entries of a mapping only when the
// mapping has anonymous pages (an anon_vma); a read-only file mapping (the
// text and read-only data of our own executable) is left out, and the child
// faults those pages in again, one fault per 16 pages, as it runs them.
// Writing one byte of such a mapping (made writable for that moment, then
// given its protection back) gives it an anon_vma, so every later fork copies
// its entries instead (mm/memory.c, vma_needs_copy). See
// cs_share_image_page_tables in CSystem.h.

static int touch(uintptr_t start, uintptr_t end, int prot) {
  size_t len = end - start;
  // The whole mapping changes protection (and stays executable if it was):
  // one mapping throughout, never split, and the code running here stays
  // runnable while it is writable.
  if (mprotect((void *)start, len, prot | PROT_WRITE) != 0) return -1;
  volatile unsigned char *p = (volatile unsigned char *)start;
  *p = *p;  // a write fault: the private copy of this page attaches the anon_vma
  return mprotect((void *)start, len, prot);
}

int cs_share_image_page_tables(void) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return -1;
  exe[n] = 0;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  // Our own mappings come first (the executable is mapped at the lowest
  // addresses): 16 KiB of maps always holds them.
  static char buf[16384];
  size_t have = 0;
  while (have < sizeof buf - 1) {
    ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
  }
  close(fd);
  buf[have] = 0;
  int done = 0;
  for (char *line = buf, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    unsigned long start, end, off;
    char perms[5], path[4096];
    path[0] = 0;
    if (sscanf(line, "%lx-%lx %4s %lx %*s %*s %4095s", &start, &end, perms, &off, path) < 4) continue;
    // Readable, not writable, private mappings of the image (not PROT_NONE
    // gaps: those may lie past the end of the file).
    if (strcmp(path, exe) != 0 || perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p') continue;
    int prot = PROT_READ | (perms[2] == 'x' ? PROT_EXEC : 0);
    if (touch(start, end, prot) == 0) done++;
  }
  return done;
}
