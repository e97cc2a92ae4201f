#!/usr/bin/env bash
# Stop the one-node CI Slurm cluster started by .ci/slurm/setup.sh: cancel its jobs, stop
# slurmd and slurmctld, and munged if setup.sh started it. Safe to run when nothing runs.
#   bash .ci/slurm/teardown.sh [--keep-munge]
set -uo pipefail

STATE=${SLURM_CI_STATE:-/var/lib/slurm-ci}
keep_munge=0
[[ ${1:-} == --keep-munge ]] && keep_munge=1

say() { echo "[slurm-ci] $*" >&2; }
alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() { # name pidfile
  local name=$1 pidfile=$2 pid
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop within 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

[[ -d $STATE ]] || { say "nothing to stop ($STATE does not exist)"; exit 0; }

if alive "$STATE/slurmctld.pid" && command -v scancel >/dev/null; then
  # only this CI cluster's jobs: it is the one slurm.conf points at while it runs
  scancel --full --quiet --partition=cpu,gpu 2>/dev/null || true
  for _ in $(seq 30); do
    [[ -z $(squeue -h -t running,completing -o %i 2>/dev/null) ]] && break
    sleep 0.5
  done
fi
stop_pidfile slurmd "$STATE/slurmd.pid"
stop_pidfile slurmctld "$STATE/slurmctld.pid"

if [[ $keep_munge == 0 && -e $STATE/munged.started-by-ci ]]; then
  stop_pidfile munged /run/munge/munged.pid
  rm -f "$STATE/munged.started-by-ci"
fi
say "stopped"
exit 0
