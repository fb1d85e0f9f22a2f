#!/usr/bin/env bash
# The review queue against a real relaisd: held posts listed with their
# findings, one approved (it goes on through triage and routing), one
# rejected (it ends), both recorded as events naming the moderator, and both
# decisions taught to the moderators, as `relaisctl learn` examples are.
# Usage: review_test.sh RELAISD RELAISCTL FIXTURE_MODERATOR PLUGIN_DIR
set -euo pipefail
RELAISD=$1
RELAISCTL=$2
FIXTURE=$3
PLUGIN_DIR=$4
# shellcheck source=../support/relaisd.sh
source "$(dirname "$0")/../support/relaisd.sh"

RELAISD_TMP=$(mktemp -d)
STATE=$RELAISD_TMP/state
ctl() { "$RELAISCTL" --state-dir "$STATE" "$@"; }

CONFIG="[[moderate]]\nplugin = \"fixture_moderator\"\npath = \"$FIXTURE\"\nscore = 0\nhold_word = \"HOLDME\"\n"
CONFIG+="[[moderate]]\nplugin = \"moderate_pii\"\n"
CONFIG+="[[moderate]]\nplugin = \"moderate_dedup\"\n"
CONFIG+="[[triage]]\nplugin = \"triage_basic\"\n"
relaisd_start "$STATE" "$CONFIG" --plugin-dir "$PLUGIN_DIR"

# post_state ID: the post's state, from `show --json`.
post_state() { ctl --json show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["post"]["state"])'; }

# wait_state ID STATE: the pipeline works on its own thread; 20 s at most.
wait_state() {
  local end=$((SECONDS + 20))
  while ((SECONDS < end)); do
    [[ $(post_state "$1") == "$2" ]] && return 0
    sleep 0.1  # poll interval; the deadline above bounds the wait
  done
  fail "post $1 is $(post_state "$1"), not $2, after 20 s"
}

step "held posts wait in the queue with their findings"
printf '%s\n' \
  '{"source":"t","external_id":"a","text":"HOLDME bonjour, je cherche quelqu un pour mes courses"}' \
  '{"source":"t","external_id":"b","text":"HOLDME achetez nos masques"}' \
  '{"source":"t","external_id":"c","text":"Je propose de promener les chiens du quartier"}' \
  '{"source":"t","external_id":"d","text":"HOLDME une autre demande"}' > "$RELAISD_TMP/posts.jsonl"
run "$RELAISD_TMP/submit.log" ctl submit "$RELAISD_TMP/posts.jsonl"
wait_state 1 held
wait_state 2 held
wait_state 4 held
ctl queue > "$RELAISD_TMP/queue.txt"
grep -Eq '^1 +held +score=' "$RELAISD_TMP/queue.txt" || fail "post 1 not in the queue: $(cat "$RELAISD_TMP/queue.txt")"
grep -Eq '^4 +held +score=' "$RELAISD_TMP/queue.txt" || fail "post 4 not in the queue"
grep -Eq '^3 +held +score=' "$RELAISD_TMP/queue.txt" && fail "post 3 was accepted, yet it is in the queue"
grep -q 'FIXTURE score=0 forced=hold: moderate:fixture_moderator:0' "$RELAISD_TMP/queue.txt" ||
  fail "the queue does not show why posts are held: $(cat "$RELAISD_TMP/queue.txt")"
