# The SDK's ABI lock: sdk/abi.lock records RELAIS_SDK_ABI and a hash of the
# public headers, so that a change to a header that does not bump the ABI
# number fails here, before plugins built against the old headers are loaded
# by a daemon built against the new ones.
#
#   cmake -DSOURCE_DIR=. -P tests/sdk/abi_lock_test.cmake             check
#   cmake -DSOURCE_DIR=. -DUPDATE=ON -P tests/sdk/abi_lock_test.cmake rewrite sdk/abi.lock
#   cmake -DSOURCE_DIR=. -DSELF_TEST=ON -DSCRATCH_DIR=<dir> -P tests/sdk/abi_lock_test.cmake
#                                    the check on a copy of sdk/ that it alters
#
# sdk/abi.lock is two lines:
#   abi = <RELAIS_SDK_ABI, from `#define RELAIS_SDK_ABI N` in sdk/include/relais/plugin.hpp>
#   sha256 = <hash>
# where <hash> is the SHA-256 of the concatenation, for each file under
# sdk/include/relais/ in byte order of its path relative to that folder (for
# now every file is directly in it, so the path is the file name), of
# "<path>\n<content>". Hidden files (an editor's, say) are left out. The same
# hash in the shell, from sdk/include/relais/:
#   for f in $(ls | LC_ALL=C sort); do printf '%s\n' "$f"; cat "$f"; done | sha256sum
cmake_minimum_required(VERSION 3.25)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<source tree> [-DUPDATE=ON] -P ${CMAKE_CURRENT_LIST_FILE}")
endif()
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)
set(headers_dir "${SOURCE_DIR}/sdk/include/relais")
set(lock_file "${SOURCE_DIR}/sdk/abi.lock")
set(update_command "cmake -DSOURCE_DIR=. -DUPDATE=ON -P tests/sdk/abi_lock_test.cmake")

