#!/usr/bin/env bash
# The installed SDK, used out of tree, against a real relaisd.
#
#   sdk_install_test.sh CMAKE BUILD_DIR CONSUMER_DIR RELAISD RELAISCTL CLIENT_LIB GENERATOR CXX LIBDIR
#
# (LIBDIR: the build's CMAKE_INSTALL_LIBDIR, relative to the prefix.)
#
# Installs BUILD_DIR into a temporary prefix and checks what it holds (public
# headers only, librelais-client.so with its SONAME and no codec symbols, the
# CMake package, relais-sdk.pc); builds CONSUMER_DIR against it twice, with
# find_package(RelaisSDK) and with plain CXX + pkg-config; starts relaisd and
# submits posts with both builds: the first submission of an external_id is
# `stored`, the next one, from the other build, a `duplicate` of the same post.
set -euo pipefail

if [[ $# -ne 9 ]]; then
  echo "usage: $0 CMAKE BUILD_DIR CONSUMER_DIR RELAISD RELAISCTL CLIENT_LIB GENERATOR CXX LIBDIR" >&2
  exit 2
fi
CMAKE=$1 BUILD_DIR=$2 CONSUMER_DIR=$3 RELAISD=$4 RELAISCTL=$5 CLIENT_LIB=$6 GENERATOR=$7 CXX=$8 INSTALL_LIBDIR=$9
[[ $INSTALL_LIBDIR != /* ]] || { echo "FAIL: CMAKE_INSTALL_LIBDIR $INSTALL_LIBDIR is absolute: it cannot go under a test prefix" >&2; exit 1; }
# shellcheck source=SCRIPTDIR/../support/relaisd.sh
source "$(dirname "$0")/../support/relaisd.sh"

for f in "$RELAISD" "$RELAISCTL" "$CLIENT_LIB"; do
  [[ -f $f ]] || fail "$f is not built: build the project (cmake --build $BUILD_DIR) before running ctest"
done
command -v pkg-config > /dev/null || fail "pkg-config not found (scripts/install-deps installs it)"
command -v nm > /dev/null || fail "nm not found (binutils)"

# A short path under /tmp: an ipc:// socket path must fit in ~107 bytes.
TMP=$(mktemp -d /tmp/relais-sdk.XXXXXX)
PREFIX=$TMP/prefix
STATE=$TMP/state
RELAISD_TMP=$TMP

step "install $BUILD_DIR into $PREFIX"
run "$TMP/install.log" "$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX"
LIBDIR=$PREFIX/$INSTALL_LIBDIR
[[ -d $LIBDIR/cmake/RelaisSDK ]] || fail "no $LIBDIR/cmake/RelaisSDK; installed: $(cd "$PREFIX" && find . -type f | sort | tr '\n' ' ')"

step "check the installed files"
for f in include/relais/client.hpp include/relais/post.hpp include/relais/expected.hpp include/relais/stage.hpp \
         "$INSTALL_LIBDIR"/cmake/RelaisSDK/RelaisSDKConfig.cmake \
         "$INSTALL_LIBDIR"/cmake/RelaisSDK/RelaisSDKConfigVersion.cmake \
         "$INSTALL_LIBDIR"/cmake/RelaisSDK/RelaisSDKTargets.cmake "$INSTALL_LIBDIR"/pkgconfig/relais-sdk.pc; do
  [[ -f $PREFIX/$f ]] || fail "$f not installed"
done
[[ ! -e $PREFIX/include/relais/protocol.hpp ]] || fail "the internal protocol.hpp was installed"
extra=$(cd "$PREFIX/include" && find . -type f ! -path './relais/*.hpp')
[[ -z $extra ]] || fail "unexpected files under include/: $extra"
soname=$(LC_ALL=C readelf -d "$LIBDIR/librelais-client.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == librelais-client.so.0 ]] || fail "librelais-client.so has SONAME '$soname', expected librelais-client.so.0"
[[ -f $LIBDIR/$soname ]] || fail "$LIBDIR/$soname (the SONAME link) not installed"
exported=$(nm -D --defined-only -C "$LIBDIR/librelais-client.so")
grep -q 'relais::Client::submit' <<< "$exported" || fail "librelais-client.so does not export relais::Client::submit"
leaked=$(grep -v ' relais::' <<< "$exported" || true)
[[ -z $leaked ]] || fail "librelais-client.so exports more than relais::*:"$'\n'"$leaked"
! grep -q 'relais::protocol::' <<< "$exported" || fail "librelais-client.so exports the internal codec (relais::protocol)"

step "find_package(RelaisSDK 99) is refused (SameMajorVersion)"
if "$CMAKE" -S "$CONSUMER_DIR" -B "$TMP/build" -G "$GENERATOR" -DCMAKE_CXX_COMPILER="$CXX" \
     -DCMAKE_PREFIX_PATH="$PREFIX" -DRELAIS_SDK_WANTED=99 > "$TMP/configure99.log" 2>&1; then
  cat "$TMP/configure99.log" >&2
  fail "find_package(RelaisSDK 99) succeeded against SDK 0.1.0"
fi
grep -q 'RelaisSDK' "$TMP/configure99.log" || { cat "$TMP/configure99.log" >&2; fail "configure failed for another reason than the RelaisSDK version"; }

step "build the consumer with find_package(RelaisSDK 0.1)"
run "$TMP/configure.log" "$CMAKE" -S "$CONSUMER_DIR" -B "$TMP/build" -G "$GENERATOR" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DRELAIS_SDK_WANTED=0.1
run "$TMP/build.log" "$CMAKE" --build "$TMP/build"
CMAKE_CONSUMER=$TMP/build/relais_sdk_consumer
[[ -x $CMAKE_CONSUMER ]] || fail "$CMAKE_CONSUMER not built"

step "build the consumer with $CXX and pkg-config"
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
pc_version=$(pkg-config --modversion relais-sdk) || fail "pkg-config does not find relais-sdk in $PKG_CONFIG_PATH"
[[ $pc_version == 0.1.0 ]] || fail "relais-sdk.pc has version '$pc_version', expected 0.1.0"
pc_flags=$(pkg-config --cflags --libs relais-sdk)
echo "pkg-config --cflags --libs relais-sdk: $pc_flags"
PC_CONSUMER=$TMP/pc-consumer
# shellcheck disable=SC2086  # the flags are words
run "$TMP/pc-build.log" "$CXX" -std=c++17 -Wall -Wextra -Werror -o "$PC_CONSUMER" "$CONSUMER_DIR/main.cpp" $pc_flags

# The CMake build finds the library through its RUNPATH, without help.
deps=$(ldd "$CMAKE_CONSUMER")
grep -q "librelais-client.so.0 => $LIBDIR/" <<< "$deps" \
  || fail "$CMAKE_CONSUMER does not load $LIBDIR/librelais-client.so.0 by itself:"$'\n'"$deps"
deps=$(LD_LIBRARY_PATH=$LIBDIR ldd "$PC_CONSUMER")
grep -q "librelais-client.so.0 => $LIBDIR/" <<< "$deps" \
  || fail "$PC_CONSUMER is not linked to librelais-client.so.0:"$'\n'"$deps"

step "start relaisd in $STATE"
relaisd_start "$STATE" '[log]\nlevel = "warn"\n'
ENDPOINT=ipc://$STATE/ingest.sock

# The CMake build has the prefix in its RUNPATH; the pkg-config one, built
# with -L only, finds the library through LD_LIBRARY_PATH.
cmake_consumer() { "$CMAKE_CONSUMER" "$@"; }
pc_consumer() { LD_LIBRARY_PATH=$LIBDIR "$PC_CONSUMER" "$@"; }

# submit NAME EXTERNAL_ID EXPECTED_STATUS: submits a post with the NAME
# (CMake or pkg-config) consumer; prints the post id.
submit() {
  local name=$1 id=$2 want=$3 run_consumer=cmake_consumer out status=0
  [[ $name == pkg-config ]] && run_consumer=pc_consumer
  out=$("$run_consumer" "$ENDPOINT" sdk-consumer "$id" "Posted by the $name consumer.") || status=$?
  echo "$name consumer, $id: $out" >&2
  ((status == 0)) || fail "the $name consumer exited $status on $id: $out"
  read -r got post_id <<< "$out"
  [[ $got == "$want" ]] || fail "the $name consumer got '$got' for $id, expected '$want': $out"
  [[ $post_id =~ ^[1-9][0-9]*$ ]] || fail "the $name consumer printed no post id for $id: $out"
  echo "$post_id"
}

step "a post is stored, then a duplicate of the same post, from either build"
a1=$(submit CMake sdk-a stored)
a2=$(submit pkg-config sdk-a duplicate)
[[ $a1 == "$a2" ]] || fail "the duplicate of sdk-a names post $a2, the stored one was $a1"
b1=$(submit pkg-config sdk-b stored)
b2=$(submit CMake sdk-b duplicate)
[[ $b1 == "$b2" ]] || fail "the duplicate of sdk-b names post $b2, the stored one was $b1"
[[ $a1 != "$b1" ]] || fail "sdk-a and sdk-b were stored as the same post $a1"

step "relaisctl sees the two posts"
posts=$("$RELAISCTL" --state-dir "$STATE" --timeout-ms 5000 posts) || fail "relaisctl posts failed"
echo "$posts"
count=$(awk '$3 == "sdk-consumer"' <<< "$posts" | wc -l)
[[ $count -eq 2 ]] || fail "expected 2 sdk-consumer posts, relaisctl posts lists $count"

relaisd_alive || fail "relaisd died during the test"
echo "PASS"
