/*
 * pam_pus_mount.so: attach a user's pus-mount storage when a PAM session opens, detach it when the session
 * closes.
 *
 * The module replaces a pam_exec(8) shell hook. pam_exec hands the PAM environment to the program it runs as
 * root, and pam_env(8) with user_readenv=1 (Debian's sshd stack) fills that environment from the user's own
 * ~/.pam_environment: PATH and LD_PRELOAD chosen by the user reached a root shell. This module never passes
 * any environment on: it runs /usr/sbin/pus-mount by absolute path with execve(2) and a fixed environment
 * (PATH only), stdin from /dev/null, stdout and stderr into a pipe it reads for the log, every other
 * descriptor closed, real and effective uid and gid 0 (an su-like caller has a real uid of the user), default
 * signal dispositions, an empty signal mask, its own process group, and a deadline after which the process
 * group is killed and the session goes on without storage.
 *
 * All policy (which users, which backend, what "not configured" means) stays in pus-mount. The module only
 * chooses attach or detach, the session id and the pid that holds the lease.
 *
 * Module arguments: config=/absolute/path, timeout=SECONDS (1-3600, default 90), debug. Anything else is an
 * error: one syslog line, nothing is run, and PAM_SERVICE_ERR is returned ("session optional" in the shipped
 * pam-auth-update profile: the login goes on).
 *
 * Return values: PAM_SUCCESS when pus-mount exits 0 (including "not configured", which pus-mount logs);
 * PAM_IGNORE when it exits 67 (a user it does not serve: root, system users, users.deny; one info line);
 * PAM_SESSION_ERR when it fails, cannot be started or runs out of time (one syslog line says why);
 * PAM_SERVICE_ERR for a bad module argument; PAM_USER_UNKNOWN when PAM has no user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#ifndef PUS_MOUNT_BIN
#define PUS_MOUNT_BIN "/usr/sbin/pus-mount"
#endif
/* The default mount.timeout_seconds (60) plus a margin for the REST calls of a first attach. */
#define DEFAULT_TIMEOUT 90
/* How much of pus-mount's output is kept for the log line. */
#define OUTPUT_MAX 1024
/* Longest PAM item passed on (service, tty, rhost); longer values are cut. */
#define ITEM_MAX 128
#define DATA_KEY "pus_mount_session_id"

struct options {
    const char *config;
    int timeout;
    int debug;
};

/* Parses the module arguments; logs the first bad one and returns -1. */
static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o) {
    o->config = NULL;
    o->timeout = DEFAULT_TIMEOUT;
    o->debug = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "debug") == 0) {
            o->debug = 1;
        } else if (strncmp(a, "config=", 7) == 0) {
            const char *p = a + 7;
            if (p[0] != '/' || strlen(p) >= PATH_MAX) {
                pam_syslog(pamh, LOG_ERR, "bad module argument \"%s\": config= takes an absolute path; nothing was run", a);
                return -1;
            }
            o->config = p;
        } else if (strncmp(a, "timeout=", 8) == 0) {
            char *end = NULL;
            errno = 0;
            long t = strtol(a + 8, &end, 10);
            if (errno != 0 || end == a + 8 || *end != '\0' || t < 1 || t > 3600) {
                pam_syslog(pamh, LOG_ERR, "bad module argument \"%s\": timeout= takes whole seconds from 1 to 3600; nothing was run", a);
                return -1;
            }
            o->timeout = (int)t;
        } else {
            pam_syslog(pamh, LOG_ERR, "unknown module argument \"%s\" (known: config=PATH, timeout=SECONDS, debug); nothing was run", a);
            return -1;
        }
    }
    return 0;
}

/* A PAM item as a printable, bounded string: control characters and bytes >= 0x7f become '?'. */
static void printable_item(pam_handle_t *pamh, int item, char *out, size_t size) {
    const void *v = NULL;
    out[0] = '\0';
    if (pam_get_item(pamh, item, &v) != PAM_SUCCESS || v == NULL) return;
    const unsigned char *s = v;
    size_t n = 0;
    for (; s[n] != '\0' && n + 1 < size; n++) out[n] = (s[n] < 0x20 || s[n] >= 0x7f) ? '?' : (char)s[n];
    out[n] = '\0';
}

