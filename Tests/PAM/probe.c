/* Stands in for pus-mount under the PAM module's tests: appends what it was given (argv, environment,
 * stdin, open descriptors, ids, signal state) to the file named at build time (-DPROBE_OUT="..."). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    FILE *f = fopen(PROBE_OUT, "a");
    if (!f) return 1;
    int own = fileno(f);
    fprintf(f, "ARGS");
    for (int i = 1; i < argc; i++) fprintf(f, " %s", argv[i]);
    fprintf(f, "\n");
    for (char **e = environ; *e; e++) fprintf(f, "ENV %s\n", *e);
    char link[256] = "";
    ssize_t n = readlink("/proc/self/fd/0", link, sizeof link - 1);
    if (n > 0) link[n] = '\0';
    fprintf(f, "STDIN %s\n", link);
    DIR *d = opendir("/proc/self/fd");
    fprintf(f, "FDS");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        int fd = atoi(de->d_name);
        if (fd != dirfd(d) && fd != own) fprintf(f, " %d", fd);
    }
    fprintf(f, "\n");
    if (d) closedir(d);
    FILE *s = fopen("/proc/self/status", "r");
    char line[512];
    while (s && fgets(line, sizeof line, s)) {
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Groups:", 7) || !strncmp(line, "SigBlk:", 7) || !strncmp(line, "SigIgn:", 7))
            fputs(line, f);
    }
    if (s) fclose(s);
    fclose(f);
    return 0;
}