# --- Self-test: the check passes and fails when it should -------------------
if(SELF_TEST)
  if(NOT SCRATCH_DIR)
    message(FATAL_ERROR "SELF_TEST needs -DSCRATCH_DIR=<a directory it may empty>")
  endif()
  file(REMOVE_RECURSE "${SCRATCH_DIR}")
  file(MAKE_DIRECTORY "${SCRATCH_DIR}")
  file(COPY "${SOURCE_DIR}/sdk/include" DESTINATION "${SCRATCH_DIR}/sdk")

  # expect(<pass|fail> <what> [<text the output must hold>]) [UPDATE]
  function(expect outcome what)
    cmake_parse_arguments(E "UPDATE" "" "" ${ARGN})
    set(extra "")
    if(E_UPDATE)
      set(extra "-DUPDATE=ON")
    endif()
    execute_process(
      COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${SCRATCH_DIR} ${extra} -P ${CMAKE_CURRENT_LIST_FILE}
      RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(outcome STREQUAL "pass" AND NOT status EQUAL 0)
      message(FATAL_ERROR "self-test: ${what}: the check failed, and should pass:\n${out}")
    elseif(outcome STREQUAL "fail" AND status EQUAL 0)
      message(FATAL_ERROR "self-test: ${what}: the check passed, and should fail:\n${out}")
    endif()
    foreach(text IN LISTS E_UNPARSED_ARGUMENTS)
      string(FIND "${out}" "${text}" at)
      if(at EQUAL -1)
        message(FATAL_ERROR "self-test: ${what}: the output lacks \"${text}\":\n${out}")
      endif()
    endforeach()
    message(STATUS "self-test: ${what}: the check ${outcome}ed, as it should")
  endfunction()

  set(plugin_hpp "${SCRATCH_DIR}/sdk/include/relais/plugin.hpp")
  expect(fail "no lock" "sdk/abi.lock")
  expect(pass "writing the lock" UPDATE)
  expect(pass "unchanged headers")
  file(APPEND "${SCRATCH_DIR}/sdk/include/relais/post.hpp" "// a change\n")
  expect(fail "a header changed" "sdk/include changed: bump RELAIS_SDK_ABI" "`${update_command}`")
  expect(pass "the lock rewritten" UPDATE)
  file(WRITE "${SCRATCH_DIR}/sdk/include/relais/extra.hpp" "#pragma once\n")
  expect(fail "a header added" "sdk/include changed")
  expect(pass "the lock rewritten" UPDATE)
  file(REMOVE "${SCRATCH_DIR}/sdk/include/relais/extra.hpp")
  expect(fail "a header removed" "sdk/include changed")
  expect(pass "the lock rewritten" UPDATE)
  file(RENAME "${SCRATCH_DIR}/sdk/include/relais/sink.hpp" "${SCRATCH_DIR}/sdk/include/relais/sinks.hpp")
  expect(fail "a header renamed" "sdk/include changed")
  file(RENAME "${SCRATCH_DIR}/sdk/include/relais/sinks.hpp" "${SCRATCH_DIR}/sdk/include/relais/sink.hpp")
  expect(pass "the header renamed back")
  file(WRITE "${SCRATCH_DIR}/sdk/include/relais/.plugin.hpp.swp" "an editor's\n")
  expect(pass "a hidden file")
  file(READ "${plugin_hpp}" text)
  string(REGEX MATCH "#define RELAIS_SDK_ABI ([0-9]+)" _ "${text}")
  math(EXPR bumped "${CMAKE_MATCH_1} + 1")
  string(REGEX REPLACE "#define RELAIS_SDK_ABI [0-9]+" "#define RELAIS_SDK_ABI ${bumped}" text "${text}")
  file(WRITE "${plugin_hpp}" "${text}")
  expect(fail "the ABI number bumped, the lock not rewritten" "defines RELAIS_SDK_ABI ${bumped}"
         "`${update_command}`")
  expect(pass "the lock rewritten" UPDATE)
  file(STRINGS "${SCRATCH_DIR}/sdk/abi.lock" lock_lines)
  list(GET lock_lines 0 first)
  if(NOT first STREQUAL "abi = ${bumped}")
    message(FATAL_ERROR "self-test: the rewritten lock says \"${first}\", not \"abi = ${bumped}\"")
  endif()
  return()
endif()

# --- The ABI number and the hash of the headers -----------------------------
file(STRINGS "${headers_dir}/plugin.hpp" abi_lines REGEX "^#define[ \t]+RELAIS_SDK_ABI[ \t]")
list(LENGTH abi_lines abi_line_count)
if(NOT abi_line_count EQUAL 1 OR NOT abi_lines MATCHES "^#define[ \t]+RELAIS_SDK_ABI[ \t]+([0-9]+)[ \t]*$")
  message(FATAL_ERROR
    "${headers_dir}/plugin.hpp must define RELAIS_SDK_ABI once, as `#define RELAIS_SDK_ABI <number>`; "
    "found: ${abi_lines}")
endif()
set(header_abi "${CMAKE_MATCH_1}")

file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${headers_dir}" "${headers_dir}/*")
list(FILTER files EXCLUDE REGEX "(^|/)\\.")
list(SORT files COMPARE STRING CASE SENSITIVE)
set(all "")
foreach(file IN LISTS files)
  file(READ "${headers_dir}/${file}" content)
  string(APPEND all "${file}\n${content}")
endforeach()
string(SHA256 header_hash "${all}")

# --- The lock -----------------------------------------------------------------
set(lock_abi "")
set(lock_hash "")
if(EXISTS "${lock_file}")
  file(STRINGS "${lock_file}" lock_lines)
  foreach(line IN LISTS lock_lines)
    if(line MATCHES "^abi = ([0-9]+)$")
      set(lock_abi "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^sha256 = ([0-9a-f]+)$")
      set(lock_hash "${CMAKE_MATCH_1}")
    endif()
  endforeach()
endif()

if(UPDATE)
  file(WRITE "${lock_file}" "abi = ${header_abi}\nsha256 = ${header_hash}\n")
  message(STATUS "wrote ${lock_file}: abi = ${header_abi}, sha256 = ${header_hash}")
  if(lock_abi STREQUAL header_abi AND NOT lock_hash STREQUAL header_hash)
    message(WARNING
      "The headers changed and RELAIS_SDK_ABI stayed ${header_abi}: right only if nothing that "
      "crosses the plugin boundary changed (a comment, say). Otherwise bump it and run this again.")
  endif()
  return()
endif()

if(lock_abi STREQUAL "" OR lock_hash STREQUAL "")
  message(FATAL_ERROR
    "${lock_file} is missing or is not `abi = <number>` and `sha256 = <hash>`: run\n"
    "  `${update_command}`\n"
    "to write it")
endif()
if(NOT lock_abi STREQUAL header_abi)
  message(FATAL_ERROR
    "sdk/abi.lock is for RELAIS_SDK_ABI ${lock_abi}, but sdk/include/relais/plugin.hpp defines "
    "RELAIS_SDK_ABI ${header_abi}: run\n"
    "  `${update_command}`\n"
    "to rewrite sdk/abi.lock")
endif()
if(NOT lock_hash STREQUAL header_hash)
  message(FATAL_ERROR
    "sdk/include changed: bump RELAIS_SDK_ABI in sdk/include/relais/plugin.hpp and run\n"
    "  `${update_command}`\n"
    "to rewrite sdk/abi.lock.\n"
    "RELAIS_SDK_ABI is ${header_abi}; the hashes of sdk/include/relais/:\n"
    "  in sdk/abi.lock  ${lock_hash}\n"
    "  now              ${header_hash}")
endif()
message(STATUS "sdk/abi.lock matches sdk/include/relais/ (RELAIS_SDK_ABI ${header_abi})")
