#!/usr/bin/env bash
# A plugin written out of tree, against the installed SDK, loaded by a real
# relaisd.
#
#   sdk_plugin_test.sh CMAKE BUILD_DIR PLUGIN_DIR RELAISD RELAISCTL GENERATOR CXX LIBDIR
#
# (PLUGIN_DIR: tests/sdk/plugin, the example of sdk/README.md; LIBDIR: the
# build's CMAKE_INSTALL_LIBDIR, relative to the prefix.)
#
# Installs BUILD_DIR into a temporary prefix and copies PLUGIN_DIR into a
# temporary source tree; builds moderate_hello.so there twice, with
# find_package(RelaisSDK) + relais_sdk_add_plugin() and with plain CXX +
# pkg-config, and installs the first into RELAIS_SDK_PLUGIN_DIR (the
# pkg-config `plugindir`). Checks that `relaisd --check-config` refuses a
# typo and a bad value in the plugin's table at file:line:column, and a
# plugin whose ABI stamp differs naming its file; then loads both builds into
# relaisd, one from --plugin-dir and one by `path`, as two instances with
# their own settings, and finds each instance's finding on the posts it
# should have seen, and only there.
set -euo pipefail

if [[ $# -ne 8 ]]; then
  echo "usage: $0 CMAKE BUILD_DIR PLUGIN_DIR RELAISD RELAISCTL GENERATOR CXX LIBDIR" >&2
  exit 2
fi
CMAKE=$1 BUILD_DIR=$2 PLUGIN_SRC=$3 RELAISD=$4 RELAISCTL=$5 GENERATOR=$6 CXX=$7 INSTALL_LIBDIR=$8
[[ $INSTALL_LIBDIR != /* ]] || { echo "FAIL: CMAKE_INSTALL_LIBDIR $INSTALL_LIBDIR is absolute: it cannot go under a test prefix" >&2; exit 1; }
PYTHON=${PYTHON:-/usr/bin/python3}
# shellcheck source=SCRIPTDIR/../support/relaisd.sh
source "$(dirname "$0")/../support/relaisd.sh"

for f in "$RELAISD" "$RELAISCTL"; do
  [[ -f $f ]] || fail "$f is not built: build the project (cmake --build $BUILD_DIR) before running ctest"
done
command -v pkg-config > /dev/null || fail "pkg-config not found (scripts/install-deps installs it)"
command -v objcopy > /dev/null || fail "objcopy not found (binutils)"
"$PYTHON" -c 'import json' 2> /dev/null || fail "$PYTHON not found (scripts/install-deps installs python3)"

# A short path under /tmp: an ipc:// socket path must fit in ~107 bytes.
TMP=$(mktemp -d /tmp/relais-sdkplug.XXXXXX)
PREFIX=$TMP/prefix
STATE=$TMP/state
RELAISD_TMP=$TMP

step "install $BUILD_DIR into $PREFIX"
run "$TMP/install.log" "$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX"
LIBDIR=$PREFIX/$INSTALL_LIBDIR
for f in include/relais/plugin.hpp include/relais/config_table.hpp include/relais/stage.hpp \
         "$INSTALL_LIBDIR"/cmake/RelaisSDK/RelaisSDKConfig.cmake \
         "$INSTALL_LIBDIR"/cmake/RelaisSDK/RelaisSDKPlugin.cmake \
         "$INSTALL_LIBDIR"/cmake/RelaisSDK/RelaisSDKPluginTargets.cmake \
         "$INSTALL_LIBDIR"/pkgconfig/relais-sdk.pc; do
  [[ -f $PREFIX/$f ]] || fail "$f not installed"
done

step "copy $PLUGIN_SRC out of the tree"
SRC=$TMP/src
cp -R "$PLUGIN_SRC" "$SRC"

step "build the plugin with find_package(RelaisSDK) and relais_sdk_add_plugin()"
# Warnings as errors: the SDK headers must build cleanly in a plugin author's
# strict build.
run "$TMP/configure.log" "$CMAKE" -S "$SRC" -B "$TMP/build" -G "$GENERATOR" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror"
! grep -q 'CMake Warning' "$TMP/configure.log" || { cat "$TMP/configure.log" >&2; fail "configuring the plugin warns (above)"; }
run "$TMP/build.log" "$CMAKE" --build "$TMP/build"
CMAKE_PLUGIN=$TMP/build/moderate_hello.so
[[ -f $CMAKE_PLUGIN ]] || fail "$CMAKE_PLUGIN not built; the build made: $(cd "$TMP/build" && find . -name '*.so*' | tr '\n' ' ')"

# Hidden visibility: of the plugin's own code, only the descriptor is seen.
exported=$(nm -D --defined-only -C "$CMAKE_PLUGIN")
grep -q ' relais_plugin$' <<< "$exported" || fail "$CMAKE_PLUGIN does not export relais_plugin:"$'\n'"$exported"
leaked=$(grep -E 'relais::|Hello|relais_plugin_abi' <<< "$exported" || true)
[[ -z $leaked ]] || fail "$CMAKE_PLUGIN exports its own symbols (no hidden visibility?):"$'\n'"$leaked"
needed=$(LC_ALL=C readelf -d "$CMAKE_PLUGIN")
! grep -q 'relais-client' <<< "$needed" || fail "$CMAKE_PLUGIN links librelais-client, which a plugin does not need"

step "install the plugin into RELAIS_SDK_PLUGIN_DIR, the pkg-config plugindir"
run "$TMP/plugin-install.log" "$CMAKE" --install "$TMP/build"
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
plugindir=$(pkg-config --variable=plugindir relais-sdk) || fail "pkg-config does not find relais-sdk in $PKG_CONFIG_PATH"
[[ -n $plugindir ]] || fail "relais-sdk.pc has no plugindir variable"
[[ $(realpath -m "$plugindir") == "$LIBDIR/relais/plugins" ]] \
  || fail "relais-sdk.pc's plugindir is $plugindir, expected $LIBDIR/relais/plugins"
[[ -f $plugindir/moderate_hello.so ]] || fail "cmake --install put no moderate_hello.so in $plugindir: $(ls "$plugindir")"
[[ -f $plugindir/moderate_basic.so ]] || fail "$plugindir is not where relais installs its own plugins: $(ls "$plugindir")"

step "build the plugin with $CXX and pkg-config"
pc_flags=$(pkg-config --cflags relais-sdk)
echo "pkg-config --cflags relais-sdk: $pc_flags"
mkdir -p "$TMP/pc"
PC_PLUGIN=$TMP/pc/moderate_hello.so
# shellcheck disable=SC2086  # the flags are words
run "$TMP/pc-build.log" "$CXX" -std=c++20 -Wall -Wextra -Wpedantic -Werror -shared -fPIC \
  -fvisibility=hidden -fvisibility-inlines-hidden -Wl,--no-undefined \
  -o "$PC_PLUGIN" "$SRC/moderate_hello.cpp" $pc_flags

# Both builds are stamped (relaisd compares the stamps when it loads them).
for f in "$CMAKE_PLUGIN" "$PC_PLUGIN"; do
  stamp=$(LC_ALL=C readelf -p relais_abi "$f" 2> /dev/null | sed -n 's/^ *\[ *0\] *//p')
  [[ $stamp == relais-sdk-abi=* ]] || fail "$f has no ABI stamp in a relais_abi section"
done

# re_escape TEXT: TEXT as an extended regular expression matching itself.
# shellcheck disable=SC2001  # one sed for every special character
re_escape() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<< "$1"; }

# check_config_fails NAME EXPECTED_REGEX CONFIG_TEXT: `relaisd --check-config`
# on CONFIG_TEXT (written to NAME.toml) with --plugin-dir TMP/build must exit
# 1 and say EXPECTED_REGEX, where FILE stands for the file's path and TMP for
# the temporary directory.
check_config_fails() {
  local file=$TMP/$1.toml want=$2 out status=0
  printf '%s' "$3" > "$file"
  local file_re tmp_re
  file_re=$(re_escape "$file")
  tmp_re=$(re_escape "$TMP")
  want=${want//FILE/"$file_re"}
  want=${want//TMP/"$tmp_re"}
  out=$("$RELAISD" --check-config "$file" --plugin-dir "$TMP/build" 2>&1) || status=$?
  echo "$out"
  ((status == 1)) || fail "relaisd --check-config $file exited $status, expected 1: $out"
  grep -qE "$want" <<< "$out" || fail "relaisd --check-config $file does not say /$want/: $out"
}

step "relaisd --check-config refuses a typo and a bad value in the plugin's table"
check_config_fails typo '^FILE:4:1: moderate\[0\]\.symbl: unknown key' \
  $'[[moderate]]\nplugin = "moderate_hello"\nword = "hello"\nsymbl = "HI"\n'
check_config_fails badscore '^FILE:3:9: moderate\[0\]\.score: expected a number' \
  $'[[moderate]]\nplugin = "moderate_hello"\nscore = "high"\n'
check_config_fails emptyword '^FILE:3:8: moderate\[0\]\.word: expected a non-empty string' \
  $'[[moderate]]\nplugin = "moderate_hello"\nword = ""\n'

step "relaisd --check-config refuses a plugin stamped for another ABI, naming its file"
mkdir -p "$TMP/other"
objcopy -O binary --only-section=relais_abi "$CMAKE_PLUGIN" "$TMP/stamp"
# The same length, another Boost.
sed 's/boost=[0-9]*/boost=100000/' "$TMP/stamp" > "$TMP/stamp.other"
objcopy --update-section relais_abi="$TMP/stamp.other" "$CMAKE_PLUGIN" "$TMP/other/moderate_hello.so"
check_config_fails otherabi 'moderate_hello \(TMP/other/moderate_hello\.so\): built for another ABI' \
  $'[[moderate]]\nplugin = "moderate_hello"\npath = "'"$TMP"$'/other/moderate_hello.so"\n'

# Two instances with their own settings: moderate:hello:0, the CMake build
# from --plugin-dir, with the defaults (word "hello", symbol HELLO, score 1);
# moderate:hello:1, the pkg-config build by `path`.
CONFIG="[log]
level = \"debug\"

[[moderate]]
plugin = \"moderate_hello\"

[[moderate]]
plugin = \"moderate_hello\"
path = \"$PC_PLUGIN\"
word = \"bonjour\"
symbol = \"BONJOUR\"
score = 0.5
"
printf '%s' "$CONFIG" > "$TMP/two.toml"
run "$TMP/check.log" "$RELAISD" --check-config "$TMP/two.toml" --plugin-dir "$TMP/build"
grep -q 'ok (2 plugin instances)' "$TMP/check.log" || { cat "$TMP/check.log" >&2; fail "relaisd --check-config does not count 2 plugin instances"; }

step "start relaisd in $STATE with --plugin-dir $TMP/build"
relaisd_start "$STATE" "$CONFIG" --plugin-dir "$TMP/build"

ctl() { "$RELAISCTL" --state-dir "$STATE" --timeout-ms 5000 "$@"; }

step "relaisctl plugins lists both instances"
ctl plugins || fail "relaisctl plugins failed"
listed=$(ctl --json plugins) || fail "relaisctl --json plugins failed"
got=$("$PYTHON" -c 'import json, sys
for p in json.load(sys.stdin)["plugins"]:
    print(p["instance"], p["kind"], p["plugin"], p["version"], p["file"], "stamped" if p["abi"].startswith("relais-sdk-abi=") else "unstamped")
' <<< "$listed") || fail "relaisctl --json plugins printed no plugins: $listed"
want="moderate:hello:0 moderate moderate_hello 1.0.0 $CMAKE_PLUGIN stamped
moderate:hello:1 moderate moderate_hello 1.0.0 $PC_PLUGIN stamped"
[[ $got == "$want" ]] || fail "relaisctl plugins lists"$'\n'"$got"$'\n'"expected"$'\n'"$want"

# submit EXTERNAL_ID TEXT: submits a post with relaisctl; prints its id.
submit() {
  local out id
  out=$(printf '{"source":"sdk-plugin","external_id":"%s","text":"%s"}' "$1" "$2" | ctl submit -) \
    || fail "relaisctl submit of $1 failed: $out"
  id=$(sed -n 's/^stored id=\([1-9][0-9]*\)\( .*\)\{0,1\}$/\1/p' <<< "$out")
  [[ -n $id ]] || fail "relaisctl submit of $1 printed '$out', expected 'stored id=N ...'"
  echo "$id"
}

# verdict ID: waits (20 s at most) for post ID's verdict; prints its action
# and score, then a line "STAGE SYMBOL SCORE" per finding.
verdict() {
  local id=$1 shown out end=$((SECONDS + 20))
  while ((SECONDS < end)); do
    shown=$(ctl --json show "$id") || fail "relaisctl show $id failed"
    out=$("$PYTHON" -c 'import json, sys
v = json.load(sys.stdin)["post"].get("verdict")
if v:
    print(v["action"], "%g" % v["score"])
    for f in v["findings"]:
        print(f["stage"], f["symbol"], "%g" % f["score"])
' <<< "$shown") || fail "relaisctl --json show $id printed no post: $shown"
    if [[ -n $out ]]; then
      echo "$out"
      return 0
    fi
    relaisd_alive || fail "relaisd died while post $id was in the pipeline"
    sleep 0.1 # poll interval; the deadline above bounds the wait
  done
  fail "post $id has no verdict within 20 s: $shown"
}

step "a post with both words gets both instances' findings"
both=$(submit hello-1 "hello et bonjour, from a plugin built out of tree")
got=$(verdict "$both")
want="accept 1.5
moderate:hello:0 HELLO 1
moderate:hello:1 BONJOUR 0.5"
[[ $got == "$want" ]] || fail "post $both's verdict is"$'\n'"$got"$'\n'"expected"$'\n'"$want"

step "a post with one word gets that instance's finding only"
one=$(submit hello-2 "hello again, in English only")
got=$(verdict "$one")
want="accept 1
moderate:hello:0 HELLO 1"
[[ $got == "$want" ]] || fail "post $one's verdict is"$'\n'"$got"$'\n'"expected"$'\n'"$want"
ctl show "$one"

step "the plugin logs through its PluginContext, under its instance's name"
grep -q "moderate:hello:1.*post $both: found BONJOUR" "$STATE/relaisd.log" \
  || fail "relaisd.log has no debug line 'post $both: found BONJOUR' from moderate:hello:1"

relaisd_alive || fail "relaisd died during the test"
echo "PASS"
