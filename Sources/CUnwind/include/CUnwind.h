// CUnwind: C shim for NativeStacks: Load.c (libunwind: linked, or dlopen), Capture.c
// (ptrace + unwind), UnwindImages.c (ELF files behind the unwinding, shared
// by every session), Elf.c (symbol tables), Demangle.c, Files.c.
//
// Why C: Swift's Glibc module does not expose ptrace(2), the PTRACE_* request
// constants, __WALL, or a convenient dirent; and libunwind's API is a set of
// preprocessor macros over arch-prefixed symbols (_Ux86_64_*) that we must
// dlsym because libunwind is NOT linked (linking it would interpose _Unwind_*
// for the whole process and break Swift's own unwinding).
//
// Nothing here includes libunwind headers: the few types we need are declared
// privately in CUnwind.c (checked against libunwind 1.6.2 headers).
#ifndef CUNWIND_H
#define CUNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------
// Loading libunwind (linked statically in release builds, else dlopen/dlsym)

/// Makes libunwind's functions callable: in release builds (CU_STATIC_EXECUTABLE)
/// they are linked in from libunwind's static archives; otherwise it loads
/// libunwind-x86_64.so.8 + libunwind-ptrace.so.0 with dlopen(3) and
/// resolves the symbols we use with dlsym(3). Idempotent and thread-safe
/// (pthread_once). Returns 1 when available, 0 otherwise with a message in
/// `err` (always NUL-terminated when errlen > 0).
int cu_load(char *err, size_t errlen);

/// One capture of one process: a libunwind address space over our own
/// accessors (registers and stack top copied while the thread is stopped;
/// unwind tables and read-only code found in the ELF files behind the
/// target's mappings, each mapped once per run and shared by every session;
/// what no file holds read from the target with process_vm_readv through a
/// page cache; _UPT_find_proc_info only for a module without .eh_frame_hdr),
/// with no libunwind caching (see Capture.c). `maps` is the text of /proc/PID/maps (read once
/// by the caller, who shares it with the other readers of the process).
/// The stack copy stops at the end of the stack pointer's mapping. Use one per target process and capture (the caches are
/// keyed by address only). `stack_bytes` is the most copied from each
/// thread's stack pointer. NULL when libunwind is not loaded or on ENOMEM.
typedef struct cu_session cu_session;
cu_session *cu_session_create(pid_t pid, size_t stack_bytes, const char *maps, size_t maps_len);
/// Frees the session (unw_destroy_addr_space, _UPT_destroy, buffers).
void cu_session_destroy(cu_session *s);

// ---------------------------------------------------------------------------
// One thread: PTRACE_SEIZE, PTRACE_INTERRUPT, bounded waitpid(__WALL),
// unwind, PTRACE_DETACH (always, on every path where we are attached).

enum {
  CU_STAGE_OK = 0,
  CU_STAGE_SEIZE = 1,      // ptrace(PTRACE_SEIZE) failed (err = errno)
  CU_STAGE_INTERRUPT = 2,  // ptrace(PTRACE_INTERRUPT) failed
  CU_STAGE_WAIT = 3,       // waitpid failed or timed out (err = errno / ETIMEDOUT)
  CU_STAGE_EXITED = 4,     // the thread exited while we waited for its stop
  CU_STAGE_UPT = 5,        // (unused: _UPT_create is per session now)
  CU_STAGE_INIT = 6,       // unw_init_remote failed (err = -unw error)
  CU_STAGE_STEP = 7,       // unw_step failed after some frames (frames still valid)
  CU_STAGE_NOLIB = 8,      // libunwind not loaded
  CU_STAGE_REGS = 9,       // PTRACE_GETREGS failed (err = errno)
};

typedef struct {
  int stage;           // CU_STAGE_*
  int err;             // errno (positive) or libunwind error code (positive)
  int nframes;         // frames written to pcs/sps
  int detached;        // 1 when we are no longer attached (or never were)
  int stop_status;     // raw waitpid status of the stop we got
  int forwarded_sig;   // signal re-injected on detach (signal-delivery-stop)
  uint64_t stall_ns;   // PTRACE_INTERRUPT .. PTRACE_DETACH (upper bound of stop)
  uint64_t wait_ns;    // PTRACE_INTERRUPT .. stop reported
  uint64_t copy_ns;    // stop reported .. registers + stack copied
  uint64_t unwind_ns;  // libunwind over the copy (after detach)
  uint64_t stack_bytes;  // bytes of stack copied from the stack pointer
} cu_thread_result;

/// Attaches to one thread (ptrace PTRACE_SEIZE + PTRACE_INTERRUPT), waits for
/// the stop with waitpid(tid, __WALL|WNOHANG) polled with short yields/ppoll
/// sleeps up to `wait_ms`, copies its registers (PTRACE_GETREGS) and up to
/// the session's stack_bytes from its stack pointer (process_vm_readv),
/// detaches (PTRACE_DETACH), and only then unwinds up to `max` frames with
/// libunwind over the copy. Must be called from the same OS thread for the
/// whole sequence (it is: one synchronous call). Returns nframes (>= 0) or -1
/// with details in `r`. If the stop did not arrive in time, `r->detached` is
/// 0 and the caller should call cu_retry_detach later from the same thread.
int cu_unwind_thread(cu_session *s, pid_t tid, uint64_t *pcs, uint64_t *sps, int max,
                     int wait_ms, cu_thread_result *r);

/// For a thread left attached after a wait timeout: waits (bounded, waitpid
/// __WALL|WNOHANG) for the pending stop, then PTRACE_DETACH. Returns 1 when
/// no longer attached, 0 when still attached.
int cu_retry_detach(pid_t tid, int wait_ms);

// ---------------------------------------------------------------------------
// Small helpers (syscalls with EINTR retry)

/// free(3), for buffers returned by this shim.
void cu_free(void *p);

// ---------------------------------------------------------------------------
// ELF symbol tables (read ourselves, after detach)

typedef struct cu_elf cu_elf;

/// open + fstat + mmap of an ELF64 file; indexes PT_LOAD segments and the
/// function symbols of .symtab and .dynsym. NULL on failure (*err = errno or
/// ENOEXEC for a non-ELF64 file).
cu_elf *cu_elf_open(const char *path, int *err);
/// munmap + free.
void cu_elf_close(cu_elf *e);
/// File offset -> link-time virtual address via the PT_LOAD covering it.
/// Returns 1 on success.
int cu_elf_fileoff_to_vaddr(const cu_elf *e, uint64_t fileoff, uint64_t *vaddr);
/// Function symbol containing vaddr. Returns a pointer into the mapping
/// (valid until cu_elf_close) or NULL; *symaddr = start of the symbol.
const char *cu_elf_lookup(const cu_elf *e, uint64_t vaddr, uint64_t *symaddr);

// ---------------------------------------------------------------------------
// Demangling

/// Swift names ($s, $S, _T0, $e) via swift_demangle from libswiftCore
/// (dlsym RTLD_DEFAULT); C++ (_Z) via __cxa_demangle when loaded. Returns a
/// malloc'd string or NULL when not mangled / not demanglable.
char *cu_demangle(const char *name);

#ifdef __cplusplus
}
#endif

#endif
