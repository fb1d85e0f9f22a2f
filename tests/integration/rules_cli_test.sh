#!/usr/bin/env bash
# `relaisctl rules test` and `rules replay` beside a real relaisd: a
# candidate rule file is tried on posts from a file and on the stored posts,
# shows which actions would change and why, and the running daemon, its
# store and its rules stay as they were. A candidate with a bad pattern is
# refused with its position.
# Usage: rules_cli_test.sh RELAISD RELAISCTL PLUGIN_DIR
set -euo pipefail
RELAISD=$1
RELAISCTL=$2
PLUGIN_DIR=$3
# shellcheck source=../support/relaisd.sh
source "$(dirname "$0")/../support/relaisd.sh"

RELAISD_TMP=$(mktemp -d)
STATE=$RELAISD_TMP/state
mkdir -p "$STATE"
ctl() { "$RELAISCTL" --state-dir "$STATE" "$@"; }
rules() { "$RELAISCTL" --state-dir "$STATE" rules "$@" --config "$STATE/relais.toml" --plugin-dir "$PLUGIN_DIR"; }

cat > "$STATE/live.toml" <<'EOF'
[[rule]]
id = "SCAM_TRANSFER"
description = "asks for a money transfer"
literals = ["western union"]
score = 12
action = "reject"
EOF
cat > "$RELAISD_TMP/candidate.toml" <<'EOF'
[[rule]]
id = "MASK_SALE"
description = "sells masks"
literals = ["masques pas chers"]
score = 6
EOF
CONFIG="[moderation]\nhold_score = 5\nreject_score = 10\n"
CONFIG+="[[moderate]]\nplugin = \"moderate_rules\"\nrules = [\"live.toml\"]\n"
CONFIG+="[[moderate]]\nplugin = \"moderate_basic\"\n"
relaisd_start "$STATE" "$CONFIG" --plugin-dir "$PLUGIN_DIR"