/* Makes pus-mount's output one safe log line: control characters escaped, newlines shown as " | ". */
static void one_line(const char *in, size_t len, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < size; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\n') {
            if (i + 1 < len && o + 3 < size) { memcpy(out + o, " | ", 3); o += 3; }
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child, between fork and execve: only async-signal-safe calls. Reports errno through `errfd` on
 * failure and exits 127. */
static void exec_child(char *const argv[], int outfd, int errfd) {
    static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
    int err = 0;
    sigset_t none;
    sigemptyset(&none);
    /* Default dispositions for every signal, glibc's reserved 32 and 33 included (its signal(3) refuses
     * those, and an ignored disposition survives execve): the kernel's rt_sigaction directly. */
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } kdfl = { 0 };
    for (int s = 1; s <= 64; s++) {
        if (s != SIGKILL && s != SIGSTOP) syscall(SYS_rt_sigaction, s, &kdfl, NULL, sizeof kdfl.mask);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    umask(022);
    /* An su-like caller runs with the user's real uid and gid: pus-mount must run fully as root, not in
     * secure-execution mode with a real uid the user owns. */
    if (setgroups(0, NULL) != 0 || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) { err = errno ? errno : EPERM; goto fail; }
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) { err = errno; goto fail; }
    if (dup2(in, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0) { err = errno; goto fail; }
    if (chdir("/") != 0) { err = errno; goto fail; }
    /* Every descriptor from 3 up is closed, but the error pipe, which is close-on-exec. */
    if ((errfd > 3 && close_range(3, (unsigned)errfd - 1, 0) != 0) || close_range((unsigned)errfd + 1, ~0U, 0) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < (max > 0 ? max : 65536); fd++) if (fd != errfd) close((int)fd);
    }
    execve(argv[0], argv, envp);
    err = errno;
fail:
    (void)!write(errfd, &err, sizeof err);
    _exit(127);
}

/* Runs pus-mount with `argv` (argv[0] is the binary) under the deadline. Returns the PAM status to give. */
static int run_pus_mount(pam_handle_t *pamh, const struct options *o, const char *verb, const char *user,
                         const char *session, char *const argv[]) {
    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) != 0) {
        pam_syslog(pamh, LOG_ERR, "%s %s: cannot make a pipe: %m; the session goes on without its storage", verb, user);
        return PAM_SESSION_ERR;
    }
    if (pipe2(errp, O_CLOEXEC) != 0) {
        pam_syslog(pamh, LOG_ERR, "%s %s: cannot make a pipe: %m; the session goes on without its storage", verb, user);
        close(outp[0]); close(outp[1]);
        return PAM_SESSION_ERR;
    }
    /* The application may ignore or catch SIGCHLD (then waitpid could not collect our child): default for
     * the run, restored after, as pam_unix does around its helper. */
    struct sigaction dfl, saved;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &saved);

    pid_t pid = fork();
    if (pid < 0) {
        pam_syslog(pamh, LOG_ERR, "%s %s: fork failed: %m; the session goes on without its storage", verb, user);
        sigaction(SIGCHLD, &saved, NULL);
        close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]);
        return PAM_SESSION_ERR;
    }
    if (pid == 0) {
        close(outp[0]);
        close(errp[0]);
        exec_child(argv, outp[1], errp[1]);
    }
    close(outp[1]);
    close(errp[1]);

    /* Did execve work? The error pipe closes on exec (EOF) or carries the child's errno. */
    int exec_errno = 0;
    ssize_t n;
    do { n = read(errp[0], &exec_errno, sizeof exec_errno); } while (n < 0 && errno == EINTR);
    close(errp[0]);
    if (n != (ssize_t)sizeof exec_errno) exec_errno = 0;

    char output[OUTPUT_MAX];
    size_t got = 0;
    int status = 0, reaped = 0, timed_out = 0, out_open = 1;
    double deadline = now_seconds() + o->timeout, child_gone_at = 0;
    while (!reaped || out_open) {
        double t = now_seconds();
        if (!reaped && t >= deadline) { timed_out = 1; break; }
        /* Once pus-mount has exited, its output is read for at most one more second (a grandchild could
         * hold the pipe open). */
        if (reaped && t - child_gone_at > 1.0) break;
        if (out_open) {
            struct pollfd p = { .fd = outp[0], .events = POLLIN };
            int r = poll(&p, 1, 50);
            if (r > 0) {
                char buf[512];
                ssize_t k = read(outp[0], buf, sizeof buf);
                if (k > 0) {
                    size_t keep = (size_t)k < sizeof output - 1 - got ? (size_t)k : sizeof output - 1 - got;
                    memcpy(output + got, buf, keep);
                    got += keep;
                } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
                    out_open = 0;
                }
            }
        } else {
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        if (!reaped) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid || (w < 0 && errno == ECHILD)) {
                if (w < 0) status = -1;
                reaped = 1;
                child_gone_at = now_seconds();
            }
        }
    }
    close(outp[0]);
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    sigaction(SIGCHLD, &saved, NULL);

    char line[OUTPUT_MAX * 4 + 8];
    one_line(output, got, line, sizeof line);
    if (exec_errno != 0) {
        pam_syslog(pamh, LOG_ERR, "%s %s: cannot run %s: %s; the session goes on without its storage (is pus-mount installed?)",
                   verb, user, PUS_MOUNT_BIN, strerror(exec_errno));
        return PAM_SESSION_ERR;
    }
    if (timed_out) {
        pam_syslog(pamh, LOG_ERR, "%s %s (session %s): no answer within %d s (module argument timeout=); stopped it, the session goes on without its storage%s%s",
                   verb, user, session, o->timeout, got ? ": " : "", line);
        return PAM_SESSION_ERR;
    }
    if (status == -1) {
        pam_syslog(pamh, LOG_ERR, "%s %s (session %s): its exit status was lost (the application reaped it)", verb, user, session);
        return PAM_SESSION_ERR;
    }
    if (WIFSIGNALED(status)) {
        pam_syslog(pamh, LOG_ERR, "%s %s (session %s): pus-mount was killed by signal %d%s%s", verb, user, session, WTERMSIG(status),
                   got ? ": " : "", line);
        return PAM_SESSION_ERR;
    }
    int code = WEXITSTATUS(status);
    if (code == 67) {
        /* Not a user pus-mount serves (root, a system account below users.min_uid, users.deny, unknown to
         * NSS): no storage is the policy, not a failure, so even "required" lets the session go on. */
        pam_syslog(pamh, LOG_INFO, "%s %s: no storage for this user (pus-mount exit status 67: %s)", verb, user, got ? line : "no output");
        return PAM_IGNORE;
    }
    if (code != 0) {
        pam_syslog(pamh, LOG_ERR, "%s %s (session %s) failed with exit status %d: %s", verb, user, session, code,
                   got ? line : "(no output)");
        return PAM_SESSION_ERR;
    }
    if (o->debug) pam_syslog(pamh, LOG_DEBUG, "%s %s (session %s): done%s%s", verb, user, session, got ? ": " : "", line);
    return PAM_SUCCESS;
}

