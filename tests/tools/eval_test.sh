#!/usr/bin/env bash
# bench/eval end to end: labelled posts through a real relaisd, figures
# checked against numbers worked out by hand.
#
#   eval_test.sh EVAL RELAISD FIXTURE_TRIAGER DATA_DIR
#
# DATA_DIR (tests/tools/eval/) holds ten invented posts (posts.jsonl), the
# config (relais.toml: MANY_LINKS rejects, SHOUTING holds, the fixture
# triager adds "groceries") and the figures they must give (expected.json;
# each post's outcome is worked out in the comments of the steps below).
# Also: ids and symbols only on the output, the state directory removed or
# kept, a malformed posts file named by file:line with exit 2, a config
# relaisd refuses shown with exit 2, and a relaisd that never answers.
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 EVAL RELAISD FIXTURE_TRIAGER DATA_DIR" >&2
  exit 2
fi
EVAL=$1 RELAISD=$2 FIXTURE_TRIAGER=$3 DATA=$4
PYTHON=${PYTHON:-python3}

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# A short path under /tmp: relaisd's ipc:// socket path must fit in ~107 bytes.
DIR=$(mktemp -d /tmp/relais-evaltest.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
mkdir "$DIR/tmp"
sed -e "s|@FIXTURE_TRIAGER@|$FIXTURE_TRIAGER|" -e "s|@DATA@|$DATA|" "$DATA/relais.toml" > "$DIR/relais.toml"

# eval with the test's relaisd, its temporary directories in $DIR/tmp.
run_eval() { TMPDIR=$DIR/tmp "$EVAL" --relaisd "$RELAISD" --timeout 60 --start-timeout 20 "$@"; }

step "the ten posts through relaisd"
# Outcomes (MANY_LINKS=spam, SHOUTING=abuse added to the default mapping):
#   t-01 accept, routed to the fallback     t-06 hold SHOUTING (abuse, right)
#   t-02 reject MANY_LINKS (a legit request) t-07 hold SHOUTING (a legit request)
#   t-03 reject MANY_LINKS (spam, right)     t-08 accept (pii missed), routed
#   t-04 accept (spam missed)                t-09 accept
#   t-05 accept                              t-10 accept (duplicate missed), routed
status=0
run_eval --config "$DIR/relais.toml" --posts "$DATA/posts.jsonl" --json "$DIR/out.json" \
  --flag MANY_LINKS=spam --flag SHOUTING=abuse > "$DIR/stdout" 2> "$DIR/stderr" || status=$?
cat "$DIR/stdout" "$DIR/stderr"
[[ $status -eq 0 ]] || fail "eval exited $status"

step "the JSON holds exactly the expected figures"
"$PYTHON" - "$DIR/out.json" "$DATA/expected.json" <<'PY' || fail "the JSON figures differ (above)"
import json, sys
got, want = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
problems = []
def diff(g, w, path):
    if isinstance(w, dict) and isinstance(g, dict):
        for k in sorted(set(g) | set(w)):
            if k not in g: problems.append(f"{path}.{k}: missing")
            elif k not in w: problems.append(f"{path}.{k}: not expected ({g[k]!r})")
            else: diff(g[k], w[k], f"{path}.{k}")
    elif g != w or (g is None) != (w is None) or isinstance(g, bool) != isinstance(w, bool):
        problems.append(f"{path}: {g!r}, expected {w!r}")
diff(got, want, "")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

step "the text report: matrix, flags, second section, misclassified posts"
expect_line() {  # expect_line REGEX: a line of stdout matches it
  grep -qE "$1" "$DIR/stdout" || fail "no line matching '$1' in the report"
}
expect_line '^  accept +3 +1 +1$'
expect_line '^  hold +1 +1 +0$'
expect_line '^  reject +2 +0 +1$'
expect_line '^  action accuracy: 0\.500 \(5/10\)$'
expect_line '^  spam +0\.500 +0\.500 +2 +1 +1 +1$'
expect_line '^  abuse +0\.500 +1\.000 +1 +1 +1 +0$'
expect_line '^  pii +- +0\.000 +1 +0 +0 +1$'
expect_line '^  scam +- +- +0 +0 +0 +0$'
expect_line '^  legitimate requests held or rejected: 0\.667 \(2/3\)$'
expect_line '^  category +0\.375 \(3/8\)'
expect_line '^  urgency +0\.500 \(4/8\); high/critical recall 0\.000 \(0/4\)$'
expect_line '^  route +0\.600 \(6/10\)'
expect_line '^Misclassified: 5 '
misclassified=$(sed -n '/^Misclassified/,/^$/p' "$DIR/stdout" | sed -e 1d -e '/^$/d')
want=$'  t-02 accept\u2192reject [MANY_LINKS]\n  t-04 reject\u2192accept []\n  t-07 accept\u2192hold [SHOUTING]\n  t-08 hold\u2192accept []\n  t-10 reject\u2192accept []'
[[ $misclassified == "$want" ]] || fail "misclassified list differs:"$'\n'"$misclassified"$'\nexpected:\n'"$want"
# The routes that differ, with the destinations only: the held and rejected
# requests that should have gone out, the pii and the duplicate that should not.
expect_line '^Misrouted: 4 '
misrouted=$(sed -n '/^Misrouted/,$p' "$DIR/stdout" | tail -n +2)
want=$'  t-02 [reseau_solidarite_ville] \u2192 []\n  t-07 [infirmiers_solidaires_94 reseau_solidarite_ville] \u2192 []\n  t-08 [] \u2192 [reseau_solidarite_ville]\n  t-10 [] \u2192 [reseau_solidarite_ville]'
[[ $misrouted == "$want" ]] || fail "misrouted list differs:"$'\n'"$misrouted"$'\nexpected:\n'"$want"

step "--triage-from-labels: the labels' triage, as form fields"
run_eval --config "$DIR/relais.toml" --posts "$DATA/posts.jsonl" --flag MANY_LINKS=spam --flag SHOUTING=abuse \
  --triage-from-labels > "$DIR/labels.stdout" 2> "$DIR/labels.stderr" || fail "eval --triage-from-labels failed"
grep -Eq '^  kind +1\.000 \(8/8\)$' "$DIR/labels.stdout" || fail "kind not taken from the labels"
grep -Eq '^  urgency +1\.000 \(8/8\); high/critical recall 1\.000 \(4/4\)$' "$DIR/labels.stdout" ||
  fail "urgency not taken from the labels"

step "no post text, sender or phone number on the output"
for needle in Tilleuls 'odette.v' '06 39 98' 'INCAPABLES' 'argent.example'; do
  if grep -qF "$needle" "$DIR/stdout" "$DIR/stderr"; then fail "'$needle' from a post is on the output"; fi
done

step "the temporary state directory is gone"
[[ -z $(ls -A "$DIR/tmp") ]] || fail "left behind in TMPDIR: $(ls -A "$DIR/tmp")"

step "--keep-state keeps the database and relaisd's log; a second run refuses a used directory"
run_eval --config "$DIR/relais.toml" --posts "$DATA/posts.jsonl" --keep-state "$DIR/state" \
  --flag MANY_LINKS=spam > /dev/null 2> "$DIR/stderr" || { cat "$DIR/stderr"; fail "eval --keep-state failed"; }
[[ -f $DIR/state/relais.db && -f $DIR/state/relaisd.log ]] || fail "state not kept: $(ls -A "$DIR/state")"
status=0
run_eval --config "$DIR/relais.toml" --posts "$DATA/posts.jsonl" --keep-state "$DIR/state" \
  > /dev/null 2> "$DIR/stderr" || status=$?
cat "$DIR/stderr"
[[ $status -eq 2 ]] || fail "a used --keep-state directory: exit $status, expected 2"

# expect_refusal NAME CONTENT REGEX: a posts file NAME holding CONTENT makes
# eval exit 2 with a message matching REGEX, before relaisd starts.
expect_refusal() {
  printf '%s\n' "$2" > "$DIR/$1"
  local status=0
  run_eval --config "$DIR/relais.toml" --posts "$DIR/$1" > /dev/null 2> "$DIR/stderr" || status=$?
  cat "$DIR/stderr"
  [[ $status -eq 2 ]] || fail "$1: exit $status, expected 2"
  grep -qE "$3" "$DIR/stderr" || fail "$1: the message does not match '$3'"
}
first_two=$(head -n 2 "$DATA/posts.jsonl")

step "a malformed posts file: file:line and exit 2"
expect_refusal bad-json.jsonl "$first_two"$'\n{"id": "x-03", "channel": ' \
  "^eval: $DIR/bad-json.jsonl:3: not JSON"
expect_refusal bad-label.jsonl "$first_two"$'\n\n'"$(sed -n 3p "$DATA/posts.jsonl" | sed 's/"urgency": "low"/"urgency": "urgent"/')" \
  "^eval: $DIR/bad-label.jsonl:4: labels\\.urgency: \"urgent\" is not one of low, normal, high, critical$"
expect_refusal no-text.jsonl "$(head -n 1 "$DATA/posts.jsonl" | sed 's/"text": "[^"]*", //')" \
  "^eval: $DIR/no-text.jsonl:1: text: is missing$"
expect_refusal same-id.jsonl "$first_two"$'\n'"$(head -n 1 "$DATA/posts.jsonl")" \
  "^eval: $DIR/same-id.jsonl:3: id: \"t-01\" already used on line 1$"
expect_refusal bad-time.jsonl "$(head -n 1 "$DATA/posts.jsonl" | sed 's/2020-04-02T09:00:00+02:00/yesterday/')" \
  "^eval: $DIR/bad-time.jsonl:1: received_at: "

step "a config relaisd refuses: its message and exit 2"
sed 's/^links = 3$/linsk = 3/' "$DIR/relais.toml" > "$DIR/refused.toml"
status=0
run_eval --config "$DIR/refused.toml" --posts "$DATA/posts.jsonl" > /dev/null 2> "$DIR/stderr" || status=$?
cat "$DIR/stderr"
[[ $status -eq 2 ]] || fail "a refused config: exit $status, expected 2"
grep -q 'relaisd refused to start' "$DIR/stderr" || fail "the refusal is not reported as such"
grep -q 'linsk' "$DIR/stderr" || fail "relaisd's message (naming linsk) is not shown"

step "a relaisd that never answers: bounded by --start-timeout"
printf '#!/bin/sh\nexec sleep 60\n' > "$DIR/mute-relaisd"
chmod +x "$DIR/mute-relaisd"
status=0
SECONDS=0
TMPDIR=$DIR/tmp "$EVAL" --relaisd "$DIR/mute-relaisd" --start-timeout 1 --config "$DIR/relais.toml" \
  --posts "$DATA/posts.jsonl" > /dev/null 2> "$DIR/stderr" || status=$?
cat "$DIR/stderr"
[[ $status -eq 1 ]] || fail "a mute relaisd: exit $status, expected 1"
((SECONDS < 15)) || fail "a mute relaisd held eval for $SECONDS s"
grep -q 'did not answer a ping' "$DIR/stderr" || fail "the mute relaisd is not reported as such"

step "a bad --flag: exit 2"
status=0
run_eval --config "$DIR/relais.toml" --posts "$DATA/posts.jsonl" --flag SPAM_=junk > /dev/null 2> "$DIR/stderr" ||
  status=$?
cat "$DIR/stderr"
[[ $status -eq 2 ]] || fail "--flag SPAM_=junk: exit $status, expected 2"

echo "PASS"