cat > "$RELAISD_TMP/posts.jsonl" <<'EOF'
{"source":"t","external_id":"1","text":"Envoyez l'argent par WESTERN UNION vite"}
{"source":"t","external_id":"2","text":"Achetez nos MASQUES pas chers"}
{"source":"t","external_id":"3","text":"Bonjour, je cherche quelqu'un pour mes courses"}
EOF
run "$RELAISD_TMP/submit.log" ctl submit "$RELAISD_TMP/posts.jsonl"
end=$((SECONDS + 20))
until [[ $(ctl --json posts --state received | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["posts"]))') == 0 ]]; do
  ((SECONDS < end)) || fail "the pipeline did not finish the posts within 20 s"
  sleep 0.1  # poll interval; the deadline above bounds the wait
done
before=$(ctl --json posts)

step "rules test: the configured rules, post by post, with the findings and the label"
printf '%s\n' '{"id":"p-1","text":"envoyez par western union","labels":{"expected_action":"reject"}}' \
  '{"text":"des masques pas chers ici"}' > "$RELAISD_TMP/try.jsonl"
rules test "$RELAISD_TMP/try.jsonl" > "$RELAISD_TMP/test.txt"
grep -q "^line 1 (p-1): reject score=12 expected=reject" "$RELAISD_TMP/test.txt" || fail "$(cat "$RELAISD_TMP/test.txt")"
grep -q "SCAM_TRANSFER score=12 forced=reject (moderate:rules:0): asks for a money transfer" "$RELAISD_TMP/test.txt" ||
  fail "the finding is not shown: $(cat "$RELAISD_TMP/test.txt")"
grep -q "^line 2: accept score=0" "$RELAISD_TMP/test.txt" || fail "$(cat "$RELAISD_TMP/test.txt")"
grep -q "2 posts: 1 accept 1 reject; 1 of 1 as labelled" "$RELAISD_TMP/test.txt" || fail "$(cat "$RELAISD_TMP/test.txt")"

step "rules test --rules: the candidate in the place of the configured rules"
rules test "$RELAISD_TMP/try.jsonl" --rules "$RELAISD_TMP/candidate.toml" > "$RELAISD_TMP/cand.txt"
grep -q "^line 1 (p-1): accept score=0 expected=reject" "$RELAISD_TMP/cand.txt" || fail "$(cat "$RELAISD_TMP/cand.txt")"
grep -q "^line 2: hold score=6" "$RELAISD_TMP/cand.txt" || fail "$(cat "$RELAISD_TMP/cand.txt")"
grep -q "MASK_SALE score=6 (moderate:rules:0): sells masks" "$RELAISD_TMP/cand.txt" || fail "$(cat "$RELAISD_TMP/cand.txt")"
echo '{"text":"western union"}' | rules test - --json |
  python3 -c 'import json,sys; p=json.load(sys.stdin)["posts"][0]; assert p["action"]=="reject" and p["findings"][0]["symbol"]=="SCAM_TRANSFER", p' ||
  fail "rules test --json from standard input"

step "rules replay: the stored posts whose action would change, and the rules that make it change"
rules replay --rules "$RELAISD_TMP/candidate.toml" > "$RELAISD_TMP/replay.txt"
grep -q "^1  reject -> accept  score=0  state=rejected  -SCAM_TRANSFER$" "$RELAISD_TMP/replay.txt" ||
  fail "$(cat "$RELAISD_TMP/replay.txt")"
grep -q "^2  accept -> hold  score=6  state=accepted  +MASK_SALE$" "$RELAISD_TMP/replay.txt" ||
  fail "$(cat "$RELAISD_TMP/replay.txt")"
grep -q "^3  " "$RELAISD_TMP/replay.txt" && fail "post 3 would not change: $(cat "$RELAISD_TMP/replay.txt")"
grep -q "3 posts replayed, 2 would change; 1 accept -> hold; 1 reject -> accept" "$RELAISD_TMP/replay.txt" ||
  fail "$(cat "$RELAISD_TMP/replay.txt")"
rules replay --rules "$RELAISD_TMP/candidate.toml" --since 1h --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["replayed"]==3 and [c["id"] for c in r["changed"]]==[1,2], r' ||
  fail "replay --since 1h"
rules replay --rules "$RELAISD_TMP/candidate.toml" --since 0s | grep -q "^0 posts replayed, 0 would change" ||
  fail "replay --since 0s still replayed posts"
if rules replay --rules "$RELAISD_TMP/candidate.toml" --since soon > "$RELAISD_TMP/since.txt" 2>&1; then
  fail "a bad --since was taken"
fi
grep -q "\-\-since soon: expected a number" "$RELAISD_TMP/since.txt" || fail "$(cat "$RELAISD_TMP/since.txt")"

step "a candidate with a bad pattern is refused with its position"
cat > "$RELAISD_TMP/bad.toml" <<'EOF'
[[rule]]
id = "BROKEN"
description = "a pattern that does not compile"
patterns = ['virement (urgent']
score = 1
EOF
if rules test "$RELAISD_TMP/try.jsonl" --rules "$RELAISD_TMP/bad.toml" > "$RELAISD_TMP/bad.txt" 2>&1; then
  fail "a bad candidate was taken"
fi
grep -q "bad.toml:4:13: rule BROKEN: patterns\[0\]" "$RELAISD_TMP/bad.txt" || fail "$(cat "$RELAISD_TMP/bad.txt")"
if rules replay --rules "$RELAISD_TMP/bad.toml" > /dev/null 2>&1; then fail "replay took a bad candidate"; fi
if rules test "$RELAISD_TMP/try.jsonl" --rules "$RELAISD_TMP/missing.toml" > /dev/null 2>&1; then
  fail "a missing candidate was taken"
fi

step "the running daemon, its store and its rules are untouched"
[[ $(ctl --json posts) == "$before" ]] || fail "trying rules changed the stored posts"
printf '%s\n' '{"source":"t","external_id":"4","text":"des masques pas chers, et western union"}' > "$RELAISD_TMP/four.jsonl"
run "$RELAISD_TMP/submit.log" ctl submit "$RELAISD_TMP/four.jsonl"
end=$((SECONDS + 20))
until ctl show 4 | grep -q "state=rejected"; do
  ((SECONDS < end)) || fail "post 4 was not rejected by the live rules: $(ctl show 4)"
  sleep 0.1  # poll interval; the deadline above bounds the wait
done
ctl show 4 | grep -q "MASK_SALE" && fail "the candidate rule reached the running daemon"
echo "PASS"
