// Private to CUnwind: the libunwind function table (filled by Load.c, used
// by Capture.c), the libunwind types we need, and the EINTR-retrying file
// calls shared by Files.c and Elf.c. Not under include/: Swift never sees it.
#ifndef CUNWIND_INTERNAL_H
#define CUNWIND_INTERNAL_H
#define _GNU_SOURCE
#include "CUnwind.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

// ---------------------------------------------------------------------------
// libunwind types we need, declared here so the build needs no libunwind
// headers. Checked against libunwind 1.6.2 (x86_64): unw_word_t is uint64_t,
// unw_cursor_t is unw_word_t opaque[UNW_TDEP_CURSOR_LEN = 127],
// unw_addr_space_t is a pointer, UNW_REG_IP = UNW_X86_64_RIP = 16,
// UNW_REG_SP = UNW_X86_64_RSP = 7, UNW_CACHE_NONE = 0.
// The cursor is over-allocated so a newer libunwind with a larger cursor
// cannot overrun our stack.
typedef uint64_t cu_unw_word_t;
typedef struct { cu_unw_word_t opaque[512]; } cu_unw_cursor_t;
enum { CU_UNW_REG_IP = 16, CU_UNW_REG_SP = 7, CU_UNW_CACHE_NONE = 0 };
// unw_error_t values (positive; libunwind returns them negated).
enum { CU_UNW_EBADREG = 3, CU_UNW_EINVAL = 8, CU_UNW_ENOINFO = 10 };

typedef void *(*fn_create_as)(void *accessors, int byteorder);
typedef void (*fn_destroy_as)(void *as);
typedef int (*fn_set_caching)(void *as, int policy);
typedef int (*fn_init_remote)(void *cursor, void *as, void *arg);
typedef int (*fn_step)(void *cursor);
typedef int (*fn_get_reg)(void *cursor, int reg, cu_unw_word_t *val);
typedef void *(*fn_upt_create)(pid_t);
typedef void (*fn_upt_destroy)(void *);
typedef int (*fn_upt_find_proc_info)(void *as, cu_unw_word_t ip, void *pi, int need, void *arg);
typedef void (*fn_upt_put_unwind_info)(void *as, void *pi, void *arg);
typedef int (*fn_search_unwind_table)(void *as, cu_unw_word_t ip, void *di, void *pi, int need, void *arg);

// unw_dyn_info_t with its unw_dyn_remote_table_info_t member, as Debian's
// libunwind 1.6.2 declares it (libunwind-dynamic.h: it has load_offset,
// which upstream's later releases dropped); UNW_INFO_FORMAT_REMOTE_TABLE = 2.
typedef struct {
  void *next, *prev;
  cu_unw_word_t start_ip, end_ip, gp;
  int32_t format, pad;
  cu_unw_word_t load_offset;  // 0: our table holds runtime addresses already
  cu_unw_word_t name_ptr, segbase, table_len, table_data;
  cu_unw_word_t spare[8];  // the union is larger than rti: never read past it
} cu_unw_dyn_info_t;
enum { CU_UNW_INFO_FORMAT_REMOTE_TABLE = 2 };

struct cu_libunwind {
  int ok;
  char err[256];
  fn_create_as create_as;
  fn_destroy_as destroy_as;
  fn_set_caching set_caching;
  fn_init_remote init_remote;
  fn_step step;
  fn_get_reg get_reg;
  fn_upt_create upt_create;
  fn_upt_destroy upt_destroy;
  fn_upt_find_proc_info upt_find_proc_info;
  fn_upt_put_unwind_info upt_put_unwind_info;
  fn_search_unwind_table search_unwind_table;
};
/// The symbols resolved by cu_load (valid when U.ok).
extern struct cu_libunwind U __attribute__((visibility("hidden")));

// ---------------------------------------------------------------------------
// Unwind images (UnwindImages.c): ELF files mapped once per run, shared by
// every capture session.

enum { CU_UIMAGE_MAXLOAD = 16 };
typedef struct cu_uimage {
  uint64_t dev, ino;  // (major << 32 | minor) and inode, as /proc/PID/maps names the file
  uint8_t *map;       // the whole file, PROT_READ (NULL: a cached failure)
  size_t len;
  int nload;
  struct { uint64_t off, filesz, vaddr; int writable; } load[CU_UIMAGE_MAXLOAD];
  uint64_t relro_start, relro_end;  // link-time addresses
  int has_table;                    // a usable .eh_frame_hdr search table
  uint64_t hdr_vaddr, table_vaddr, fde_count, gp;
} cu_uimage;

/// The image of the file `pid` maps as (dev, ino) at `path` (its own path,
/// else /proc/PID/root + path), opened on first use; NULL when it cannot be
/// opened, is not that file any more, or is not ELF64. Thread-safe; the
/// result stays valid for the life of the process.
__attribute__((visibility("hidden"))) const cu_uimage *cu_uimage_get(pid_t pid, uint64_t dev, uint64_t ino,
                                                                     const char *path);
/// Load bias of a mapping of the image at map_start with file offset
/// map_off (runtime address = link-time address + bias). 1 on success.
__attribute__((visibility("hidden"))) int cu_uimage_bias(const cu_uimage *u, uint64_t map_start, uint64_t map_off,
                                                         uint64_t *bias);
/// The file's bytes at link-time address [vaddr, vaddr+len) when they lie in
/// a read-only, non-RELRO PT_LOAD (so the target's memory holds the same
/// bytes), else NULL.
__attribute__((visibility("hidden"))) const uint8_t *cu_uimage_bytes(const cu_uimage *u, uint64_t vaddr, size_t len);

/// open(2) with O_CLOEXEC added and EINTR retry.
__attribute__((visibility("hidden"))) int cu_sys_open(const char *path, int flags);
/// read(2) with EINTR retry.
__attribute__((visibility("hidden"))) ssize_t cu_sys_read(int fd, void *buf, size_t n);
/// close(2): no retry on EINTR (Linux always releases the fd).
__attribute__((visibility("hidden"))) void cu_sys_close(int fd);

// Helpers the C files share (not exposed to Swift: Swift reads files and
// the clock through SystemCore).

/// Reads a whole file (open/read/close; works for /proc files of size 0).
/// Returns malloc'd buffer (NUL-terminated, free with free()) or NULL with
/// *err = errno.
__attribute__((visibility("hidden"))) char *cu_read_file(const char *path, size_t *len, int *err);

/// CLOCK_MONOTONIC in ns (clock_gettime).
__attribute__((visibility("hidden"))) uint64_t cu_now_ns(void);

#endif
