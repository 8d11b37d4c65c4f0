// CSupport: the few C calls SystemSupport needs that Swift cannot make directly.
//
// Workarounds, each deliberate:
// 1. prctl(2) is variadic, which Swift cannot call: typed wrappers.
// 2. posix_spawn_file_actions_addclosefrom_np and fallocate are GNU extensions that Swift's Glibc module does
//    not export (it is built without _GNU_SOURCE): declared here with their glibc prototypes (glibc 2.34+ for
//    the first; Debian 12 has 2.36), which is what their headers declare under _GNU_SOURCE.
// 3. statx(2) is not exported either: called through syscall(2) with the kernel's struct statx (birth time,
//    mount id).
// 4. syslog(3) is variadic: one wrapper that logs a finished message with "%s", never as a format.
// Every symbol defined here is prefixed pus_.
#ifndef PUS_CSUPPORT_SHIM_H
#define PUS_CSUPPORT_SHIM_H
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int fallocate(int fd, int mode, off_t offset, off_t len);

/// prctl(PR_SET_DUMPABLE, value): 0 keeps core dumps and ptrace of a non-root process away from memory that
/// holds account keys.
static inline int pus_set_dumpable(int value) { return prctl(PR_SET_DUMPABLE, value, 0, 0, 0); }
/// prctl(PR_GET_DUMPABLE).
static inline int pus_get_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }
/// The spawned child gets no descriptor from `from` up.
static inline int pus_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
/// openat2(2) that cannot leave `dirfd`: no "..", no absolute path, no symlink anywhere on the way
/// (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS). glibc has no wrapper: syscall(2), which is
/// variadic, hence this function. -1 with errno set on failure (ELOOP or EXDEV for what it refuses).
static inline int pus_openat_beneath(int dirfd, const char *path, int flags, unsigned int mode) {
    struct open_how how = { .flags = (unsigned long long)flags, .mode = (flags & O_CREAT) ? mode : 0,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
/// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): zeroes a range without writing it.
static inline int pus_punch_hole(int fd, off_t offset, off_t len) { return fallocate(fd, 0x02 | 0x01, offset, len); }
/// The birth time of `path` relative to `dirfd` (`""` with AT_EMPTY_PATH in `flags`: of `dirfd` itself), in
/// nanoseconds since the epoch, via statx(2). -1 when the call fails or the file system records no birth time.
static inline long long pus_birth_time(int dirfd, const char *path, int flags) {
    struct statx sx;
    if (syscall(SYS_statx, dirfd, path, flags, STATX_BTIME, &sx) != 0 || !(sx.stx_mask & STATX_BTIME)) return -1;
    return (long long)sx.stx_btime.tv_sec * 1000000000LL + sx.stx_btime.tv_nsec;
}
/// The id of the mount `path` lives on (as in /proc/PID/mountinfo), via statx(2) STATX_MNT_ID, following
/// symlinks (so /proc/PID/cwd and /proc/PID/fd/N name what they point at) and with AT_STATX_DONT_SYNC (a cifs
/// inode is not revalidated with a server that may not answer). 0 when the call fails.
#ifndef AT_STATX_DONT_SYNC
#define AT_STATX_DONT_SYNC 0x4000 /* <linux/fcntl.h>; glibc's <fcntl.h> defines it only under _GNU_SOURCE */
#endif
#ifndef AT_NO_AUTOMOUNT
#define AT_NO_AUTOMOUNT 0x800
#endif
static inline unsigned long long pus_mount_id(const char *path) {
    struct statx sx;
    if (syscall(SYS_statx, AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, STATX_MNT_ID, &sx) != 0 || !(sx.stx_mask & STATX_MNT_ID)) return 0;
    return sx.stx_mnt_id;
}
/// One syslog(3) line, `message` passed as data ("%s"), with `ident` and the pid, at `priority` (facility |
/// level). The connection is opened and closed around it (pus-mount logs a line or two in its life).
static inline void pus_syslog(const char *ident, int priority, const char *message) {
    openlog(ident, LOG_PID, priority & LOG_FACMASK);
    syslog(priority, "%s", message);
    closelog();
}
/// Facility and level constants as functions (Swift imports these macros, but not their `|` combinations).
static inline int pus_log_authpriv(void) { return LOG_AUTHPRIV; }
static inline int pus_log_daemon(void) { return LOG_DAEMON; }
static inline int pus_log_err(void) { return LOG_ERR; }
static inline int pus_log_warning(void) { return LOG_WARNING; }
static inline int pus_log_notice(void) { return LOG_NOTICE; }
static inline int pus_log_info(void) { return LOG_INFO; }
#endif
