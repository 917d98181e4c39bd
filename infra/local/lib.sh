# shellcheck shell=bash
# Shared helpers for infra/local/*: state dir, ports, PID files, start/stop.
# Sourced, not run. Everything a script says goes to stderr; stdout is kept for
# the `export NOVACRON_…=…` lines that `infra/local/up` prints.

set -euo pipefail

INFRA_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_DIR="$(cd "$INFRA_LOCAL_DIR/../.." && pwd)"
STATE_DIR="${NOVACRON_INFRA_DIR:-/tmp/novacron-infra}"
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
HOST=127.0.0.1

log() { printf '[infra %s] %s\n' "${SERVICE:-local}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# check subcommands: `missing WHAT` reports one missing prerequisite; `checked` ends the check.
MISSING=0
missing() { log "missing prerequisite: $*"; MISSING=$((MISSING + 1)); }
checked() { ((MISSING == 0)) || exit 1; }
# The fetch of POM into OUTDIR is done (a warm start needs no Maven).
fetched() { [[ -f "$2/.fetched" && "$(cat "$2/.fetched")" == "$(sha256sum "$1" | cut -d' ' -f1)" ]]; }

now_ms() { date +%s%3N; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Prints $1 if nothing listens there, else the next port up that is free
# (and not in the space-separated list $2 of ports already handed out).
free_port() {
  local p=$1 taken=" ${2:-} "
  while port_open "$p" || [[ "$taken" == *" $p "* ]]; do
    p=$((p + 1))
    ((p < 65535)) || die "no free port from $1"
  done
  echo "$p"
}

# Service files: $STATE_DIR/<service>/{<service>.pid,ports,*.log}
svc_dir() { echo "$STATE_DIR/$SERVICE"; }
pid_file() { echo "$(svc_dir)/$SERVICE.pid"; }

# The PID file holds "PID STARTTIME" (STARTTIME: field 22 of /proc/PID/stat, in
# clock ticks since boot). A PID is ours when that process is alive with that same
# start time, so a stale PID file whose number was reused by another process is
# never taken for ours (redis-server rewrites its command line, so that can't tell).
proc_start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

pid_is_ours() {
  local pid=$1 start=$2
  [[ -n "$pid" && -n "$start" && -r "/proc/$pid/stat" ]] || return 1
  [[ "$(proc_start_time "$pid")" == "$start" ]] || return 1
  # a zombie (exited, not yet reaped) is not running
  [[ "$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)" != Z ]]
}

# Prints the PID of our running service, or nothing (removing a stale PID file).
running_pid() {
  local f pid start
  f="$(pid_file)"
  [[ -f "$f" ]] || return 0
  read -r pid start <"$f" || true
  if pid_is_ours "$pid" "${start:-}"; then
    echo "$pid"
  else
    log "stale PID file (pid ${pid:-?} is not our running process), removing it"
    rm -f "$f"
  fi
}

# launch LOGFILE CMD...: starts CMD detached (own session, stdin /dev/null,
# output to LOGFILE, no inherited descriptors beyond 0-2) and writes its PID.
launch() {
  local logfile=$1
  shift
  [[ -f "$logfile" ]] && mv -f "$logfile" "$logfile.1"
  (
    # Close everything above stderr (e.g. the lock of `up`, a caller's pipe).
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@"
  ) </dev/null >>"$logfile" 2>&1 &
  local pid=$!
  echo "$pid $(proc_start_time "$pid")" >"$(pid_file)"
  log "started pid $pid (log $logfile)"
}

# stop_service: SIGTERM our PID, wait up to ${1:-60}s, then SIGKILL.
stop_service() {
  local timeout=${1:-60} pid i
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    log "not running (nothing of ours to stop)"
    rm -f "$(pid_file)"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still running after ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pid_file)"
  log "stopped"
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: polls CMD every 0.5s; fails early
# when our process dies, printing the end of its log.
wait_until() {
  local timeout=$1 what=$2 start pid
  shift 2
  start=$(now_ms)
  while true; do
    if "$@" >/dev/null 2>&1; then
      log "ready: $what ($(($(now_ms) - start)) ms)"
      return 0
    fi
    pid="$(running_pid)"
    if [[ -z "$pid" ]]; then
      log "process exited while waiting for: $what"
      show_log_tail
      return 1
    fi
    if (($(now_ms) - start > timeout * 1000)); then
      log "timed out after ${timeout}s waiting for: $what"
      show_log_tail
      return 1
    fi
    sleep 0.5
  done
}

show_log_tail() {
  local f
  for f in "$(svc_dir)"/*.log "$(svc_dir)"/log/*.err.log; do
    [[ -f "$f" ]] || continue
    log "--- last lines of $f"
    tail -n 40 "$f" >&2 || true
  done
}

# Ports chosen at first start are kept in $(svc_dir)/ports (KEY=VALUE lines).
read_ports() {
  local f
  f="$(svc_dir)/ports"
  # shellcheck disable=SC1090
  [[ -f "$f" ]] && source "$f"
  return 0
}

# maven_fetch POM OUTDIR: runs dependency:copy-dependencies unless OUTDIR holds
# the result of a fetch of this very POM (sha256 stamp), so a warm start skips
# Maven entirely. ~/.m2 is Maven's usual cache.
maven_fetch() {
  local pom=$1 out=$2 sum start
  sum="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f "$out/.fetched" && "$(cat "$out/.fetched")" == "$sum" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (Maven 3.8+ is needed to fetch $(basename "$(dirname "$pom")"))"
  log "fetching with Maven: $pom -> $out"
  start=$(now_ms)
  rm -rf "$out"
  mkdir -p "$out"
  # Maven 3.8 prints bare colour resets even in batch mode: strip them (pipefail
  # keeps Maven's exit status).
  if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DoutputDirectory="$out" 2>&1 |
    sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2; then
    die "Maven fetch failed for $pom"
  fi
  echo "$sum" >"$out/.fetched"
  log "fetched in $(($(now_ms) - start)) ms"
}

# A java binary of at least major version $1: $JAVA_HOME, PATH, then /usr/lib/jvm/*.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1; }
find_java() {
  local want=$1 j v
  local candidates=()
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null && candidates+=("$(command -v java)")
  # then every JDK under /usr/lib/jvm, newest-looking names first
  mapfile -t -O "${#candidates[@]}" candidates < <(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV)
  for j in "${candidates[@]}"; do
    [[ -n "$j" && -x "$j" ]] || continue
    v="$(java_major "$j")"
    v=${v#1.}
    if [[ -n "$v" ]] && ((v >= want)); then
      echo "$j"
      return 0
    fi
  done
  return 1
}
