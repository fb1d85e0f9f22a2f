# shellcheck shell=bash
# Shell tests' shared part: start a real relaisd on a state directory, wait
# until it answers, stop it (and show its log) when the test exits.
# Source it after setting RELAISD and RELAISCTL; it defines fail, step and run.

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# run LOG CMD...: run CMD with its output in LOG, shown only when it fails.
run() {
  local log=$1
  shift
  if ! "$@" > "$log" 2>&1; then
    cat "$log" >&2
    fail "'$*' failed (output above)"
  fi
}

RELAISD_PID=
RELAISD_STATE=
RELAISD_TMP=   # removed at exit, with everything in it

relaisd_cleanup() {
  local status=$?
  if [[ -n $RELAISD_PID ]] && kill -0 "$RELAISD_PID" 2>/dev/null; then
    kill "$RELAISD_PID"
    local end=$((SECONDS + 10))
    while kill -0 "$RELAISD_PID" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
    kill -0 "$RELAISD_PID" 2>/dev/null && { echo "relaisd ignored SIGTERM; killing it" >&2; kill -KILL "$RELAISD_PID"; }
    wait "$RELAISD_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -n $RELAISD_STATE && -f $RELAISD_STATE/relaisd.log ]]; then
    echo "=== relaisd.log ===" >&2
    cat "$RELAISD_STATE/relaisd.log" >&2
  fi
  [[ -n $RELAISD_TMP ]] && rm -rf "$RELAISD_TMP"
}
trap relaisd_cleanup EXIT

# relaisd_start STATE_DIR [CONFIG_TEXT [RELAISD_ARG...]]: starts relaisd in
# the background, with the extra arguments (--plugin-dir DIR), and returns
# once `relaisctl stats` answers (20 s at most).
relaisd_start() {
  RELAISD_STATE=$1
  local config="${2:-[log]\nlevel = \"info\"\n}"
  shift $(($# < 2 ? $# : 2))
  mkdir -p "$RELAISD_STATE"
  printf '%b' "$config" > "$RELAISD_STATE/relais.toml"
  "$RELAISD" --config "$RELAISD_STATE/relais.toml" --state-dir "$RELAISD_STATE" "$@" \
    > "$RELAISD_STATE/relaisd.log" 2>&1 &
  RELAISD_PID=$!
  local end=$((SECONDS + 20))
  while ((SECONDS < end)); do
    kill -0 "$RELAISD_PID" 2>/dev/null || fail "relaisd exited while starting"
    "$RELAISCTL" --state-dir "$RELAISD_STATE" --timeout-ms 200 stats > /dev/null 2>&1 && return 0
    sleep 0.1  # poll interval; the deadline above bounds the wait
  done
  fail "relaisd not answering 'relaisctl stats' within 20 s"
}

relaisd_alive() { kill -0 "$RELAISD_PID" 2>/dev/null; }

# relaisd_stop: SIGTERM, and wait (10 s at most) until it has exited.
relaisd_stop() {
  [[ -n $RELAISD_PID ]] || return 0
  kill "$RELAISD_PID" 2>/dev/null || true
  local end=$((SECONDS + 10))
  while kill -0 "$RELAISD_PID" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
  kill -0 "$RELAISD_PID" 2>/dev/null && fail "relaisd did not stop within 10 s of SIGTERM"
  wait "$RELAISD_PID" 2>/dev/null || true
  RELAISD_PID=
}