[[ $(ctl --json queue | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["posts"]))') == 3 ]] ||
  fail "the queue does not hold exactly the three held posts"

step "an approved post goes on through triage and routing, with the moderator's name and note"
ctl approve 1 --by alice --note "a real need" > "$RELAISD_TMP/approve.txt"
grep -q "post 1 approved by alice" "$RELAISD_TMP/approve.txt" || fail "approve said: $(cat "$RELAISD_TMP/approve.txt")"
[[ $(post_state 1) == unrouted ]] || fail "approved post 1 is $(post_state 1), expected unrouted (no destination yet)"
ctl --json show 1 | python3 -c '
import json, sys
p = json.load(sys.stdin)["post"]
types = [e["type"] for e in p["events"]]
approved = [e for e in p["events"] if e["type"] == "approved"]
assert len(approved) == 1, types
assert approved[0]["actor"] == "moderator:alice", approved[0]
assert approved[0]["detail"]["note"] == "a real need", approved[0]
after = types[types.index("approved"):]
assert after[1:] == ["triaged", "unrouted"], after
assert p["verdict"]["action"] == "accept", p["verdict"]
' || fail "post 1's trail does not show the approval and what followed"

step "a rejected post ends, with the reason"
ctl reject 2 --by bob --reason "advertising" > /dev/null
[[ $(post_state 2) == rejected ]] || fail "rejected post 2 is $(post_state 2)"
ctl --json show 2 | python3 -c '
import json, sys
p = json.load(sys.stdin)["post"]
rejected = [e for e in p["events"] if e["type"] == "rejected"]
assert len(rejected) == 1 and rejected[0]["actor"] == "moderator:bob", p["events"]
assert rejected[0]["detail"]["reason"] == "advertising", rejected[0]
assert p["triage"] is not None, "the triage of a rejected post is kept for the record"
' || fail "post 2's trail does not show the rejection"

step "a decision on a post that is not held is refused, and changes nothing"
if ctl approve 2 --by alice > "$RELAISD_TMP/again.txt" 2>&1; then fail "approving a rejected post succeeded"; fi
grep -q "post 2 is rejected, not held" "$RELAISD_TMP/again.txt" || fail "said: $(cat "$RELAISD_TMP/again.txt")"
if ctl reject 3 --by bob --reason x > "$RELAISD_TMP/accepted.txt" 2>&1; then fail "rejecting an accepted post succeeded"; fi
if ctl approve 999 --by alice > "$RELAISD_TMP/missing.txt" 2>&1; then fail "approving a missing post succeeded"; fi
grep -q "no post with id 999" "$RELAISD_TMP/missing.txt" || fail "said: $(cat "$RELAISD_TMP/missing.txt")"
if ctl reject 4 --by bob > /dev/null 2>&1; then fail "a reject without --reason was taken"; fi
[[ $(post_state 2) == rejected && $(post_state 4) == held ]] || fail "a refused decision changed a post"
ctl queue | grep -Eq '^4 +held +score=' || fail "post 4 left the queue"
ctl queue | grep -Eq '^(1|2) +held +score=' && fail "decided posts are still in the queue"

step "both decisions were taught to the moderators"
printf '%s\n' '{"source":"t","external_id":"e","text":"un nouveau message"}' > "$RELAISD_TMP/e.jsonl"
run "$RELAISD_TMP/submit.log" ctl submit "$RELAISD_TMP/e.jsonl"
wait_state 5 accepted
ctl show 5 | grep -q "learned accept=1 reject=1" || fail "the moderator was not taught: $(ctl show 5)"

step "relaisctl learn teaches labelled examples; held ones and duplicates are skipped"
cat > "$RELAISD_TMP/labelled.jsonl" <<'EOF'
{"id": "x-1", "channel": "chat", "sender": "a", "received_at": "2020-04-01T08:00:00+02:00", "subject": null, "text": "je fais les courses de mes voisins", "labels": {"expected_action": "accept"}}
{"id": "x-2", "channel": "email", "sender": "b", "received_at": "2020-04-01T09:00:00+02:00", "subject": "Gagnez", "text": "gagnez de l argent", "labels": {"expected_action": "reject"}}
{"text": "appelez mon voisin", "label": "hold"}
{"id": "x-3", "text": "je fais les courses de mes voisins", "labels": {"expected_action": "reject", "flags": ["duplicate"]}}
{"text": "encore une demande de courses", "label": "accept"}
EOF
ctl learn "$RELAISD_TMP/labelled.jsonl" > "$RELAISD_TMP/learn.txt"
grep -q "learned 3 posts" "$RELAISD_TMP/learn.txt" || fail "learn said: $(cat "$RELAISD_TMP/learn.txt")"
grep -q "2 skipped (held, duplicate or without a label)" "$RELAISD_TMP/learn.txt" || fail "learn said: $(cat "$RELAISD_TMP/learn.txt")"
printf '%s\n' '{"source":"t","external_id":"f","text":"un autre message"}' > "$RELAISD_TMP/f.jsonl"
run "$RELAISD_TMP/submit.log" ctl submit "$RELAISD_TMP/f.jsonl"
wait_state 6 accepted
ctl show 6 | grep -q "learned accept=3 reject=2" || fail "the examples were not taught: $(ctl show 6)"

step "a bad labelled file is refused with its line, and nothing of it is taught"
printf '%s\n' '{"text": "ok", "label": "accept"}' '{"text": 5, "label": "reject"}' > "$RELAISD_TMP/bad.jsonl"
if ctl learn "$RELAISD_TMP/bad.jsonl" > "$RELAISD_TMP/bad.txt" 2>&1; then fail "a bad labelled file was taken"; fi
grep -q "bad.jsonl:2: wrong_type: post.text" "$RELAISD_TMP/bad.txt" || fail "said: $(cat "$RELAISD_TMP/bad.txt")"
printf '%s\n' '{"source":"t","external_id":"g","text":"encore un message"}' > "$RELAISD_TMP/g.jsonl"
run "$RELAISD_TMP/submit.log" ctl submit "$RELAISD_TMP/g.jsonl"
wait_state 7 accepted
ctl show 7 | grep -q "learned accept=3 reject=2" || fail "part of a bad file was taught: $(ctl show 7)"

step "decisions survive a restart"
relaisd_stop
relaisd_start "$STATE" "$CONFIG" --plugin-dir "$PLUGIN_DIR"
[[ $(post_state 1) == unrouted && $(post_state 2) == rejected && $(post_state 4) == held ]] ||
  fail "the decisions did not survive a restart"
ctl show 1 | grep -q "approved  by moderator:alice" || fail "the approval is gone from post 1's trail"
step "show: a duplicate names the post it repeats; the public text hides contact details"
cat > "$RELAISD_TMP/dup.jsonl" <<'EOF'
{"source":"form","external_id":"h","channel":"webform","text":"Bonjour, mon frigo est en panne depuis lundi et je cherche quelqu'un qui pourrait le réparer cette semaine, vous pouvez m'appeler au 06 39 98 00 17"}
{"source":"mail","external_id":"i","channel":"email","text":"BONJOUR, mon frigo est en panne depuis lundi et je cherche quelqu'un qui pourrait le reparer cette semaine. Vous pouvez m'appeler au 06 39 98 00 17"}
EOF
run "$RELAISD_TMP/submit.log" ctl submit "$RELAISD_TMP/dup.jsonl"
wait_state 9 rejected
ctl show 9 > "$RELAISD_TMP/dup.txt"
grep -q "duplicate of: post 8 (relaisctl show 8)" "$RELAISD_TMP/dup.txt" || fail "no link to the first post: $(cat "$RELAISD_TMP/dup.txt")"
ctl --json show 8 | python3 -c '
import json, sys
p = json.load(sys.stdin)["post"]
assert "06 39 98 00 17" in p["text"], "the original keeps the number for the destinations"
assert "06 39 98 00 17" not in p["public"]["text"], p["public"]["text"]
assert "frigo est en panne" in p["public"]["text"], p["public"]["text"]
assert "duplicate_of" not in p, p
' || fail "post 8's public view"

echo "PASS"
