// Capturing stacks: ptrace one thread at a time, copy its registers and
// stack top, detach, then unwind the copy with libunwind. See
// include/CUnwind.h for the contract of each function.
#include "Internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
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

// ---------------------------------------------------------------------------
// Syscall wrappers (EINTR retry)

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
// over that copy through our own accessors. Unwind tables are found in the
// shared unwind images (UnwindImages.c: each ELF file mapped once per run),
// and everything libunwind reads from a read-only file mapping
// (.eh_frame_hdr, .eh_frame, code bytes for signal-frame detection) comes
// from our own mapping of the file. Only what no file holds (a module
// without .eh_frame_hdr, [vdso], writable or RELRO pages) goes to the target:
// _UPT_find_proc_info for the tables, a small page cache for the bytes.

enum { CU_PAGE = 4096, CU_NPAGES = 64 };

typedef struct {
  uint64_t page;  // page address + 1 (0 = empty slot)
  uint32_t len;   // bytes valid from the page start
} cu_page_tag;

typedef struct {
  uint64_t start, end, offset;
  uint64_t dev, ino;      // the file, as maps names it (0/0 anonymous)
  const char *path;       // into the session's copy of the maps text, or NULL
  int module;             // index per distinct path (file-backed), -1 for anonymous
  int writable;
  int image_state;        // 0 not looked up, 1 image, -1 none
  const cu_uimage *image;
  uint64_t bias;          // runtime - link-time address (when image)
} cu_map;

enum { CU_MAXMAPS = 4096, CU_MAXMODULES = 256 };

struct cu_session {
  pid_t pid;
  void *as;   // unw_addr_space_t over cu_accessors
  void *upt;  // _UPT_create(pid): put_unwind_info, and tables of ips outside known modules
  // /proc/PID/maps as given at creation (sorted by start), and its text.
  cu_map *maps;
  int nmaps;
  char *maps_text;
  // Fallback only (a module with no usable .eh_frame_hdr): one _UPT handle
  // per module, because _UPT_find_proc_info keeps only the last ELF image it
  // looked at and re-maps the file on every switch.
  void *module_upt[CU_MAXMODULES];
  int nmodules;
  // Current thread's snapshot.
  uint64_t regs[17];  // UNW_X86_64_RAX .. UNW_X86_64_RIP
  uint64_t stack_base;
  size_t stack_len;
  size_t stack_cap;
  uint8_t *stack;
  // Direct-mapped cache of remote pages (what no file holds).
  cu_page_tag tags[CU_NPAGES];
  uint8_t *pages;
};

// The session being unwound by this OS thread: _UPT_find_proc_info passes
// its own argument (the _UPT handle) to access_mem, so ours travels here.
static __thread cu_session *cur_session;

/// The mapping containing addr (binary search), or NULL.
static cu_map *find_map(const cu_session *s, uint64_t addr) {
  int lo = 0, hi = s->nmaps;  // first with start > addr
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (s->maps[mid].start <= addr) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0 || addr >= s->maps[lo - 1].end) return NULL;
  return &s->maps[lo - 1];
}

/// The shared image behind a file mapping (looked up once per mapping).
static const cu_uimage *map_image(const cu_session *s, cu_map *m) {
  if (m->image_state == 0) {
    m->image_state = -1;
    if (m->path && m->ino != 0) {
      const cu_uimage *u = cu_uimage_get(s->pid, m->dev, m->ino, m->path);
      if (u && cu_uimage_bias(u, m->start, m->offset, &m->bias)) {
        m->image = u;
        m->image_state = 1;
      }
    }
  }
  return m->image_state == 1 ? m->image : NULL;
}

static int acc_find_proc_info(void *as, cu_unw_word_t ip, void *pi, int need, void *arg) {
  cu_session *s = cur_session;
  if (!s) return -CU_UNW_EINVAL;
  cu_map *m = find_map(s, ip);
  const cu_uimage *u = m ? map_image(s, m) : NULL;
  if (u && u->has_table) {
    // What libunwind's own table finder builds, from the shared image:
    // segbase = the header, table_data = the search table (runtime addresses;
    // access_mem serves them from our mapping of the file).
    cu_unw_dyn_info_t di;
    memset(&di, 0, sizeof di);
    di.start_ip = m->start;
    di.end_ip = m->end;
    di.gp = u->gp;
    di.format = CU_UNW_INFO_FORMAT_REMOTE_TABLE;
    di.segbase = u->hdr_vaddr + m->bias;
    di.table_len = u->fde_count;  // in words: one 8-byte entry each
    di.table_data = u->table_vaddr + m->bias;
    return U.search_unwind_table(as, ip, &di, pi, need, arg);
  }
  void *upt = s->upt;
  if (m && m->module >= 0) {
    if (!s->module_upt[m->module]) s->module_upt[m->module] = U.upt_create(s->pid);
    if (s->module_upt[m->module]) upt = s->module_upt[m->module];
  }
  return U.upt_find_proc_info(as, ip, pi, need, upt);
}

