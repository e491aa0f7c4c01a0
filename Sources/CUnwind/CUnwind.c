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

typedef void *(*fn_create_as)(void *accessors, int byteorder);
typedef void (*fn_destroy_as)(void *as);
typedef int (*fn_set_caching)(void *as, int policy);
typedef int (*fn_init_remote)(void *cursor, void *as, void *arg);
typedef int (*fn_step)(void *cursor);
typedef int (*fn_get_reg)(void *cursor, int reg, cu_unw_word_t *val);
typedef void *(*fn_upt_create)(pid_t);
typedef void (*fn_upt_destroy)(void *);

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
  void *upt_accessors;
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
  SYM(upt_accessors, pt, "_UPT_accessors");
#undef SYM
  U.ok = 1;
}

int cu_load(char *err, size_t errlen) {
  pthread_once(&load_once, do_load);
  if (!U.ok && err && errlen > 0) snprintf(err, errlen, "%s", U.err[0] ? U.err : "unknown error");
  return U.ok;
}

void *cu_as_create(void) {
  if (!cu_load(NULL, 0)) return NULL;
  void *as = U.create_as(U.upt_accessors, 0);
  // Global caching: threads of one process share code, so unwind info found
  // for the first thread is reused for the others (less time stopped).
  if (as) U.set_caching(as, CU_UNW_CACHE_GLOBAL);
  return as;
}

void cu_as_destroy(void *as) {
  if (as && U.ok) U.destroy_as(as);
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

int cu_unwind_thread(void *as, pid_t tid, uint64_t *pcs, uint64_t *sps, int max,
                     int wait_ms, cu_thread_result *r) {
  memset(r, 0, sizeof *r);
  r->detached = 1;
  if (!U.ok || !as) {
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

  uint64_t u0 = cu_now_ns();
  int n = 0;
  void *upt = U.upt_create(tid);
  if (!upt) {
    r->stage = CU_STAGE_UPT;
    r->err = ENOMEM;
  } else {
    cu_unw_cursor_t cur;
    int ir = U.init_remote(&cur, as, upt);
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
        int s = U.step(&cur);
        if (s == 0) break;
        if (s < 0) {
          r->stage = CU_STAGE_STEP;
          r->err = -s;
          break;
        }
      }
    }
    U.upt_destroy(upt);
  }
  r->unwind_ns = cu_now_ns() - u0;
  r->nframes = n;

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
