// CUnwind: ptrace + dlopen'ed libunwind + ELF symbol tables + a bounded child
// filter. See include/CUnwind.h for the contract of each function.
#define _GNU_SOURCE
#include "CUnwind.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

// ---------------------------------------------------------------------------
// libunwind types we need, declared here so the build needs no libunwind
// headers. Checked against libunwind 1.6.2 (x86_64): unw_word_t is uint64_t,
// unw_cursor_t is unw_word_t opaque[UNW_TDEP_CURSOR_LEN = 127],
// unw_addr_space_t is a pointer, UNW_REG_IP = UNW_X86_64_RIP = 16,
// UNW_REG_SP = UNW_X86_64_RSP = 7, UNW_CACHE_GLOBAL = 1.
// The cursor is over-allocated so a newer libunwind with a larger cursor
// cannot overrun our stack.
typedef uint64_t cu_unw_word_t;
typedef struct { cu_unw_word_t opaque[512]; } cu_unw_cursor_t;
enum { CU_UNW_REG_IP = 16, CU_UNW_REG_SP = 7, CU_UNW_CACHE_GLOBAL = 1 };
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

static struct {
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
} U;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void *try_dlopen(const char *const *names, int flags, char *why, size_t whylen) {
  for (int i = 0; names[i]; i++) {
    void *h = dlopen(names[i], flags);
    if (h) return h;
    const char *e = dlerror();
    snprintf(why, whylen, "%s", e ? e : names[i]);
  }
  return NULL;
}

static void do_load(void) {
  // libunwind-ptrace.so.0 has undefined references to _Ux86_64_* and lzma_*
  // without DT_NEEDED entries, so libunwind-x86_64 must be RTLD_GLOBAL. That
  // also makes its dependency libunwind.so.8 (which exports _Unwind_*) global;
  // loading libgcc_s first (a no-op when already loaded) guarantees that the
  // global search order keeps resolving _Unwind_* to libgcc_s, which the
  // Swift runtime relies on.
  (void)dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_GLOBAL);
  char why[200] = "";
  static const char *const arch_names[] = {"libunwind-x86_64.so.8", "libunwind-x86_64.so",
                                           "libunwind-generic.so.8", NULL};
  static const char *const pt_names[] = {"libunwind-ptrace.so.0", "libunwind-ptrace.so", NULL};
  void *arch = try_dlopen(arch_names, RTLD_NOW | RTLD_GLOBAL, why, sizeof why);
  if (!arch) {
    snprintf(U.err, sizeof U.err, "dlopen libunwind-x86_64.so.8: %s", why);
    return;
  }
  void *pt = try_dlopen(pt_names, RTLD_NOW | RTLD_LOCAL, why, sizeof why);
  if (!pt) {
    snprintf(U.err, sizeof U.err, "dlopen libunwind-ptrace.so.0: %s", why);
    return;
  }
#define SYM(field, handle, name)                                              \
  do {                                                                        \
    *(void **)&U.field = dlsym(handle, name);                                 \
    if (!U.field) {                                                           \
      snprintf(U.err, sizeof U.err, "dlsym %s failed", name);                 \
      return;                                                                 \
    }                                                                         \
  } while (0)
  SYM(create_as, arch, "_Ux86_64_create_addr_space");
  SYM(destroy_as, arch, "_Ux86_64_destroy_addr_space");
  SYM(set_caching, arch, "_Ux86_64_set_caching_policy");
  SYM(init_remote, arch, "_Ux86_64_init_remote");
  SYM(step, arch, "_Ux86_64_step");
  SYM(get_reg, arch, "_Ux86_64_get_reg");
  SYM(upt_create, pt, "_UPT_create");
  SYM(upt_destroy, pt, "_UPT_destroy");
  SYM(upt_find_proc_info, pt, "_UPT_find_proc_info");
  SYM(upt_put_unwind_info, pt, "_UPT_put_unwind_info");
#undef SYM
  U.ok = 1;
}

int cu_load(char *err, size_t errlen) {
  pthread_once(&load_once, do_load);
  if (!U.ok && err && errlen > 0) snprintf(err, errlen, "%s", U.err[0] ? U.err : "unknown error");
  return U.ok;
}

// ---------------------------------------------------------------------------
// Syscall wrappers (EINTR retry)

uint64_t cu_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cu_free(void *p) { free(p); }

/// ptrace(2) with EINTR retry; returns 0 or -errno.
static long sys_ptrace(int req, pid_t tid, void *addr, void *data) {
  for (;;) {
    errno = 0;
    long r = ptrace((enum __ptrace_request)req, tid, addr, data);
    if (r == -1 && errno != 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    return 0;
  }
}

/// waitpid(2) with WNOHANG|__WALL, EINTR retry: returns pid, 0, or -errno.
static pid_t sys_waitpid_nohang(pid_t pid, int *status) {
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG | __WALL);
    if (r < 0 && errno == EINTR) continue;
    return r < 0 ? -errno : r;
  }
}

