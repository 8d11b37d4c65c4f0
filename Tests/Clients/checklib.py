"""One line per check, as the shell scripts print them; the first failed check ends the run."""
import sys

count = 0


def check(cond, what):
    global count
    if not cond:
        sys.exit(f"FAIL: {what}")
    count += 1
    print(f"ok: {what}")