static void free_data(pam_handle_t *pamh, void *data, int error_status) {
    (void)pamh;
    (void)error_status;
    free(data);
}

static int session(pam_handle_t *pamh, int open_session, int argc, const char **argv) {
    struct options o;
    if (parse_options(pamh, argc, argv, &o) != 0) return PAM_SERVICE_ERR;
    const char *verb = open_session ? "attach" : "detach";

    const void *u = NULL;
    if (pam_get_item(pamh, PAM_USER, &u) != PAM_SUCCESS || u == NULL || ((const char *)u)[0] == '\0') {
        pam_syslog(pamh, LOG_ERR, "%s: PAM has no user name; nothing was run", verb);
        return PAM_USER_UNKNOWN;
    }
    const char *user = u;
    if (strlen(user) > 256) {
        pam_syslog(pamh, LOG_ERR, "%s: the user name is longer than 256 bytes; nothing was run", verb);
        return PAM_USER_UNKNOWN;
    }

    char service[ITEM_MAX], tty[ITEM_MAX], rhost[ITEM_MAX];
    printable_item(pamh, PAM_SERVICE, service, sizeof service);
    printable_item(pamh, PAM_TTY, tty, sizeof tty);
    printable_item(pamh, PAM_RHOST, rhost, sizeof rhost);

    /* The session id: from the open, when this handle opened it; else derived again from this process,
     * which is the process that opened the session in sshd, login and su alike. Only [A-Za-z0-9._-] from the
     * service name. */
    char session_id[ITEM_MAX + 32];
    const void *saved = NULL;
    if (!open_session && pam_get_data(pamh, DATA_KEY, &saved) == PAM_SUCCESS && saved != NULL) {
        snprintf(session_id, sizeof session_id, "%s", (const char *)saved);
    } else {
        char clean[ITEM_MAX];
        size_t i = 0;
        for (; service[i] != '\0' && i + 1 < sizeof clean; i++) {
            char c = service[i];
            clean[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-') ? c : '_';
        }
        clean[i] = '\0';
        snprintf(session_id, sizeof session_id, "pam-%s-%ld", i ? clean : "unknown", (long)getpid());
        if (open_session) {
            char *copy = strdup(session_id);
            if (copy != NULL && pam_set_data(pamh, DATA_KEY, copy, free_data) != PAM_SUCCESS) free(copy);
        }
    }

    char pidarg[32], sessionarg[sizeof session_id + 16], configarg[PATH_MAX + 16];
    char servicearg[ITEM_MAX + 32], ttyarg[ITEM_MAX + 32], rhostarg[ITEM_MAX + 32];
    char *args[20];
    int n = 0;
    args[n++] = PUS_MOUNT_BIN;
    args[n++] = "--if-configured";
    if (o.config != NULL) {
        snprintf(configarg, sizeof configarg, "--config=%s", o.config);
        args[n++] = configarg;
    }
    args[n++] = (char *)verb;
    snprintf(sessionarg, sizeof sessionarg, "--session=%s", session_id);
    args[n++] = sessionarg;
    if (open_session) {
        snprintf(pidarg, sizeof pidarg, "--pid=%ld", (long)getpid());
        args[n++] = pidarg;
    }
    snprintf(servicearg, sizeof servicearg, "--pam-service=%s", service);
    args[n++] = servicearg;
    if (tty[0]) { snprintf(ttyarg, sizeof ttyarg, "--pam-tty=%s", tty); args[n++] = ttyarg; }
    if (rhost[0]) { snprintf(rhostarg, sizeof rhostarg, "--pam-rhost=%s", rhost); args[n++] = rhostarg; }
    args[n++] = "--";
    args[n++] = (char *)user;
    args[n] = NULL;
    return run_pus_mount(pamh, &o, verb, user, session_id, args);
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
    (void)flags;
    return session(pamh, 1, argc, argv);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
    (void)flags;
    return session(pamh, 0, argc, argv);
}
