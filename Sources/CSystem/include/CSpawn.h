// posix_spawn with an explicit child fd table, and a SIGPIPE hold for one
// thread: what the Supervision module's launcher and filter need that
// cs_spawn (one channel fd + stdout/stderr) does not cover.
#ifndef CSPAWN_H
#define CSPAWN_H
#include <spawn.h>
#include <sys/types.h>

/// The child's signal mask and dispositions for posix_spawn: every signal
/// (glibc's internal 32 and 33 included) back to SIG_DFL and an empty mask;
/// with `caller_signals`, the mask and the ignored signals this process
/// started with instead (read by a constructor before main).
void cs_spawn_signal_attrs(posix_spawnattr_t *attr, int caller_signals);

/// posix_spawn(3): the child's fd i (0 <= i < nfds) is the parent's fd
/// fds[i]; fds[i] == -1 leaves fd i as inherited (0-2) or closed (>= 3).
/// Every other fd from nfds (at least 3) up is closed unless flags has
/// CS_SPAWN_KEEP_FDS; CS_SPAWN_NEW_PGROUP makes the child a process-group
/// leader; otherwise `pgroup` > 0 makes it join that existing group (the
/// tree keeper's). The signal mask is emptied and every disposition reset, so a
/// child never inherits the termination signals a supervisor blocks;
/// CS_SPAWN_CALLER_SIGNALS gives it this process's starting ones instead.
/// Sources are first copied above the table (F_DUPFD_CLOEXEC), so a source
/// numbered like a target slot cannot be clobbered by an earlier dup2.
/// Returns 0 or an errno.
int cs_spawn_mapped(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                    const int *fds, int nfds, int flags, pid_t pgroup);

/// pthread_sigmask(SIG_BLOCK, {SIGPIPE}) for the calling thread: a write to
/// a pipe whose reader died then fails with EPIPE instead of killing us.
/// Returns a token for cs_sigpipe_release (what was blocked/pending before).
int cs_sigpipe_hold(void);
/// Discards a SIGPIPE raised while held (sigtimedwait, zero timeout) unless
/// one was pending before, and restores the thread's previous mask.
void cs_sigpipe_release(int token);
#endif
