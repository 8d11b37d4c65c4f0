/* The LD_PRELOAD plant of the PAM tests: a library a user could put in ~/.pam_environment. Its constructor
 * appends the effective uid of whatever loaded it to MARKER (-DMARKER="..."): any line there means the
 * planted code ran; "euid 0" means it ran as root. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void planted(void) {
    int fd = open(MARKER, O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd >= 0) {
        char b[64];
        int n = snprintf(b, sizeof b, "LD_PRELOAD ran with euid %d\n", (int)geteuid());
        (void)!write(fd, b, n);
        close(fd);
    }
}
