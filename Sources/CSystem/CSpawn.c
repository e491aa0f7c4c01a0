#define _GNU_SOURCE
#include "CSpawn.h"
#include "CSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { CS_MAX_MAPPED = 16 };

/* The signal mask and the ignored signals this process was started with,
 * read before main (and so before any supervisor blocks its termination
 * signals): what `watch` hands on to its command. */
static sigset_t cs_start_mask;
static unsigned long cs_start_ignored[2]; /* bit (sig-1), signals 1..128 */

/* The kernel's struct sigaction (rt_sigaction(2)), x86_64/aarch64 layout. */
struct cs_kernel_sigaction { void *handler; unsigned long flags; void *restorer; unsigned long mask; };

__attribute__((constructor)) static void cs_record_start_signals(void) {
  pthread_sigmask(SIG_BLOCK, NULL, &cs_start_mask);
  for (int sig = 1; sig < 65; sig++) {
    struct cs_kernel_sigaction old;
    /* The raw syscall: glibc's sigaction refuses its internal signals (32, 33). */
    if (syscall(SYS_rt_sigaction, sig, NULL, &old, 8) == 0 && old.handler == (void *)SIG_IGN)
      cs_start_ignored[(sig - 1) / 64] |= 1UL << ((sig - 1) % 64);
  }
}

/* Sets bit `sig` in a sigset_t directly: sigaddset refuses glibc's internal
 * signals, and posix_spawn then makes them SIG_IGN in the child (glibc 2.36
 * spawni: an internal signal with a handler here becomes SIG_IGN there, and
 * exec keeps SIG_IGN), so a spawned command started with 32 and 33 ignored. */
static void cs_sigset_raw_add(sigset_t *set, int sig) {
  unsigned long *words = (unsigned long *)set;
  words[(sig - 1) / (8 * sizeof(unsigned long))] |= 1UL << ((sig - 1) % (8 * sizeof(unsigned long)));
}

void cs_spawn_signal_attrs(posix_spawnattr_t *attr, int caller_signals) {
  sigset_t mask, dflt;
  sigemptyset(&dflt);
  for (int sig = 1; sig < 65; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    int was_ignored = (cs_start_ignored[(sig - 1) / 64] >> ((sig - 1) % 64)) & 1;
    if (caller_signals && was_ignored) continue; /* stays SIG_IGN across exec */
    cs_sigset_raw_add(&dflt, sig);
  }
  if (caller_signals) mask = cs_start_mask; else sigemptyset(&mask);
  posix_spawnattr_setsigmask(attr, &mask);
  posix_spawnattr_setsigdefault(attr, &dflt);
}

int cs_spawn_mapped(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                    const int *fds, int nfds, int flags_in, pid_t pgroup) {
  if (nfds < 0 || nfds > CS_MAX_MAPPED) return EINVAL;
  int copies[CS_MAX_MAPPED];
  int top = nfds > 3 ? nfds : 3;
  int rc = 0;
  for (int i = 0; i < nfds; i++) copies[i] = -1;
  for (int i = 0; i < nfds && rc == 0; i++) {
    if (fds[i] < 0) continue;
    copies[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top + CS_MAX_MAPPED);
    if (copies[i] < 0) rc = errno;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int fa_ok = 0, attr_ok = 0;
  if (rc == 0) { rc = posix_spawn_file_actions_init(&fa); fa_ok = rc == 0; }
  if (rc == 0) { rc = posix_spawnattr_init(&attr); attr_ok = rc == 0; }
  for (int i = 0; i < nfds && rc == 0; i++) {
    // dup2 clears O_CLOEXEC on the target.
    if (copies[i] >= 0) rc = posix_spawn_file_actions_adddup2(&fa, copies[i], i);
    else if (i >= 3) rc = posix_spawn_file_actions_addclose(&fa, i);
  }
  if (rc == 0 && !(flags_in & CS_SPAWN_KEEP_FDS)) rc = posix_spawn_file_actions_addclosefrom_np(&fa, top);
  if (rc == 0) {
    cs_spawn_signal_attrs(&attr, flags_in & CS_SPAWN_CALLER_SIGNALS);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (flags_in & CS_SPAWN_NEW_PGROUP) { flags |= POSIX_SPAWN_SETPGROUP; posix_spawnattr_setpgroup(&attr, 0); }
    else if (pgroup > 0) { flags |= POSIX_SPAWN_SETPGROUP; posix_spawnattr_setpgroup(&attr, pgroup); }
    posix_spawnattr_setflags(&attr, flags);
    rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
  }
  if (fa_ok) posix_spawn_file_actions_destroy(&fa);
  if (attr_ok) posix_spawnattr_destroy(&attr);
  for (int i = 0; i < nfds; i++) if (copies[i] >= 0) close(copies[i]);
  return rc;
}

int cs_sigpipe_hold(void) {
  sigset_t pipeset, old, pending;
  sigemptyset(&pipeset);
  sigaddset(&pipeset, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipeset, &old);
  sigpending(&pending);
  return (sigismember(&old, SIGPIPE) ? 1 : 0) | (sigismember(&pending, SIGPIPE) ? 2 : 0);
}

void cs_sigpipe_release(int token) {
  sigset_t pipeset;
  sigemptyset(&pipeset);
  sigaddset(&pipeset, SIGPIPE);
  if (!(token & 2)) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipeset, NULL, &zero) == SIGPIPE) {
    }
  }
  if (!(token & 1)) pthread_sigmask(SIG_UNBLOCK, &pipeset, NULL);
}
