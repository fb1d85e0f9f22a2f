#!/usr/bin/env bash
# Runs sdk/examples/python/relais_submit.py against a real relaisd.
#
#   python_example_test.sh RELAISD RELAISCTL RELAIS_SUBMIT_PY
#
# Starts relaisd on a fresh state directory, submits posts with the example
# (from a file and from stdin), and checks with relaisctl that they are stored,
# that resubmitting gives duplicates, that a refused post makes the example
# fail naming the field, and that posts from relaisctl and from the example
# sit side by side.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 RELAISD RELAISCTL RELAIS_SUBMIT_PY" >&2
  exit 2
fi
RELAISD=$1 RELAISCTL=$2 EXAMPLE=$3
PYTHON=${PYTHON:-/usr/bin/python3}  # the system python, where python3-zmq installs pyzmq

# shellcheck source=SCRIPTDIR/../support/relaisd.sh
source "$(dirname "$0")/../support/relaisd.sh"

if ! "$PYTHON" -c 'import zmq' 2>/dev/null; then
  fail "$PYTHON cannot import zmq: make test installs python3-zmq (scripts/install-deps)"
fi

# A short path under /tmp: an ipc:// socket path must fit in ~107 bytes.
DIR=$(mktemp -d /tmp/relais-pyex.XXXXXX)
RELAISD_TMP=$DIR

ctl() { "$RELAISCTL" --state-dir "$DIR" --timeout-ms 5000 "$@"; }
# The example, failing rather than resending forever if relaisd is gone.
submit() { "$PYTHON" "$EXAMPLE" --state-dir "$DIR" --timeout 0.5 --give-up 30 "$@"; }
# json_get FIELD...: print .post.FIELD... of the `relaisctl --json show` on stdin.
json_get() {
  "$PYTHON" -c 'import json, sys
v = json.load(sys.stdin)["post"]
for k in sys.argv[1:]: v = v[k]
print(v)' "$@"
}

step "start relaisd in $DIR"
relaisd_start "$DIR"

step "submit two posts from a file and one from stdin"
cat > "$DIR/posts.jsonl" <<'EOF'
{"source": "py-example", "external_id": "py-1", "channel": "webform", "sender": "mireille.pal", "received_at": "2020-04-01T08:12:00+02:00", "subject": null, "text": "Bonjour, j'habite quai Jules-Guesde, j'ai 78 ans et je cherche de l'aide pour mes courses.", "lang": "fr", "fields": {"category": "groceries"}, "private": {"name": "Mireille P."}}

{"source": "py-example", "external_id": "py-2", "text": "I can lend a ladder this weekend."}
EOF
stdin_post='{"source": "py-example", "external_id": "py-3", "subject": "Soupe", "text": "Soupe populaire jeudi, 12 h, salle des fêtes."}'
out=$(printf '%s\n' "$stdin_post" | submit "$DIR/posts.jsonl" -) || fail "example exited $? on valid posts: $out"
echo "$out"
id1=$(awk '$1 ~ /posts\.jsonl:1$/ && $2 == "stored" {print $3}' <<< "$out")
id2=$(awk '$1 ~ /posts\.jsonl:3$/ && $2 == "stored" {print $3}' <<< "$out")
id3=$(awk '$1 == "<stdin>:1" && $2 == "stored" {print $3}' <<< "$out")
[[ -n $id1 && -n $id2 && -n $id3 ]] || fail "expected three 'stored' lines (file:1, file:3, <stdin>:1), got: $out"

step "relaisctl posts lists them"
posts=$(ctl posts) || fail "relaisctl posts failed"
echo "$posts"
for id in "$id1" "$id2" "$id3"; do
  awk -v id="$id" '$1 == id && $3 == "py-example" {found = 1} END {exit !found}' <<< "$posts" \
    || fail "post $id (source py-example) missing from 'relaisctl posts'"
done

step "relaisctl --json show returns what was sent"
check_post() {  # check_post ID EXTERNAL_ID TEXT
  local json
  json=$(ctl --json show "$1") || fail "relaisctl --json show $1 failed"
  [[ $(json_get external_id <<< "$json") == "$2" ]] || fail "post $1: external_id is not $2: $json"
  [[ $(json_get text <<< "$json") == "$3" ]] || fail "post $1: text differs: $json"
}
check_post "$id1" py-1 "Bonjour, j'habite quai Jules-Guesde, j'ai 78 ans et je cherche de l'aide pour mes courses."
check_post "$id2" py-2 "I can lend a ladder this weekend."
check_post "$id3" py-3 "Soupe populaire jeudi, 12 h, salle des fêtes."
json=$(ctl --json show "$id1")
[[ $(json_get private name <<< "$json") == "Mireille P." ]] || fail "post $id1: private.name not kept: $json"
[[ $(json_get fields category <<< "$json") == "groceries" ]] || fail "post $id1: fields.category not kept: $json"
[[ $(json_get subject <<< "$(ctl --json show "$id3")") == "Soupe" ]] || fail "post $id3: subject not kept"

step "resubmitting the same file gives duplicates with the same ids"
out=$(submit --window 1 "$DIR/posts.jsonl") || fail "example exited $? on resubmission: $out"
echo "$out"
[[ $(awk '$1 ~ /:1$/ {print $2, $3}' <<< "$out") == "duplicate $id1" ]] || fail "line 1 not a duplicate of $id1: $out"
[[ $(awk '$1 ~ /:3$/ {print $2, $3}' <<< "$out") == "duplicate $id2" ]] || fail "line 3 not a duplicate of $id2: $out"
count=$(ctl posts | awk '$3 == "py-example"' | wc -l)
[[ $count -eq 3 ]] || fail "expected 3 py-example posts after resubmission, found $count"

step "a post without text is refused, naming post.text"
status=0
err=$(echo '{"source": "py-example", "external_id": "py-bad"}' | submit 2>&1 >/dev/null) || status=$?
echo "$err"
[[ $status -ne 0 ]] || fail "example exited 0 on a post without text"
grep -q 'post\.text' <<< "$err" || fail "example's message does not name post.text: $err"
count=$(ctl posts | awk '$3 == "py-example"' | wc -l)
[[ $count -eq 3 ]] || fail "the refused post was stored ($count py-example posts)"

step "a post from relaisctl submit sits beside the example's"
echo '{"source": "ctl-example", "external_id": "ctl-1", "text": "Posted with relaisctl."}' > "$DIR/ctl.json"
ctl submit "$DIR/ctl.json" || fail "relaisctl submit failed"
posts=$(ctl posts)
echo "$posts"
grep -qw 'ctl-example' <<< "$posts" || fail "the relaisctl post is missing from 'relaisctl posts'"
count=$(awk '$3 == "py-example"' <<< "$posts" | wc -l)
[[ $count -eq 3 ]] || fail "expected the 3 py-example posts beside it, found $count"

relaisd_alive || fail "relaisd died during the test"
echo "PASS"