/// ppoll(2) with no fds as a sub-millisecond sleep (EINTR just ends it early,
/// the caller's loop re-checks its deadline).
static void short_sleep(long ns) {
  struct timespec ts = {0, ns};
  (void)ppoll(NULL, 0, &ts, NULL);
}

/// Bounded wait for a state change of `tid` (waitpid WNOHANG|__WALL polled).
/// Returns 0 with *status, -ETIMEDOUT, or -errno.
static int bounded_wait(pid_t tid, int wait_ms, int *status) {
  uint64_t deadline = cu_now_ns() + (uint64_t)wait_ms * 1000000ull;
  for (int i = 0;; i++) {
    pid_t r = sys_waitpid_nohang(tid, status);
    if (r == tid) return 0;
    if (r < 0) return r;
    if (cu_now_ns() >= deadline) return -ETIMEDOUT;
    // The stop usually arrives within microseconds: yield a few times before
    // sleeping so the thread is not held stopped longer than needed.
    if (i < 16) sched_yield();
    else short_sleep(100000);
  }
}

// ---------------------------------------------------------------------------
// Remote memory (process_vm_readv; works while the target runs)

/// process_vm_readv of [addr, addr+len) split at page boundaries so that a
/// read running into an unmapped page still returns what precedes it.
/// Returns the number of bytes read from the start (0 on failure).
static size_t remote_read(pid_t pid, uint64_t addr, void *buf, size_t len) {
  enum { MAXIOV = 128 };
  struct iovec local, remote[MAXIOV];
  size_t done = 0;
  while (done < len) {
    int n = 0;
    size_t batch = 0;
    uint64_t a = addr + done;
    while (n < MAXIOV && done + batch < len) {
      uint64_t next = ((a + batch) | 4095u) + 1;  // next page boundary
      size_t chunk = (size_t)(next - (a + batch));
      if (chunk > len - done - batch) chunk = len - done - batch;
      remote[n].iov_base = (void *)(uintptr_t)(a + batch);
      remote[n].iov_len = chunk;
      batch += chunk;
      n++;
    }
    local.iov_base = (char *)buf + done;
    local.iov_len = batch;
    ssize_t r;
    do {
      r = process_vm_readv(pid, &local, 1, remote, (unsigned long)n, 0);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) break;
    done += (size_t)r;
    if ((size_t)r < batch) break;
  }
  return done;
}

// ---------------------------------------------------------------------------
// Capture session: one per target process and capture. While a thread is
// stopped we only copy its registers (PTRACE_GETREGS) and the top of its
// stack (process_vm_readv); it is detached at once and libunwind then runs
// over that copy through our own accessors. Everything else libunwind reads
// (.eh_frame_hdr/.eh_frame of the mapped binaries, code bytes for signal
// frame detection) is read-only and read from the running target through a
// small page cache. Unwind tables are located by _UPT_find_proc_info, which
// parses /proc/PID/maps and mmaps the ELF files itself (no ptrace); its
// memory reads come back to our access_mem.

enum { CU_PAGE = 4096, CU_NPAGES = 64 };

typedef struct {
  uint64_t page;  // page address + 1 (0 = empty slot)
  uint32_t len;   // bytes valid from the page start
} cu_page_tag;

typedef struct {
  uint64_t start, end;
  int module;  // index into modules[] (file-backed), -1 for anonymous
} cu_map;

enum { CU_MAXMAPS = 4096, CU_MAXMODULES = 256 };

struct cu_session {
  pid_t pid;
  void *as;   // unw_addr_space_t over cu_accessors
  void *upt;  // _UPT_create(pid): find_proc_info for ips outside known modules
  // /proc/PID/maps as read when the session was created (sorted by start).
  cu_map *maps;
  int nmaps;
  // One _UPT handle per module: _UPT_find_proc_info keeps only the last ELF
  // image it looked at, and every switch to another module re-reads
  // /proc/PID/maps and re-maps the file. A handle per module keeps each hot.
  void *module_upt[CU_MAXMODULES];
  int nmodules;
  // Current thread's snapshot.
  uint64_t regs[17];  // UNW_X86_64_RAX .. UNW_X86_64_RIP
  uint64_t stack_base;
  size_t stack_len;
  size_t stack_cap;
  uint8_t *stack;
  // Direct-mapped cache of remote pages (code / unwind tables).
  cu_page_tag tags[CU_NPAGES];
  uint8_t *pages;
};

