#!/bin/sh
# Slurm Epilog (slurm.conf: Epilog=/etc/slurm/epilog.d/pus-mount.sh): runs as root on each node after the job.
# Drops the job's lease; the share is unmounted when no other lease (job or login) of the user remains. A busy
# mount (a process the job left behind) stays mounted and is named; detach still exits 0. Never drains the
# node over a user's share.
PUS_MOUNT=${PUS_MOUNT:-/usr/sbin/pus-mount}
[ -n "${SLURM_JOB_USER:-}" ] && [ -n "${SLURM_JOB_ID:-}" ] || exit 0
"$PUS_MOUNT" --if-configured detach "$SLURM_JOB_USER" --session "slurm-$SLURM_JOB_ID" \
  || echo "pus-mount epilog: job $SLURM_JOB_ID: detach of $SLURM_JOB_USER failed (exit $?); reconcile retries" >&2
exit 0
