// Loading libunwind. Two ways, chosen at build time:
// - CU_STATIC_EXECUTABLE (release builds of tractor-diag, a static executable):
//   libunwind-ptrace.a, libunwind-x86_64.a and liblzma.a are linked in and
//   the table below points at their functions. Those archives define only
//   _U*-prefixed symbols, never _Unwind_*, so Swift's own unwinding is not
//   touched. Saves the dlopen of four libraries (~0.5 ms a run, perf).
// - otherwise (debug builds, the tests): dlopen(3)/dlsym(3) at first use; the
//   shared libraries are NOT linked, because libunwind.so.8 (a dependency of
//   libunwind-x86_64.so.8) would interpose _Unwind_* for the whole process.
// See include/CUnwind.h.
#include "Internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct cu_libunwind U;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

#ifdef CU_STATIC_EXECUTABLE
// The symbols as libunwind-x86_64.a and libunwind-ptrace.a define them
// (declared with our own types: no libunwind headers are needed).
void *_Ux86_64_create_addr_space(void *accessors, int byteorder);
void _Ux86_64_destroy_addr_space(void *as);
int _Ux86_64_set_caching_policy(void *as, int policy);
int _Ux86_64_init_remote(void *cursor, void *as, void *arg);
int _Ux86_64_step(void *cursor);
int _Ux86_64_get_reg(void *cursor, int reg, cu_unw_word_t *val);
void *_UPT_create(pid_t pid);
void _UPT_destroy(void *upt);
int _UPT_find_proc_info(void *as, cu_unw_word_t ip, void *pi, int need, void *arg);
void _UPT_put_unwind_info(void *as, void *pi, void *arg);
int _Ux86_64_dwarf_search_unwind_table(void *as, cu_unw_word_t ip, void *di, void *pi, int need, void *arg);

// unw_resume's object in libunwind-x86_64.a (linked with unw_step's) refers
// to this for resuming a LOCAL context, which a remote unwinder never does.
// The real one is in libunwind.a, next to _Unwind_*, which must stay out.
int _Ux86_64_setcontext(const void *ucp);
int _Ux86_64_setcontext(const void *ucp) {
  (void)ucp;
  abort();
}

static void do_load(void) {
  U.create_as = _Ux86_64_create_addr_space;
  U.destroy_as = _Ux86_64_destroy_addr_space;
  U.set_caching = _Ux86_64_set_caching_policy;
  U.init_remote = _Ux86_64_init_remote;
  U.step = _Ux86_64_step;
  U.get_reg = _Ux86_64_get_reg;
  U.upt_create = _UPT_create;
  U.upt_destroy = _UPT_destroy;
  U.upt_find_proc_info = _UPT_find_proc_info;
  U.upt_put_unwind_info = _UPT_put_unwind_info;
  U.search_unwind_table = _Ux86_64_dwarf_search_unwind_table;
  U.ok = 1;
}
#else
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
  SYM(search_unwind_table, arch, "_Ux86_64_dwarf_search_unwind_table");
#undef SYM
  U.ok = 1;
}
#endif

int cu_load(char *err, size_t errlen) {
  pthread_once(&load_once, do_load);
  if (!U.ok && err && errlen > 0) snprintf(err, errlen, "%s", U.err[0] ? U.err : "unknown error");
  return U.ok;
}

// ---------------------------------------------------------------------------
// Clock and free(3), for callers of the shim

uint64_t cu_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cu_free(void *p) { free(p); }
