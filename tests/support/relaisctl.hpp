// relaisctl from tests: the build's binary run against a relaisd's state
// directory, its output as text or, with --json, parsed.
#pragma once

#include <boost/json/value.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace relais::test {

std::string relaisctl_path();
std::string relaisd_path();

// relaisctl --state-dir STATE --timeout-ms TIMEOUT ARGS..., fed `input`.
RunResult relaisctl(const std::filesystem::path& state, std::vector<std::string> args,
                    const std::string& input = "", int timeout_ms = 5000);

// The same with --json, expected to succeed: its answer, or null (with a
// test failure saying why).
boost::json::value relaisctl_json(const std::filesystem::path& state, std::vector<std::string> args,
                                  int timeout_ms = 5000);

}  // namespace relais::test
