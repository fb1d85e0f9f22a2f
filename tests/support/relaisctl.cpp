#include "support/relaisctl.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace relais::test {

std::string relaisctl_path() { return (bin_dir() / "daemon" / "relaisctl").string(); }
std::string relaisd_path() { return (bin_dir() / "daemon" / "relaisd").string(); }

RunResult relaisctl(const std::filesystem::path& state, std::vector<std::string> args,
                    const std::string& input, int timeout_ms) {
  args.insert(args.begin(),
              {relaisctl_path(), "--state-dir", state.string(), "--timeout-ms", std::to_string(timeout_ms)});
  return run(args, input);
}

boost::json::value relaisctl_json(const std::filesystem::path& state, std::vector<std::string> args,
                                  int timeout_ms) {
  args.insert(args.begin(), "--json");
  const auto r = relaisctl(state, std::move(args), "", timeout_ms);
  EXPECT_EQ(r.status, 0) << r.output;
  boost::system::error_code ec;
  auto v = boost::json::parse(r.output, ec);
  EXPECT_FALSE(ec) << r.output;
  return ec || r.status != 0 ? boost::json::value() : v;
}

}  // namespace relais::test
