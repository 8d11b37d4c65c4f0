"""JupyterHub spawner hooks: the user's share attached for each single-user server, detached when it stops.

In jupyterhub_config.py (the Hub runs as root, as with LocalProcessSpawner or SystemdSpawner):

    exec(open("/usr/share/doc/pus-mount/examples/jupyterhub/pus_mount_hooks.py").read())
    c.Spawner.pre_spawn_hook = pus_mount_pre_spawn
    c.Spawner.post_stop_hook = pus_mount_post_stop
    c.Spawner.notebook_dir = "/mnt/pus/{username}"

The lease is named for the server (`jupyter-<user>-<server name>`), so named servers and logins of the same user
each hold their own. A spawn fails (the user sees why) when the share cannot be attached.
"""
import os
import subprocess

PUS_MOUNT = os.environ.get("PUS_MOUNT", "/usr/sbin/pus-mount")


def _session(spawner):
    return "jupyter-%s-%s" % (spawner.user.name, spawner.name or "default")


def pus_mount_pre_spawn(spawner):
    r = subprocess.run([PUS_MOUNT, "attach", spawner.user.name, "--session", _session(spawner)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("pus-mount attach %s failed (exit %d): %s" % (spawner.user.name, r.returncode, r.stderr.strip()))
    return r.stdout.strip()


def pus_mount_post_stop(spawner):
    r = subprocess.run([PUS_MOUNT, "detach", spawner.user.name, "--session", _session(spawner)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        spawner.log.warning("pus-mount detach %s failed (exit %d): %s", spawner.user.name, r.returncode, r.stderr.strip())
