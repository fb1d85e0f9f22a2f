#!/usr/bin/env bash
# Routing through relaisctl against a real relaisd, a small network and a
# real HTTP receiver behind sink_webhook:
# - a need no destination can take waits in `relaisctl unrouted`, with why;
#   `relaisctl assign` gives it to a destination and its delivery reaches
#   the receiver;
# - a delivery the receiver keeps refusing is dead-lettered after
#   [outbox] max_attempts, listed by `deliveries --failed`, and delivered
#   once the receiver works again and `relaisctl redrive` sends it again;
#   redriving a delivery that is not dead is refused;
# - a destination acts on its own needs only: another destination, or a
#   wrong token, is refused with `forbidden`; claim and resolve are recorded
#   naming the destination; a decline passes the need to the next candidate.
# Usage: routing_cli_test.sh RELAISD RELAISCTL FIXTURE_SINK PLUGIN_DIR
set -euo pipefail
RELAISD=$1
RELAISCTL=$2
FIXTURE_SINK=$3
PLUGIN_DIR=$4
PYTHON=/usr/bin/python3
RECEIVER="$(dirname "$0")/../support/webhook_receiver.py"
# shellcheck source=../support/relaisd.sh
source "$(dirname "$0")/../support/relaisd.sh"

RELAISD_TMP=$(mktemp -d)
STATE=$RELAISD_TMP/state
mkdir -p "$STATE"
ctl() { "$RELAISCTL" --state-dir "$STATE" "$@"; }