// The session being unwound by this OS thread: _UPT_find_proc_info passes
// its own argument (the _UPT handle) to access_mem, so ours travels here.
static __thread cu_session *cur_session;

/// The mapping containing addr (binary search), or NULL.
static const cu_map *find_map(const cu_session *s, uint64_t addr) {
  int lo = 0, hi = s->nmaps;  // first with start > addr
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (s->maps[mid].start <= addr) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0 || addr >= s->maps[lo - 1].end) return NULL;
  return &s->maps[lo - 1];
}

static int acc_find_proc_info(void *as, cu_unw_word_t ip, void *pi, int need, void *arg) {
  (void)arg;
  cu_session *s = cur_session;
  if (!s) return -CU_UNW_EINVAL;
  void *upt = s->upt;
  const cu_map *m = find_map(s, ip);
  if (m && m->module >= 0) {
    if (!s->module_upt[m->module]) s->module_upt[m->module] = U.upt_create(s->pid);
    if (s->module_upt[m->module]) upt = s->module_upt[m->module];
  }
  return U.upt_find_proc_info(as, ip, pi, need, upt);
}

/// Parses /proc/PID/maps into s->maps (module = index per distinct path).
static void load_maps(cu_session *s) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", (int)s->pid);
  size_t len = 0;
  int err = 0;
  char *text = cu_read_file(path, &len, &err);
  if (!text) return;
  s->maps = malloc(sizeof(cu_map) * CU_MAXMAPS);
  const char *names[CU_MAXMODULES];
  size_t namelens[CU_MAXMODULES];
  char *line = text;
  while (s->maps && line && *line && s->nmaps < CU_MAXMAPS) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    char *end;
    uint64_t a = strtoull(line, &end, 16);
    if (*end == '-') {
      uint64_t b = strtoull(end + 1, &end, 16);
      // Skip perms, offset, dev, inode; the path (if any) follows.
      const char *p = end;
      for (int f = 0; f < 4 && *p; f++) {
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;
      }
      while (*p == ' ') p++;
      int module = -1;
      if (*p == '/') {
        size_t pl = strlen(p);
        for (int i = s->nmodules - 1; i >= 0; i--) {
          if (namelens[i] == pl && memcmp(names[i], p, pl) == 0) {
            module = i;
            break;
          }
        }
        if (module < 0 && s->nmodules < CU_MAXMODULES) {
          module = s->nmodules++;
          names[module] = p;
          namelens[module] = pl;
        }
      }
      if (b > a) s->maps[s->nmaps++] = (cu_map){a, b, module};
    }
    line = nl ? nl + 1 : NULL;
  }
  free(text);  // names[] are not used past this point
}

static void acc_put_unwind_info(void *as, void *pi, void *arg) {
  (void)arg;
  cu_session *s = cur_session;
  if (s) U.upt_put_unwind_info(as, pi, s->upt);
}

static int acc_get_dyn_info_list_addr(void *as, cu_unw_word_t *addr, void *arg) {
  (void)as;
  (void)addr;
  (void)arg;
  return -CU_UNW_ENOINFO;
}

/// One byte range from the remote page cache (filling the slot on a miss).
static int cached_read(cu_session *s, uint64_t addr, uint8_t *out, size_t len) {
  while (len > 0) {
    uint64_t page = addr & ~(uint64_t)(CU_PAGE - 1);
    size_t slot = (size_t)((page / CU_PAGE) % CU_NPAGES);
    cu_page_tag *t = &s->tags[slot];
    uint8_t *buf = s->pages + slot * CU_PAGE;
    if (t->page != page + 1) {
      size_t got = remote_read(s->pid, page, buf, CU_PAGE);
      t->page = got ? page + 1 : 0;
      t->len = (uint32_t)got;
      if (!got) return -1;
    }
    size_t off = (size_t)(addr - page);
    size_t n = CU_PAGE - off;
    if (n > len) n = len;
    if (off + n > t->len) return -1;
    memcpy(out, buf + off, n);
    out += n;
    addr += n;
    len -= n;
  }
  return 0;
}

static int acc_access_mem(void *as, cu_unw_word_t addr, cu_unw_word_t *val, int write, void *arg) {
  (void)as;
  (void)arg;
  cu_session *s = cur_session;
  if (!s || write) return -CU_UNW_EINVAL;
  if (addr >= s->stack_base && addr - s->stack_base + 8 <= s->stack_len) {
    memcpy(val, s->stack + (addr - s->stack_base), 8);
    return 0;
  }
  // Outside the copied stack top: code and unwind tables (read-only), or a
  // stack deeper than the copy (read live; the thread runs again by now).
  uint64_t v;
  if (cached_read(s, addr, (uint8_t *)&v, 8) < 0) return -CU_UNW_EINVAL;
  *val = v;
  return 0;
}