/// Parses a copy of /proc/PID/maps into s->maps (module = index per distinct
/// path; dev/inode/offset/perms kept for the image lookup).
static void load_maps(cu_session *s, const char *text_in, size_t len) {
  s->maps_text = malloc(len + 1);
  s->maps = malloc(sizeof(cu_map) * CU_MAXMAPS);
  if (!s->maps_text || !s->maps) return;
  memcpy(s->maps_text, text_in, len);
  s->maps_text[len] = 0;
  const char *names[CU_MAXMODULES];
  size_t namelens[CU_MAXMODULES];
  char *line = s->maps_text;
  while (line && *line && s->nmaps < CU_MAXMAPS) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    // "start-end perms offset maj:min inode   path"
    char *end;
    uint64_t a = strtoull(line, &end, 16);
    if (*end == '-') {
      uint64_t b = strtoull(end + 1, &end, 16);
      while (*end == ' ') end++;
      int writable = end[0] && end[1] == 'w';
      while (*end && *end != ' ') end++;
      uint64_t off = strtoull(end, &end, 16);
      uint64_t maj = strtoull(end, &end, 16);
      uint64_t min = *end == ':' ? strtoull(end + 1, &end, 16) : 0;
      uint64_t ino = strtoull(end, &end, 10);
      const char *p = end;
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
      if (b > a)
        s->maps[s->nmaps++] = (cu_map){.start = a, .end = b, .offset = off, .dev = maj << 32 | min,
                                       .ino = ino, .path = *p == '/' ? p : NULL, .module = module,
                                       .writable = writable};
    }
    line = nl ? nl + 1 : NULL;
  }
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
  // A read-only file mapping: the same bytes are in our mapping of the file.
  cu_map *m = find_map(s, addr);
  if (m && !m->writable && addr + 8 <= m->end) {
    const cu_uimage *u = map_image(s, m);
    const uint8_t *b = u ? cu_uimage_bytes(u, addr - m->bias, 8) : NULL;
    if (b) {
      memcpy(val, b, 8);
      return 0;
    }
  }
  // Otherwise (no file, writable or RELRO pages, a stack deeper than the
  // copy) read the target, live: the thread runs again by now.
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

// The stack-copy buffer of an OS thread, kept from one session to the next:
// it must be touched before any stop (a page fault must not land while a
// thread is held), and touching 256 KiB per process was ~5% of a
// `snapshot --tree` of 6 processes. Freed when the thread exits.
typedef struct {
  uint8_t *buf;
  size_t cap;
  int busy;
} cu_stackbuf;
static pthread_key_t stackbuf_key;
static pthread_once_t stackbuf_once = PTHREAD_ONCE_INIT;
static void stackbuf_free(void *p) {
  cu_stackbuf *b = p;
  free(b->buf);
  free(b);
}
static void stackbuf_init(void) { (void)pthread_key_create(&stackbuf_key, stackbuf_free); }

/// This thread's buffer when it is free and large enough (touched once),
/// else NULL (the session then allocates and touches its own).
static uint8_t *stackbuf_take(size_t cap) {
  pthread_once(&stackbuf_once, stackbuf_init);
  cu_stackbuf *b = pthread_getspecific(stackbuf_key);
  if (!b) {
    b = calloc(1, sizeof *b);
    if (!b || pthread_setspecific(stackbuf_key, b) != 0) {
      free(b);
      return NULL;
    }
  }
  if (b->busy) return NULL;
  if (b->cap < cap) {
    uint8_t *nb = malloc(cap);
    if (!nb) return NULL;
    memset(nb, 0, cap);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
  }
  b->busy = 1;
  return b->buf;
}

/// Gives `buf` back if it is this thread's buffer; 0 when it was not.
static int stackbuf_give(uint8_t *buf) {
  cu_stackbuf *b = pthread_getspecific(stackbuf_key);
  if (!b || b->buf != buf) return 0;
  b->busy = 0;
  return 1;
}

cu_session *cu_session_create(pid_t pid, size_t stack_bytes, const char *maps, size_t maps_len) {
  if (!cu_load(NULL, 0)) return NULL;
  cu_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->pid = pid;
  if (stack_bytes < 4096) stack_bytes = 4096;
  s->stack_cap = stack_bytes;
  s->stack = stackbuf_take(stack_bytes);
  if (!s->stack && (s->stack = malloc(stack_bytes))) memset(s->stack, 0, stack_bytes);
  s->pages = malloc((size_t)CU_PAGE * CU_NPAGES);
  s->upt = U.upt_create(pid);
  s->as = U.create_as(cu_accessors, 0);
  load_maps(s, maps, maps_len);
  if (!s->stack || !s->pages || !s->upt || !s->as || !s->maps || !s->maps_text) {
    cu_session_destroy(s);
    return NULL;
  }
  // No caching. libunwind's global cache (per address space, so per process)
  // takes a lock around every lookup, and its lock blocks all signals with two
  // sigprocmask calls: ~1,300 syscalls for the six Python processes of the
  // bench's tree (strace), while the cache only pays when several threads of
  // one process pass the same return addresses. Its per-thread cache is not an
  // option: it is shared by every address space the thread unwinds, keyed by
  // address alone, and we unwind many processes on one thread.
  U.set_caching(s->as, CU_UNW_CACHE_NONE);
  return s;
}

void cu_session_destroy(cu_session *s) {
  if (!s) return;
  if (s->as) U.destroy_as(s->as);
  if (s->upt) U.upt_destroy(s->upt);
  for (int i = 0; i < s->nmodules; i++)
    if (s->module_upt[i]) U.upt_destroy(s->module_upt[i]);
  free(s->maps);
  free(s->maps_text);
  if (s->stack && !stackbuf_give(s->stack)) free(s->stack);
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