# --- the webhook receivers ---------------------------------------------------
declare -A RECEIVER_PID=()
# receiver_start NAME ARG...: a receiver writing $RELAISD_TMP/NAME.jsonl;
# sets PORT once it listens (10 s at most).
receiver_start() {
  local name=$1
  shift
  rm -f "$RELAISD_TMP/$name.port"
  "$PYTHON" "$RECEIVER" --port-file "$RELAISD_TMP/$name.port" --out "$RELAISD_TMP/$name.jsonl" "$@" \
    2> "$RELAISD_TMP/$name.log" &
  RECEIVER_PID[$name]=$!
  local end=$((SECONDS + 10))
  while [[ ! -s $RELAISD_TMP/$name.port ]]; do
    kill -0 "${RECEIVER_PID[$name]}" 2>/dev/null || fail "receiver $name exited: $(cat "$RELAISD_TMP/$name.log")"
    ((SECONDS < end)) || fail "receiver $name not listening within 10 s"
    sleep 0.05  # poll interval; the deadline above bounds the wait
  done
  PORT=$(cat "$RELAISD_TMP/$name.port")
}
receiver_stop() {
  local pid=${RECEIVER_PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'RECEIVER_PID[$1]'
}
# At exit the receivers stop first, then relaisd, which shows its log if the
# test failed: relaisd_cleanup reads the test's status from $?.
cleanup() {
  local status=$? name
  set +e
  for name in "${!RECEIVER_PID[@]}"; do receiver_stop "$name"; done
  (exit "$status")
  relaisd_cleanup
}
trap cleanup EXIT
# lines NAME: how many requests the receiver got.
lines() { if [[ -f $RELAISD_TMP/$1.jsonl ]]; then wc -l < "$RELAISD_TMP/$1.jsonl"; else echo 0; fi; }

# --- helpers -------------------------------------------------------------------
# wait_for WHAT CMD...: until CMD succeeds, 20 s at most.
wait_for() {
  local what=$1
  shift
  local end=$((SECONDS + 20))
  until "$@" > /dev/null 2>&1; do
    ((SECONDS < end)) || fail "$what: not so after 20 s"
    sleep 0.05  # poll interval; the deadline above bounds the wait
  done
}
# jsonpy CODE CMD...: runs CMD, and CODE with its JSON output as `d`; prints
# what CODE evaluates to.
jsonpy() {
  local code=$1
  shift
  "$@" | "$PYTHON" -c "import json, sys; d = json.load(sys.stdin); print($code)"
}
need_state() { jsonpy 'd["need"]["state"]' ctl --json need "$1"; }
is_need_state() { [[ $(need_state "$1") == "$2" ]]; }
delivery_states() { jsonpy '" ".join(x["state"] for x in d["deliveries"])' ctl --json deliveries --post "$1"; }
has_delivery_states() { [[ $(delivery_states "$1") == "$2" ]]; }
# submit N TEXT CATEGORY AREA: request N through the form fields that
# triage_basic reads; prints the stored post's id.
submit() {
  printf '{"source":"form","external_id":"%s","text":"%s","private":{"phone":"01 99 00 00 %02d"},"fields":{"kind":"request","category":"%s","area":"%s","urgency":"normal"}}\n' \
    "$1" "$2" "$1" "$3" "$4" | ctl submit - 2> /dev/null | sed -n 's/^stored id=\([0-9]*\) .*/\1/p'
}
# refused OUT_FILE CODE CMD...: CMD must fail, saying CODE in one line.
refused() {
  local out=$1 code=$2
  shift 2
  if "$@" > "$out" 2>&1; then fail "'$*' succeeded; expected $code: $(cat "$out")"; fi
  [[ $(wc -l < "$out") -eq 1 ]] || fail "'$*' did not answer in one line: $(cat "$out")"
  grep -q "^relaisctl: $code: " "$out" || fail "'$*' was not refused with $code: $(cat "$out")"
}

# --- the network ----------------------------------------------------------------
receiver_start town --secret town-secret
TOWN_PORT=$PORT
receiver_start flaky --status 503
FLAKY_PORT=$PORT
printf 'token-of-pool-a\n' > "$STATE/pool_a.token"
printf 'token-of-pool-b\n' > "$STATE/pool_b.token"
printf 'token-of-pool-c\n' > "$RELAISD_TMP/wrong.token"
# write_network FLAKY_PORT
write_network() {
  cat > "$STATE/network.toml" <<EOF
[network]
name = "test"
timezone = "Europe/Paris"

[[area]]
id = "nord"
[[area]]
id = "sud"

# Tied on one area each: pool_a, the first id, is chosen before pool_b.
[[destination]]
id = "pool_a"
categories = ["groceries"]
areas = ["nord"]
token_file = "pool_a.token"
deliver = [{ sink = "fixture" }]

[[destination]]
id = "pool_b"
categories = ["groceries"]
areas = ["nord"]
token_file = "pool_b.token"
deliver = [{ sink = "fixture" }]

[[destination]]
id = "mairie"
categories = ["paperwork"]
areas = ["nord", "sud"]
deliver = [{ sink = "webhook", to = "http://127.0.0.1:$TOWN_PORT/hooks/mairie", secret = "town-secret" }]

[[destination]]
id = "repair_cafe"
categories = ["repairs"]
areas = ["sud"]
deliver = [{ sink = "webhook", to = "http://127.0.0.1:$1/hooks/repair" }]
EOF
}
write_network "$FLAKY_PORT"
CONFIG="[routing]\nnetwork = \"network.toml\"\n"
CONFIG+="[outbox]\nmax_attempts = 2\nretry_min = \"50ms\"\nretry_max = \"100ms\"\n"
CONFIG+="[[triage]]\nplugin = \"triage_basic\"\n"
CONFIG+="[[sink]]\nplugin = \"sink_webhook\"\nname = \"webhook\"\ntimeout_ms = 5000\n"
CONFIG+="[[sink]]\nplugin = \"fixture_sink\"\nname = \"fixture\"\npath = \"$FIXTURE_SINK\"\n"
relaisd_start "$STATE" "$CONFIG" --plugin-dir "$PLUGIN_DIR"

# ==================================================================================
step "a need no destination takes waits in the unrouted queue, with why"
LOST=$(submit 1 "Mon chat a besoin de soins" pets nord)
[[ -n $LOST ]] || fail "request lost was not stored"
wait_for "post $LOST unrouted" is_need_state "$LOST" unrouted
ctl unrouted > "$RELAISD_TMP/unrouted.txt"
grep -Eq "^$LOST +unrouted +normal +pets +nord " "$RELAISD_TMP/unrouted.txt" ||
  fail "need $LOST is not in the unrouted queue: $(cat "$RELAISD_TMP/unrouted.txt")"
grep -q "why: no open destination with capacity for pets in nord, and the network has no fallback" \
  "$RELAISD_TMP/unrouted.txt" || fail "the queue does not say why: $(cat "$RELAISD_TMP/unrouted.txt")"
[[ $(jsonpy '[n["id"] for n in d["needs"]]' ctl --json unrouted) == "[$LOST]" ]] ||
  fail "unrouted --json: $(ctl --json unrouted)"
jsonpy '"no fallback" in d["needs"][0]["why"]' ctl --json unrouted | grep -qx True ||
  fail "unrouted --json does not say why"
ctl needs --state unrouted | grep -Eq "^$LOST +unrouted " || fail "needs --state unrouted: $(ctl needs --state unrouted)"

step "a moderator assigns it; the delivery reaches the receiver, signed"
refused "$RELAISD_TMP/assign-bad.txt" invalid_value ctl assign "$LOST" nowhere --by alice
grep -q 'no destination "nowhere"' "$RELAISD_TMP/assign-bad.txt" || fail "said: $(cat "$RELAISD_TMP/assign-bad.txt")"
refused "$RELAISD_TMP/assign-missing.txt" not_found ctl assign 999 mairie --by alice
ctl assign "$LOST" mairie --by alice > "$RELAISD_TMP/assign.txt"
grep -q "need $LOST assigned to mairie by alice; it is now routed" "$RELAISD_TMP/assign.txt" ||
  fail "assign said: $(cat "$RELAISD_TMP/assign.txt")"
wait_for "the delivery of post $LOST delivered" has_delivery_states "$LOST" delivered
ctl deliveries --post "$LOST" > "$RELAISD_TMP/deliveries.txt"
grep -Eq "^[0-9]+ +$LOST +delivered +mairie +webhook +need +1 " "$RELAISD_TMP/deliveries.txt" ||
  fail "deliveries --post $LOST: $(cat "$RELAISD_TMP/deliveries.txt")"
ctl unrouted | grep -q "no unrouted need" || fail "need $LOST is still in the unrouted queue"
[[ $(lines town) -eq 1 ]] || fail "the receiver got $(lines town) requests, expected 1"
"$PYTHON" - "$RELAISD_TMP/town.jsonl" "$LOST" <<'EOF' || fail "the receiver's request: $(cat "$RELAISD_TMP/town.jsonl")"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["path"] == "/hooks/mairie" and r["verified"], (r["path"], r["signature"])
assert r["json"]["post"]["id"] == int(sys.argv[2]) and r["json"]["destination"] == "mairie", r["json"]
EOF
ctl need "$LOST" > "$RELAISD_TMP/need.txt"
grep -Eq "^need $LOST +state=routed +owner=mairie " "$RELAISD_TMP/need.txt" || fail "need: $(cat "$RELAISD_TMP/need.txt")"
grep -Eq "^  mairie +manual +active " "$RELAISD_TMP/need.txt" || fail "need: $(cat "$RELAISD_TMP/need.txt")"
grep -Eq "^  [0-9]+ +$LOST +delivered +mairie " "$RELAISD_TMP/need.txt" || fail "need: $(cat "$RELAISD_TMP/need.txt")"
ctl show "$LOST" | grep -q "assigned  by moderator:alice" || fail "the trail lacks the assignment: $(ctl show "$LOST")"

# ==================================================================================
step "a delivery the receiver keeps refusing is dead-lettered after max_attempts"
BROKEN=$(submit 2 "Mon frigo est en panne" repairs sud)
[[ -n $BROKEN ]] || fail "request broken was not stored"
wait_for "the delivery of post $BROKEN dead" has_delivery_states "$BROKEN" dead
DEAD=$(jsonpy 'd["deliveries"][0]["id"]' ctl --json deliveries --post "$BROKEN")
[[ $(lines flaky) -eq 2 ]] || fail "the receiver got $(lines flaky) attempts, expected 2 (max_attempts)"
ctl deliveries --failed > "$RELAISD_TMP/failed.txt"
grep -Eq "^$DEAD +$BROKEN +dead +repair_cafe +webhook +need +2 .*HTTP 503" "$RELAISD_TMP/failed.txt" ||
  fail "deliveries --failed: $(cat "$RELAISD_TMP/failed.txt")"
grep -q "1 dead; send one again with relaisctl redrive ID" "$RELAISD_TMP/failed.txt" ||
  fail "deliveries --failed: $(cat "$RELAISD_TMP/failed.txt")"
[[ $(jsonpy '[x["id"] for x in d["deliveries"]]' ctl --json deliveries --state failed) == "[$DEAD]" ]] ||
  fail "deliveries --state failed lists more than the dead letter: $(ctl deliveries --state failed)"
[[ $(jsonpy '[x["id"] for x in d["deliveries"]]' ctl --json deliveries --state dead) == "[$DEAD]" ]] ||
  fail "deliveries --state dead: $(ctl deliveries --state dead)"

step "redriving a delivery that is not dead is refused"
TOWN_DELIVERY=$(jsonpy 'd["deliveries"][0]["id"]' ctl --json deliveries --post "$LOST")
refused "$RELAISD_TMP/redrive-delivered.txt" invalid_value ctl redrive "$TOWN_DELIVERY" --by bob
grep -q "is delivered, not dead" "$RELAISD_TMP/redrive-delivered.txt" ||
  fail "said: $(cat "$RELAISD_TMP/redrive-delivered.txt")"
refused "$RELAISD_TMP/redrive-missing.txt" not_found ctl redrive 999 --by bob
[[ $(lines town) -eq 1 ]] || fail "a refused redrive sent something"

step "once the receiver works again, a redrive delivers the dead letter"
# The receiver comes back on another port: the network file says so, and a
# reload takes it.
receiver_stop flaky
receiver_start fixed --status 200
write_network "$PORT"
GENERATION=$(jsonpy 'd["config"]["generation"]' ctl --json stats)
kill -HUP "$RELAISD_PID"
generation_moved() { [[ $(jsonpy 'd["config"]["generation"]' ctl --json stats) != "$GENERATION" ]]; }
wait_for "the reload" generation_moved
[[ $(jsonpy 'd["config"]["reload_failures"]' ctl --json stats) == 0 ]] || fail "the reload failed: $(ctl stats)"
[[ $(delivery_states "$BROKEN") == dead && $(lines fixed) -eq 0 ]] || fail "a dead letter was sent without a redrive"
ctl redrive "$DEAD" --by bob > "$RELAISD_TMP/redrive.txt"
grep -q "delivery $DEAD redriven by bob; it is now pending" "$RELAISD_TMP/redrive.txt" ||
  fail "redrive said: $(cat "$RELAISD_TMP/redrive.txt")"
wait_for "the redriven delivery $DEAD delivered" has_delivery_states "$BROKEN" delivered
[[ $(lines fixed) -eq 1 ]] || fail "the receiver got $(lines fixed) requests, expected 1"
"$PYTHON" - "$RELAISD_TMP/flaky.jsonl" "$RELAISD_TMP/fixed.jsonl" "$BROKEN" <<'EOF' ||
import json, sys
failed = [json.loads(l) for l in open(sys.argv[1])]
ok = json.loads(open(sys.argv[2]).readline())
assert ok["json"]["post"]["id"] == int(sys.argv[3]), ok["json"]
ids = {r["headers"]["x-relais-delivery"] for r in failed}
assert ids == {ok["headers"]["x-relais-delivery"]}, (ids, ok["headers"])
EOF
  fail "the redriven delivery is not the dead one under the same id"
ctl deliveries --failed | grep -q "no failed delivery" || fail "still failed: $(ctl deliveries --failed)"
ctl show "$BROKEN" > "$RELAISD_TMP/show-broken.txt"
grep -Eq "^  [0-9]+ +$BROKEN +delivered +repair_cafe +webhook +need +1 " "$RELAISD_TMP/show-broken.txt" ||
  fail "show lacks the delivery: $(cat "$RELAISD_TMP/show-broken.txt")"
ctl --json show "$BROKEN" | "$PYTHON" -c '
import json, sys
a = json.load(sys.stdin)
events = [(e["type"], e["actor"]) for e in a["post"]["events"]]
types = [t for t, _ in events]
for t in ("dead_lettered", "redriven", "delivered"):
    assert t in types, (t, types)
assert types.index("dead_lettered") < types.index("redriven") < types.index("delivered"), types
assert ("redriven", "moderator:bob") in events, events
assert a["need"]["owner"] == "repair_cafe", a["need"]
assert [d["state"] for d in a["deliveries"]] == ["delivered"], a["deliveries"]
' || fail "the trail of post $BROKEN: $(cat "$RELAISD_TMP/show-broken.txt")"

# ==================================================================================
step "a destination may not act on another's need, nor with a wrong token"
NEED=$(submit 3 "Je cherche quelqu'un pour mes courses" groceries nord)
[[ -n $NEED ]] || fail "request need was not stored"
wait_for "post $NEED routed" is_need_state "$NEED" routed
[[ $(jsonpy 'd["need"]["owner"]' ctl --json need "$NEED") == pool_a ]] || fail "need $NEED did not go to pool_a"
refused "$RELAISD_TMP/claim-b.txt" forbidden ctl claim "$NEED" --destination pool_b --token-file "$STATE/pool_b.token"
grep -q "was not given to pool_b" "$RELAISD_TMP/claim-b.txt" || fail "said: $(cat "$RELAISD_TMP/claim-b.txt")"
refused "$RELAISD_TMP/claim-wrong.txt" forbidden \
  ctl claim "$NEED" --destination pool_a --token-file "$RELAISD_TMP/wrong.token"
refused "$RELAISD_TMP/claim-unknown.txt" forbidden \
  ctl claim "$NEED" --destination nobody --token-file "$RELAISD_TMP/wrong.token"
[[ $(need_state "$NEED") == routed && $(jsonpy 'd["need"]["claimed_by"]' ctl --json need "$NEED") == "" ]] ||
  fail "a refused claim changed need $NEED"
if ctl claim "$NEED" --destination pool_a --token-file "$RELAISD_TMP/none.token" > "$RELAISD_TMP/nofile.txt" 2>&1; then
  fail "a claim without its token file succeeded"
fi
[[ $(wc -l < "$RELAISD_TMP/nofile.txt") -eq 1 ]] || fail "a missing token file: $(cat "$RELAISD_TMP/nofile.txt")"

step "the destination's own claim succeeds, once; another cannot resolve; it resolves"
ctl claim "$NEED" --destination pool_a --token-file "$STATE/pool_a.token" --note "Paul y va" > "$RELAISD_TMP/claim.txt"
grep -q "^need $NEED claimed by pool_a$" "$RELAISD_TMP/claim.txt" || fail "claim said: $(cat "$RELAISD_TMP/claim.txt")"
grep -q "01 99 00 00" "$RELAISD_TMP/claim.txt" || fail "the claim does not show the contact: $(cat "$RELAISD_TMP/claim.txt")"
[[ $(need_state "$NEED") == claimed ]] || fail "need $NEED is $(need_state "$NEED") after the claim"
ctl claim "$NEED" --destination pool_a --token-file "$STATE/pool_a.token" > "$RELAISD_TMP/claim2.txt"
grep -q "^need $NEED was already claimed by pool_a$" "$RELAISD_TMP/claim2.txt" ||
  fail "a second claim said: $(cat "$RELAISD_TMP/claim2.txt")"
[[ $(jsonpy 'd["changed"]' ctl --json claim "$NEED" --destination pool_a --token-file "$STATE/pool_a.token") == False ]] ||
  fail "a second claim changed something"
ctl needs --state claimed | grep -Eq "^$NEED +claimed +normal +groceries +nord +pool_a +pool_a " ||
  fail "needs --state claimed: $(ctl needs --state claimed)"
refused "$RELAISD_TMP/resolve-b.txt" forbidden \
  ctl resolve "$NEED" --destination pool_b --token-file "$STATE/pool_b.token"
[[ $(need_state "$NEED") == claimed ]] || fail "pool_b's refused resolve changed need $NEED"
ctl resolve "$NEED" --destination pool_a --token-file - --note "courses faites" < "$STATE/pool_a.token" \
  > "$RELAISD_TMP/resolve.txt"
grep -q "^need $NEED resolved by pool_a$" "$RELAISD_TMP/resolve.txt" || fail "resolve said: $(cat "$RELAISD_TMP/resolve.txt")"
[[ $(need_state "$NEED") == resolved ]] || fail "need $NEED is $(need_state "$NEED") after the resolve"
ctl --json show "$NEED" | "$PYTHON" -c '
import json, sys
a = json.load(sys.stdin)
assert a["post"]["state"] == "resolved", a["post"]["state"]
events = a["post"]["events"]
claimed = [e for e in events if e["type"] == "claimed"]
resolved = [e for e in events if e["type"] == "resolved"]
assert len(claimed) == 1 and len(resolved) == 1, [e["type"] for e in events]
for e, note in ((claimed[0], "Paul y va"), (resolved[0], "courses faites")):
    assert e["actor"] == "destination:pool_a", e
    assert e["detail"]["destination"] == "pool_a" and e["detail"]["via"] == "zeromq", e
    assert e["detail"]["note"] == note, e
' || fail "the trail of need $NEED: $(ctl show "$NEED")"
refused "$RELAISD_TMP/claim-resolved.txt" conflict \
  ctl claim "$NEED" --destination pool_a --token-file "$STATE/pool_a.token"

step "a decline passes the need to the next candidate"
OTHER=$(submit 4 "Courses pour ma voisine" groceries nord)
[[ -n $OTHER ]] || fail "request other was not stored"
wait_for "post $OTHER routed" is_need_state "$OTHER" routed
ctl decline "$OTHER" --destination pool_a --token-file "$STATE/pool_a.token" --note "personne dispo" \
  > "$RELAISD_TMP/decline.txt"
grep -q "^need $OTHER declined by pool_a; it is now routed with pool_b$" "$RELAISD_TMP/decline.txt" ||
  fail "decline said: $(cat "$RELAISD_TMP/decline.txt")"
ctl needs --destination pool_b > "$RELAISD_TMP/needs-b.txt"
grep -Eq "^$OTHER +routed +normal +groceries +nord +pool_b " "$RELAISD_TMP/needs-b.txt" ||
  fail "needs --destination pool_b: $(cat "$RELAISD_TMP/needs-b.txt")"
grep -Eq "^$NEED " "$RELAISD_TMP/needs-b.txt" && fail "needs --destination pool_b lists pool_a's need $NEED"
refused "$RELAISD_TMP/claim-declined.txt" conflict \
  ctl claim "$OTHER" --destination pool_a --token-file "$STATE/pool_a.token"

step "bad commands are refused with one line"
refused "$RELAISD_TMP/need-missing.txt" not_found ctl need 999
if ctl deliveries --failed --state dead > /dev/null 2>&1; then fail "--failed with --state was taken"; fi

echo "PASS"