static int acc_access_reg(void *as, int reg, cu_unw_word_t *val, int write, void *arg) {
  (void)as;
  (void)arg;
  cu_session *s = cur_session;
  if (!s || reg < 0 || reg > 16) return -CU_UNW_EBADREG;
  if (write) s->regs[reg] = *val;
  else *val = s->regs[reg];
  return 0;
}

static int acc_access_fpreg(void *as, int reg, void *val, int write, void *arg) {
  (void)as;
  (void)reg;
  (void)val;
  (void)write;
  (void)arg;
  return -CU_UNW_EBADREG;
}

static int acc_resume(void *as, void *cursor, void *arg) {
  (void)as;
  (void)cursor;
  (void)arg;
  return -CU_UNW_EINVAL;
}

static int acc_get_proc_name(void *as, cu_unw_word_t ip, char *buf, size_t len, cu_unw_word_t *off,
                             void *arg) {
  (void)as;
  (void)ip;
  (void)buf;
  (void)len;
  (void)off;
  (void)arg;
  return -CU_UNW_ENOINFO;
}

// unw_accessors_t of libunwind 1.6.2 (8 function pointers), padded with NULLs
// so that a newer libunwind that copies a larger struct reads zeros.
static void *cu_accessors[16] = {
    (void *)acc_find_proc_info, (void *)acc_put_unwind_info, (void *)acc_get_dyn_info_list_addr,
    (void *)acc_access_mem,     (void *)acc_access_reg,      (void *)acc_access_fpreg,
    (void *)acc_resume,         (void *)acc_get_proc_name,
};

cu_session *cu_session_create(pid_t pid, size_t stack_bytes) {
  if (!cu_load(NULL, 0)) return NULL;
  cu_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->pid = pid;
  if (stack_bytes < 4096) stack_bytes = 4096;
  s->stack_cap = stack_bytes;
  s->stack = malloc(stack_bytes);
  s->pages = malloc((size_t)CU_PAGE * CU_NPAGES);
  s->upt = U.upt_create(pid);
  s->as = U.create_as(cu_accessors, 0);
  load_maps(s);
  if (!s->stack || !s->pages || !s->upt || !s->as) {
    cu_session_destroy(s);
    return NULL;
  }
  // Touch the stack buffer now so no page fault lands in a stop.
  memset(s->stack, 0, stack_bytes);
  // Global caching: threads of one process share code, so unwind info found
  // for the first thread is reused for the others.
  U.set_caching(s->as, CU_UNW_CACHE_GLOBAL);
  return s;
}

void cu_session_destroy(cu_session *s) {
  if (!s) return;
  if (s->as) U.destroy_as(s->as);
  if (s->upt) U.upt_destroy(s->upt);
  for (int i = 0; i < s->nmodules; i++)
    if (s->module_upt[i]) U.upt_destroy(s->module_upt[i]);
  free(s->maps);
  free(s->stack);
  free(s->pages);
  free(s);
}

/// user_regs_struct -> UNW_X86_64_* numbering (RAX RDX RCX RBX RSI RDI RBP
/// RSP R8..R15 RIP).
static void regs_from_user(const struct user_regs_struct *u, uint64_t r[17]) {
  r[0] = u->rax;
  r[1] = u->rdx;
  r[2] = u->rcx;
  r[3] = u->rbx;
  r[4] = u->rsi;
  r[5] = u->rdi;
  r[6] = u->rbp;
  r[7] = u->rsp;
  r[8] = u->r8;
  r[9] = u->r9;
  r[10] = u->r10;
  r[11] = u->r11;
  r[12] = u->r12;
  r[13] = u->r13;
  r[14] = u->r14;
  r[15] = u->r15;
  r[16] = u->rip;
}

/// libunwind over the session's snapshot (after detach).
static int unwind_snapshot(cu_session *s, uint64_t *pcs, uint64_t *sps, int max, cu_thread_result *r) {
  int n = 0;
  cu_session *saved = cur_session;
  cur_session = s;
  cu_unw_cursor_t cur;
  int ir = U.init_remote(&cur, s->as, s);
  if (ir < 0) {
    r->stage = CU_STAGE_INIT;
    r->err = -ir;
  } else {
    cu_unw_word_t prev_ip = 0, prev_sp = 0;
    while (n < max) {
      cu_unw_word_t ip = 0, sp = 0;
      if (U.get_reg(&cur, CU_UNW_REG_IP, &ip) < 0 || ip == 0) break;
      U.get_reg(&cur, CU_UNW_REG_SP, &sp);
      // Identical ip+sp twice means the unwinder is looping: stop.
      if (n > 0 && ip == prev_ip && sp == prev_sp) break;
      pcs[n] = ip;
      if (sps) sps[n] = sp;
      n++;
      prev_ip = ip;
      prev_sp = sp;
      int st = U.step(&cur);
      if (st == 0) break;
      if (st < 0) {
        r->stage = CU_STAGE_STEP;
        r->err = -st;
        break;
      }
    }
  }
  cur_session = saved;
  return n;
}

