#define _GNU_SOURCE
#include "CSystem.h"
#include "CSpawn.h"
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/signalfd.h>
#include <linux/fs.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int cs_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }
int cs_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

// Kernel >= 6.15 uapi, declared here so older headers still compile.
struct cs_pidfd_info {
  uint64_t mask; uint64_t cgroupid; uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code; uint32_t coredump_mask; uint32_t __spare1;
};
#define CS_PIDFS_IOCTL_MAGIC 0xFF
#define CS_PIDFD_GET_INFO _IOWR(CS_PIDFS_IOCTL_MAGIC, 11, struct cs_pidfd_info)
#define CS_PIDFD_INFO_EXIT (1UL << 3)

int cs_pidfd_exit_info(int pidfd, int *wait_status) {
  struct cs_pidfd_info info;
  memset(&info, 0, sizeof info);
  info.mask = CS_PIDFD_INFO_EXIT;
  if (ioctl(pidfd, CS_PIDFD_GET_INFO, &info) != 0) {
    // ESRCH: the process is gone and the kernel kept no exit info for us.
    return -1;
  }
  if (info.mask & CS_PIDFD_INFO_EXIT) { *wait_status = info.exit_code; return 0; }
  return 1;
}

int cs_waitid_pidfd(int pidfd, int *wait_status) {
  siginfo_t si; memset(&si, 0, sizeof si);
  if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) != 0) return -1;
  if (si.si_pid == 0) return 0;
  if (si.si_code == CLD_EXITED) *wait_status = (si.si_status & 0xff) << 8;
  else *wait_status = si.si_status & 0x7f;  // killed/dumped: a termsig status
  return 1;
}

int cs_set_child_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)on, 0, 0, 0); }
int cs_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0); }
int cs_close_from(unsigned int first) { return (int)syscall(SYS_close_range, first, ~0U, 0); }
int cs_accept_nonblocking(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); }
int cs_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
pid_t cs_gettid(void) { return (pid_t)syscall(SYS_gettid); }

void cs_reset_signals(void) {
  sigset_t none; sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    signal(s, SIG_DFL);
  }
}

void cs_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int cs_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
             int channel_fd, int target_fd, int stdout_fd, int stderr_fd, int flags_in) {
  return cs_spawn_in_pgroup(pid, path, argv, envp, channel_fd, target_fd, stdout_fd, stderr_fd, flags_in, 0);
}

int cs_spawn_in_pgroup(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                       int channel_fd, int target_fd, int stdout_fd, int stderr_fd, int flags_in, pid_t pgroup) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc) return rc;
  rc = posix_spawnattr_init(&attr);
  if (rc) { posix_spawn_file_actions_destroy(&fa); return rc; }
  // 1. stdio first, so that closing from 3 up cannot remove a source fd we still need
  //    (the sources may be any number, including >= 3).
  if (stdout_fd >= 0 && stdout_fd != 1) posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
  if (stderr_fd >= 0 && stderr_fd != 2) posix_spawn_file_actions_adddup2(&fa, stderr_fd, 2);
  // 2. The channel goes to its agreed number; dup2 clears O_CLOEXEC on the copy.
  if (channel_fd >= 0) posix_spawn_file_actions_adddup2(&fa, channel_fd, target_fd);
  // 3. Everything else the parent holds (sibling channels, pidfds, the epoll fd)
  //    must not leak into the child: leaked ends keep peers from seeing EOF.
  //    (CS_SPAWN_KEEP_FDS: the inherit-fds fault skips this on purpose.)
  if (!(flags_in & CS_SPAWN_KEEP_FDS)) posix_spawn_file_actions_addclosefrom_np(&fa, channel_fd >= 0 ? target_fd + 1 : 3);
  // 4. A parent thread's blocked signals would otherwise be inherited, and the
  //    child would then ignore SIGTERM/SIGINT from the teardown ladder.
  cs_spawn_signal_attrs(&attr, 0);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (flags_in & CS_SPAWN_NEW_PGROUP) { flags |= POSIX_SPAWN_SETPGROUP; posix_spawnattr_setpgroup(&attr, 0); }
  else if (pgroup > 0) { flags |= POSIX_SPAWN_SETPGROUP; posix_spawnattr_setpgroup(&attr, pgroup); }
  posix_spawnattr_setflags(&attr, flags);
  rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

