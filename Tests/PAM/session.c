/* A session process for tests, as sshd or login is one: pam_start(SERVICE, USER), pam_open_session, then
 * wait until a line arrives on stdin (or stdin closes), pam_close_session, pam_end. Prints "open N" and
 * "close N" (the PAM return codes) on stdout. usage: pam-session SERVICE USER */
#include <security/pam_appl.h>
#include <stdio.h>

static int no_conversation(int n, const struct pam_message **m, struct pam_response **r, void *d) {
    (void)n; (void)m; (void)r; (void)d;
    return PAM_CONV_ERR;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: pam-session SERVICE USER\n"); return 64; }
    struct pam_conv conv = { no_conversation, NULL };
    pam_handle_t *h = NULL;
    int rc = pam_start(argv[1], argv[2], &conv, &h);
    if (rc != PAM_SUCCESS) { fprintf(stderr, "pam_start: %d\n", rc); return 1; }
    rc = pam_open_session(h, 0);
    printf("open %d\n", rc);
    fflush(stdout);
    char line[64];
    (void)!fgets(line, sizeof line, stdin);
    int rc2 = pam_close_session(h, 0);
    printf("close %d\n", rc2);
    pam_end(h, rc2);
    return rc == PAM_SUCCESS && rc2 == PAM_SUCCESS ? 0 : 1;
}