int cu_unwind_thread(cu_session *s, pid_t tid, uint64_t *pcs, uint64_t *sps, int max,
                     int wait_ms, cu_thread_result *r) {
  memset(r, 0, sizeof *r);
  r->detached = 1;
  if (!U.ok || !s) {
    r->stage = CU_STAGE_NOLIB;
    return -1;
  }
  long pr = sys_ptrace(PTRACE_SEIZE, tid, NULL, NULL);
  if (pr < 0) {
    r->stage = CU_STAGE_SEIZE;
    r->err = (int)-pr;
    return -1;
  }
  r->detached = 0;
  uint64_t t0 = cu_now_ns();
  pr = sys_ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
  if (pr < 0) {
    r->stage = CU_STAGE_INTERRUPT;
    r->err = (int)-pr;
    // Most likely the thread is exiting. A traced thread that exits waits for
    // its tracer to reap it: collect that (bounded) so it does not linger.
    int st;
    if (bounded_wait(tid, 50, &st) == 0 && (WIFEXITED(st) || WIFSIGNALED(st))) r->detached = 1;
    else if (sys_ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0) r->detached = 1;
    r->stall_ns = cu_now_ns() - t0;
    return -1;
  }
  int status = 0;
  int w = bounded_wait(tid, wait_ms, &status);
  r->wait_ns = cu_now_ns() - t0;
  if (w < 0) {
    r->stage = CU_STAGE_WAIT;
    r->err = -w;
    // PTRACE_DETACH only works on a stopped tracee; try anyway (the stop may
    // have landed just now). Otherwise the caller retries later.
    if (w != -ECHILD && sys_ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0) r->detached = 1;
    if (w == -ECHILD) r->detached = 1;  // not our tracee any more
    r->stall_ns = cu_now_ns() - t0;
    return -1;
  }
  r->stop_status = status;
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    r->stage = CU_STAGE_EXITED;
    r->detached = 1;
    r->stall_ns = cu_now_ns() - t0;
    return -1;
  }
  // A signal-delivery-stop (event bits 0) swallowed a real signal: hand it
  // back on detach. PTRACE_EVENT_STOP (our interrupt or a group-stop) needs
  // nothing: a group-stopped thread stays stopped after detach, as before.
  long fwd = 0;
  if (WIFSTOPPED(status) && (status >> 16) == 0) fwd = WSTOPSIG(status);
  r->forwarded_sig = (int)fwd;

  // Stopped: copy registers and the top of the stack, nothing else.
  struct user_regs_struct uregs;
  long gr = sys_ptrace(PTRACE_GETREGS, tid, NULL, &uregs);
  int have_regs = gr == 0;
  if (have_regs) {
    regs_from_user(&uregs, s->regs);
    s->stack_base = uregs.rsp & ~(uint64_t)7;
    // Copy up to the end of the stack's mapping (known from the maps read
    // before any stop), at most stack_cap bytes.
    size_t want = s->stack_cap;
    const cu_map *m = find_map(s, s->stack_base);
    if (m && m->end - s->stack_base < want) want = (size_t)(m->end - s->stack_base);
    s->stack_len = remote_read(s->pid, s->stack_base, s->stack, want);
  }
  r->copy_ns = cu_now_ns() - t0 - r->wait_ns;

  pr = sys_ptrace(PTRACE_DETACH, tid, NULL, (void *)fwd);
  if (pr == 0) {
    r->detached = 1;
  } else {
    // ESRCH while we hold it stopped means it was SIGKILLed meanwhile: reap
    // the traced thread's exit (bounded) so it does not stay a zombie.
    int st;
    if (bounded_wait(tid, 50, &st) == 0) r->detached = 1;
    if (pr == -ESRCH) r->detached = 1;
  }
  r->stall_ns = cu_now_ns() - t0;

  if (!have_regs) {
    r->stage = CU_STAGE_REGS;
    r->err = (int)-gr;
    return -1;
  }
  r->stack_bytes = s->stack_len;
  // Detached: unwind the copy.
  uint64_t u0 = cu_now_ns();
  int n = unwind_snapshot(s, pcs, sps, max, r);
  r->unwind_ns = cu_now_ns() - u0;
  r->nframes = n;
  return n;
}

