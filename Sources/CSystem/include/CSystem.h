// C shims for what Swift's Glibc module does not expose: raw syscalls without
// glibc wrappers (pidfd_*), macros (CMSG_*, sigset ops), <sys/epoll.h>,
// prctl varargs and posix_spawn extensions.
#ifndef CSYSTEM_H
#define CSYSTEM_H
#include <stdint.h>
#include <sys/types.h>
#include <signal.h>
#include "CSpawn.h"  /* posix_spawn with a child fd table, SIGPIPE hold */
#include "CAccess.h"  /* peer credentials of a Unix socket, the open-file limit */

/// pidfd_open(2). Returns fd or -1/errno.
int cs_pidfd_open(pid_t pid, unsigned int flags);
/// pidfd_send_signal(2).
int cs_pidfd_send_signal(int pidfd, int sig);
/// ioctl(PIDFD_GET_INFO) with PIDFD_INFO_EXIT. Returns 0 and fills *exit_code
/// (a wait status) when the process has exited, 1 if it has not, -1/errno.
int cs_pidfd_exit_info(int pidfd, int *wait_status);
/// waitid(P_PIDFD, pidfd, WEXITED|WNOHANG). Returns 1 and the wait status when
/// reaped, 0 if still running, -1/errno (ECHILD for non-children).
int cs_waitid_pidfd(int pidfd, int *wait_status);
/// prctl(PR_SET_CHILD_SUBREAPER, on).
int cs_set_child_subreaper(int on);
/// prctl(PR_SET_PDEATHSIG, sig).
int cs_set_pdeathsig(int sig);
/// close_range(2) from `first` to ~0U (CLOSE_RANGE flags 0).
int cs_close_from(unsigned int first);
/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and returns a
/// non-blocking signalfd that reports them (the loop watches it).
int cs_termination_signalfd(void);
/// Blocks SIGCHLD in the calling thread and returns a non-blocking signalfd
/// that reports it (the fork server reaps its children on it).
int cs_child_signalfd(void);
/// Reads one signal from a signalfd; returns the signal number or -1.
int cs_read_signalfd(int fd);
/// accept4(SOCK_CLOEXEC | SOCK_NONBLOCK)
int cs_accept_nonblocking(int fd);
/// pipe2(O_CLOEXEC)
int cs_pipe_cloexec(int fds[2]);
/// gettid(2)
pid_t cs_gettid(void);
/// Resets the signal mask to empty and every catchable signal to SIG_DFL.
/// Used in a fork child: a child inherits the forking thread's mask.
void cs_reset_signals(void);
/// Blocks SIGPIPE process-wide; writes to a closed socket then fail with EPIPE.
void cs_ignore_sigpipe(void);

/// cs_spawn flags.
#define CS_SPAWN_NEW_PGROUP 1 /* the child leads a new process group */
#define CS_SPAWN_KEEP_FDS 2   /* no closefrom: the child keeps every inherited fd */
#define CS_SPAWN_CALLER_SIGNALS 4 /* the signal mask and ignored signals this process started with (watch) */

/// posix_spawn with: fd `channel_fd` dup2'ed to `target_fd`, every other fd
/// from 3 up closed, signal mask emptied and dispositions reset. `flags`:
/// CS_SPAWN_* (KEEP_FDS is the inherit-fds fault).
/// `argv`/`envp` are NULL terminated. Returns 0 or an errno.
int cs_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
             int channel_fd, int target_fd, int stdout_fd, int stderr_fd, int flags);
/// cs_spawn, the child joining the existing process group `pgroup` (> 0;
/// 0: the caller's group) unless flags has CS_SPAWN_NEW_PGROUP.
int cs_spawn_in_pgroup(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                       int channel_fd, int target_fd, int stdout_fd, int stderr_fd, int flags, pid_t pgroup);

// epoll (the loop's readiness source).
int cs_epoll_create(void);
int cs_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int cs_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout_ms);
extern const int CS_EPOLL_CTL_ADD, CS_EPOLL_CTL_DEL, CS_EPOLL_CTL_MOD;
extern const uint32_t CS_EPOLLIN, CS_EPOLLOUT, CS_EPOLLHUP, CS_EPOLLERR, CS_EPOLLRDHUP, CS_EPOLLONESHOT;

/// sendmsg with optional fds as SCM_RIGHTS (nfds may be 0). MSG_NOSIGNAL.
ssize_t cs_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);
/// recvmsg that also receives up to `maxfds` fds (MSG_CMSG_CLOEXEC). *nfds set.
ssize_t cs_recv_with_fds(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds);

/// Decoders for a wait status (macros in C).
int cs_wifexited(int status);
int cs_wexitstatus(int status);
int cs_wifsignaled(int status);
int cs_wtermsig(int status);

/// fork(2) without glibc's atfork handlers being any concern of Swift's.
pid_t cs_fork(void);
/// Number of threads of the calling process, from /proc/self/task (-1 on error).
int cs_thread_count(void);
/// fork-with-threads fault: starts a detached thread that takes a process-wide
/// lock and keeps it, so the process is multi-threaded with a lock held, the
/// way a logging or allocator thread would be at an unlucky moment.
int cs_fault_start_lock_holder(void);
/// Takes that lock. In a fork child of such a process the lock was copied in
/// its held state and its owner thread does not exist: this never returns.
void cs_fault_take_lock(void);
/// process_vm_readv(2) of one remote range into one local buffer (no stop of
/// the target). Returns bytes read (short at an unmapped page) or -1/errno.
ssize_t cs_process_vm_readv(pid_t pid, void *local, size_t count, uint64_t remote);
/// Gives the read-only private mappings of our own executable (text, read-only
/// data) an anonymous page each (mprotect(2) to writable, one write of a byte
/// with its own value, mprotect back), so that fork(2) copies their page table
/// entries and a child does not fault in again the code its parent had mapped.
/// Returns the number of mappings done, -1/errno when none could be read.
int cs_share_image_page_tables(void);
/// ioctl(FS_IOC_GETFLAGS / FS_IOC_SETFLAGS) adding FS_TOPDIR_FL to a
/// directory: ext4 spreads the directories made in it over its block groups
/// as it does those at the root. Returns 0 or -1/errno (ENOTTY, EOPNOTSUPP:
/// the filesystem has no such flag).
int cs_set_top_directory(const char *path);
#endif