const int CS_EPOLL_CTL_ADD = EPOLL_CTL_ADD, CS_EPOLL_CTL_DEL = EPOLL_CTL_DEL, CS_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
const uint32_t CS_EPOLLIN = EPOLLIN, CS_EPOLLOUT = EPOLLOUT, CS_EPOLLHUP = EPOLLHUP, CS_EPOLLERR = EPOLLERR,
  CS_EPOLLRDHUP = EPOLLRDHUP, CS_EPOLLONESHOT = EPOLLONESHOT;

int cs_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }
int cs_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev; ev.events = events; ev.data.u64 = data;
  return epoll_ctl(epfd, op, fd, &ev);
}
int cs_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout_ms) {
  struct epoll_event evs[64];
  if (max > 64) max = 64;
  int n = epoll_wait(epfd, evs, max, timeout_ms);
  for (int i = 0; i < n; i++) { datas[i] = evs[i].data.u64; events[i] = evs[i].events; }
  return n;
}

ssize_t cs_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds) {
  struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
  struct msghdr msg; memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov; msg.msg_iovlen = 1;
  char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  if (nfds > 0) {
    if (nfds > 8) { errno = EINVAL; return -1; }
    memset(cbuf, 0, sizeof cbuf);
    msg.msg_control = cbuf; msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

ssize_t cs_recv_with_fds(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds) {
  struct iovec iov = { .iov_base = buf, .iov_len = len };
  struct msghdr msg; memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov; msg.msg_iovlen = 1;
  char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  msg.msg_control = cbuf; msg.msg_controllen = sizeof cbuf;
  *nfds = 0;
  ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      int *in = (int *)CMSG_DATA(c);
      for (int i = 0; i < count; i++) {
        if (*nfds < maxfds) fds[(*nfds)++] = in[i];
        else close(in[i]);  // never leak an fd we have no room for
      }
    }
  }
  return n;
}

int cs_wifexited(int s) { return WIFEXITED(s); }
int cs_wexitstatus(int s) { return WEXITSTATUS(s); }
int cs_wifsignaled(int s) { return WIFSIGNALED(s); }
int cs_wtermsig(int s) { return WTERMSIG(s); }

pid_t cs_fork(void) { return fork(); }

int cs_thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0; struct dirent *e;
  while ((e = readdir(d))) if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fault_ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fault_ready = PTHREAD_COND_INITIALIZER;
static int fault_held = 0;
static void *lock_holder(void *arg) {
  (void)arg;
  pthread_mutex_lock(&fault_lock);
  pthread_mutex_lock(&fault_ready_lock);
  fault_held = 1;
  pthread_cond_signal(&fault_ready);
  pthread_mutex_unlock(&fault_ready_lock);
  for (;;) pause();
  return NULL;
}
int cs_fault_start_lock_holder(void) {
  pthread_t t; pthread_attr_t a; pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&t, &a, lock_holder, NULL);
  pthread_attr_destroy(&a);
  if (rc != 0) return rc;
  // Return only once the lock is held, so every later fork copies it held.
  // Bounded (5 s): a thread that never runs must not hang the actor here.
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  int wrc = 0;
  pthread_mutex_lock(&fault_ready_lock);
  while (!fault_held && wrc != ETIMEDOUT) wrc = pthread_cond_timedwait(&fault_ready, &fault_ready_lock, &until);
  int held = fault_held;
  pthread_mutex_unlock(&fault_ready_lock);
  return held ? 0 : ETIMEDOUT;
}
void cs_fault_take_lock(void) { pthread_mutex_lock(&fault_lock); }

int cs_termination_signalfd(void) {
  sigset_t set; sigemptyset(&set);
  sigaddset(&set, SIGINT); sigaddset(&set, SIGTERM); sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}
int cs_child_signalfd(void) {
  sigset_t set; sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}
int cs_read_signalfd(int fd) {
  struct signalfd_siginfo si;
  ssize_t n = read(fd, &si, sizeof si);
  if (n != (ssize_t)sizeof si) return -1;
  return (int)si.ssi_signo;
}

int cs_set_top_directory(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int flags = 0;  // an int, as the kernel and e2fsprogs use it
  int rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
  if (rc == 0 && !(flags & FS_TOPDIR_FL)) {
    flags |= FS_TOPDIR_FL;
    rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}