int cu_retry_detach(pid_t tid, int wait_ms) {
  int status = 0;
  int w = bounded_wait(tid, wait_ms, &status);
  if (w == -ECHILD) return 1;
  if (w < 0) return 0;
  if (WIFEXITED(status) || WIFSIGNALED(status)) return 1;
  long fwd = 0;
  if (WIFSTOPPED(status) && (status >> 16) == 0) fwd = WSTOPSIG(status);
  long pr = sys_ptrace(PTRACE_DETACH, tid, NULL, (void *)fwd);
  return pr == 0 || pr == -ESRCH;
}

// ---------------------------------------------------------------------------
// Files

/// open(2) with EINTR retry.
static int sys_open(const char *path, int flags) {
  for (;;) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0 && errno == EINTR) continue;
    return fd;
  }
}

/// read(2) with EINTR retry.
static ssize_t sys_read(int fd, void *buf, size_t n) {
  for (;;) {
    ssize_t r = read(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

/// write(2) with EINTR retry.
static ssize_t sys_write(int fd, const void *buf, size_t n) {
  for (;;) {
    ssize_t r = write(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

/// close(2): no retry on EINTR (Linux always releases the fd).
static void sys_close(int fd) {
  if (fd >= 0) (void)close(fd);
}

char *cu_read_file(const char *path, size_t *len, int *err) {
  *len = 0;
  int fd = sys_open(path, O_RDONLY);
  if (fd < 0) {
    *err = errno;
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    sys_close(fd);
    *err = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        sys_close(fd);
        *err = ENOMEM;
        return NULL;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = sys_read(fd, buf + n, cap - n);
    if (r < 0) {
      *err = errno;
      free(buf);
      sys_close(fd);
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  sys_close(fd);
  buf[n] = 0;
  *len = n;
  *err = 0;
  return buf;
}

int cu_list_tasks(pid_t pid, int32_t *tids, int cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (!d) return -errno;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char *end;
    long t = strtol(de->d_name, &end, 10);
    if (*end != 0 || t <= 0) continue;
    if (n < cap) tids[n] = (int32_t)t;
    n++;
  }
  closedir(d);
  return n;
}

// ---------------------------------------------------------------------------
// ELF

typedef struct {
  uint64_t addr, size;
  const char *name;
  int score;  // lower is a better name among aliases at one address
} cu_sym;

struct cu_elf {
  uint8_t *map;
  size_t len;
  int nload;
  struct { uint64_t off, filesz, vaddr; } load[32];
  cu_sym *syms;
  size_t nsyms;
};

static int name_score(const char *n, int bind) {
  int s = 0;
  while (n[s] == '_') s++;
  int score = s * 1000;
  score += bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 100 : 200;
  score += (int)(strlen(n) > 99 ? 99 : strlen(n));
  return score;
}

static int sym_cmp(const void *a, const void *b) {
  const cu_sym *x = a, *y = b;
  if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
  return x->score - y->score;
}

static void add_symbols(cu_elf *e, const Elf64_Shdr *sh, const Elf64_Shdr *shdrs, int shnum, size_t *cap) {
  if (sh->sh_link >= (Elf64_Word)shnum) return;
  const Elf64_Shdr *strsh = &shdrs[sh->sh_link];
  if (sh->sh_offset > e->len || sh->sh_size > e->len - sh->sh_offset) return;
  if (strsh->sh_offset > e->len || strsh->sh_size > e->len - strsh->sh_offset) return;
  if (sh->sh_entsize != sizeof(Elf64_Sym)) return;
  const Elf64_Sym *syms = (const Elf64_Sym *)(e->map + sh->sh_offset);
  size_t count = sh->sh_size / sizeof(Elf64_Sym);
  const char *strs = (const char *)(e->map + strsh->sh_offset);
  size_t strsz = strsh->sh_size;
  for (size_t i = 0; i < count; i++) {
    const Elf64_Sym *s = &syms[i];
    int type = ELF64_ST_TYPE(s->st_info);
    if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
    if (s->st_shndx == SHN_UNDEF || s->st_value == 0) continue;
    if (s->st_name == 0 || s->st_name >= strsz) continue;
    const char *nm = strs + s->st_name;
    // The name must be NUL-terminated inside the string table.
    if (!memchr(nm, 0, strsz - s->st_name)) continue;
    if (e->nsyms == *cap) {
      size_t nc = *cap ? *cap * 2 : 1024;
      cu_sym *ns = realloc(e->syms, nc * sizeof *ns);
      if (!ns) return;
      e->syms = ns;
      *cap = nc;
    }
    e->syms[e->nsyms++] = (cu_sym){s->st_value, s->st_size, nm, name_score(nm, ELF64_ST_BIND(s->st_info))};
  }
}

cu_elf *cu_elf_open(const char *path, int *err) {
  int fd = sys_open(path, O_RDONLY);
  if (fd < 0) {
    *err = errno;
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
    *err = errno ? errno : ENOEXEC;
    sys_close(fd);
    return NULL;
  }
  void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  sys_close(fd);
  if (m == MAP_FAILED) {
    *err = errno;
    return NULL;
  }
  cu_elf *e = calloc(1, sizeof *e);
  if (!e) {
    munmap(m, (size_t)st.st_size);
    *err = ENOMEM;
    return NULL;
  }
  e->map = m;
  e->len = (size_t)st.st_size;
  const Elf64_Ehdr *eh = m;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
    cu_elf_close(e);
    *err = ENOEXEC;
    return NULL;
  }
  if (eh->e_phoff && eh->e_phentsize == sizeof(Elf64_Phdr) && eh->e_phoff < e->len &&
      (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= e->len - eh->e_phoff) {
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(e->map + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum && e->nload < 32; i++) {
      if (ph[i].p_type != PT_LOAD) continue;
      e->load[e->nload].off = ph[i].p_offset;
      e->load[e->nload].filesz = ph[i].p_filesz;
      e->load[e->nload].vaddr = ph[i].p_vaddr;
      e->nload++;
    }
  }
  if (eh->e_shoff && eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shoff < e->len &&
      (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= e->len - eh->e_shoff) {
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(e->map + eh->e_shoff);
    size_t cap = 0;
    for (int i = 0; i < eh->e_shnum; i++)
      if (sh[i].sh_type == SHT_SYMTAB || sh[i].sh_type == SHT_DYNSYM) add_symbols(e, &sh[i], sh, eh->e_shnum, &cap);
  }
  if (e->nsyms > 1) {
    qsort(e->syms, e->nsyms, sizeof *e->syms, sym_cmp);
    // Keep the best-named alias per address (sorted first by score); keep the
    // largest size seen so a sized alias wins over a size-0 one.
    size_t w = 0;
    for (size_t i = 0; i < e->nsyms; i++) {
      if (w > 0 && e->syms[w - 1].addr == e->syms[i].addr) {
        if (e->syms[i].size > e->syms[w - 1].size) e->syms[w - 1].size = e->syms[i].size;
        continue;
      }
      e->syms[w++] = e->syms[i];
    }
    e->nsyms = w;
  }
  *err = 0;
  return e;
}

void cu_elf_close(cu_elf *e) {
  if (!e) return;
  if (e->map) munmap(e->map, e->len);
  free(e->syms);
  free(e);
}

size_t cu_elf_symbol_count(const cu_elf *e) { return e ? e->nsyms : 0; }

int cu_elf_fileoff_to_vaddr(const cu_elf *e, uint64_t fo, uint64_t *vaddr) {
  for (int i = 0; i < e->nload; i++) {
    if (fo >= e->load[i].off && fo < e->load[i].off + e->load[i].filesz) {
      *vaddr = fo - e->load[i].off + e->load[i].vaddr;
      return 1;
    }
  }
  return 0;
}

const char *cu_elf_lookup(const cu_elf *e, uint64_t vaddr, uint64_t *symaddr) {
  if (!e || e->nsyms == 0) return NULL;
  size_t lo = 0, hi = e->nsyms;  // first index with addr > vaddr
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e->syms[mid].addr <= vaddr) lo = mid + 1;
    else hi = mid;
  }
  // Check a few preceding symbols so a small symbol nested inside a larger
  // one does not hide it. A sized symbol that ends before vaddr is rejected:
  // with stripped libraries (only .dynsym) the nearest exported symbol below
  // a static function is the wrong name, and no name beats a wrong one.
  for (size_t k = 0; k < 4 && lo > 0; k++, lo--) {
    const cu_sym *s = &e->syms[lo - 1];
    if (s->size == 0 && k == 0) {
      *symaddr = s->addr;
      return s->name;
    }
    if (s->size > 0 && vaddr < s->addr + s->size) {
      *symaddr = s->addr;
      return s->name;
    }
  }
  return NULL;
}

// ---------------------------------------------------------------------------
// Demangling

typedef char *(*fn_swift_demangle)(const char *, size_t, char *, size_t *, uint32_t);
typedef char *(*fn_cxa_demangle)(const char *, char *, size_t *, int *);

char *cu_demangle(const char *name) {
  if (!name) return NULL;
  if (name[0] == '$' || strncmp(name, "_T0", 3) == 0 || strncmp(name, "_$s", 3) == 0) {
    static fn_swift_demangle sd;
    if (!sd) *(void **)&sd = dlsym(RTLD_DEFAULT, "swift_demangle");
    if (!sd) return NULL;
    return sd(name, strlen(name), NULL, NULL, 0);
  }
  if (strncmp(name, "_Z", 2) == 0) {
    static fn_cxa_demangle cd;
    if (!cd) *(void **)&cd = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (!cd) return NULL;
    int status = 0;
    char *r = cd(name, NULL, NULL, &status);
    if (status != 0) {
      free(r);
      return NULL;
    }
    return r;
  }
  return NULL;
}

// ---------------------------------------------------------------------------
// Child filter process

int cu_run_filter(const char *path, char *const argv[], const char *input, size_t inlen,
                  char **out, size_t *outlen, int timeout_ms) {
  *out = NULL;
  *outlen = 0;
  int inp[2] = {-1, -1}, outp[2] = {-1, -1};
  if (pipe2(inp, O_CLOEXEC) < 0) return -errno;
  if (pipe2(outp, O_CLOEXEC) < 0) {
    int e = errno;
    sys_close(inp[0]);
    sys_close(inp[1]);
    return -e;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, inp[0], 0);
  posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_init(&at);
  // The child must not inherit our blocked signals or ignored dispositions.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int sr = posix_spawn(&pid, path, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  sys_close(inp[0]);
  sys_close(outp[1]);
  if (sr != 0) {
    sys_close(inp[1]);
    sys_close(outp[0]);
    return -sr;
  }
  fcntl(inp[1], F_SETFL, O_NONBLOCK);
  fcntl(outp[0], F_SETFL, O_NONBLOCK);

  // Writing to a pipe whose reader died raises SIGPIPE, which would kill us:
  // block it for this thread and discard one that we caused.
  sigset_t pipeset, oldmask;
  sigemptyset(&pipeset);
  sigaddset(&pipeset, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipeset, &oldmask);
  sigset_t pending;
  sigpending(&pending);
  int had_pipe = sigismember(&pending, SIGPIPE);

  size_t cap = 65536, n = 0, woff = 0;
  char *buf = malloc(cap + 1);
  int result = 0;
  uint64_t deadline = cu_now_ns() + (uint64_t)timeout_ms * 1000000ull;
  int wfd = inp[1], rfd = outp[0];
  if (inlen == 0) {
    sys_close(wfd);
    wfd = -1;
  }
  while (rfd >= 0 && buf) {
    uint64_t now = cu_now_ns();
    if (now >= deadline) {
      result = -ETIMEDOUT;
      break;
    }
    struct pollfd pf[2];
    int np = 0;
    pf[np++] = (struct pollfd){rfd, POLLIN, 0};
    if (wfd >= 0) pf[np++] = (struct pollfd){wfd, POLLOUT, 0};
    int left = (int)((deadline - now) / 1000000ull) + 1;
    int pr = poll(pf, (nfds_t)np, left);
    if (pr < 0) {
      if (errno == EINTR) continue;
      result = -errno;
      break;
    }
    if (wfd >= 0 && np > 1 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t wr = sys_write(wfd, input + woff, inlen - woff);
      if (wr > 0) woff += (size_t)wr;
      if (wr < 0 && errno != EAGAIN) woff = inlen;  // EPIPE: child gone
      if (woff >= inlen) {
        sys_close(wfd);  // EOF tells the symbolizer to finish and exit
        wfd = -1;
      }
    }
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (n == cap) {
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) {
          result = -ENOMEM;
          break;
        }
        buf = nb;
        cap *= 2;
      }
      ssize_t rd = sys_read(rfd, buf + n, cap - n);
      if (rd > 0) n += (size_t)rd;
      else if (rd == 0) {
        sys_close(rfd);
        rfd = -1;
      } else if (errno != EAGAIN) {
        result = -errno;
        break;
      }
    }
  }
  if (!buf && result == 0) result = -ENOMEM;
  sys_close(wfd);
  sys_close(rfd);

  // Reap: bounded wait; on timeout/error SIGKILL and wait again (bounded).
  int status = 0, reaped = 0;
  if (result == 0) {
    uint64_t dl = cu_now_ns() + 500000000ull;
    while (!reaped) {
      pid_t r = sys_waitpid_nohang(pid, &status);
      if (r == pid || r < 0) {
        reaped = 1;
        break;
      }
      if (cu_now_ns() >= dl) break;
      short_sleep(1000000);
    }
  }
  if (!reaped) {
    kill(pid, SIGKILL);
    uint64_t dl = cu_now_ns() + 2000000000ull;
    while (1) {
      pid_t r = sys_waitpid_nohang(pid, &status);
      if (r == pid || r < 0) break;
      if (cu_now_ns() >= dl) break;  // leaves a zombie rather than hang
      short_sleep(1000000);
    }
    if (result == 0) result = -ETIMEDOUT;
  }

  if (!had_pipe) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipeset, NULL, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &oldmask, NULL);

  if (buf) {
    buf[n] = 0;
    *out = buf;
    *outlen = n;
  }
  if (result < 0) return result;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
