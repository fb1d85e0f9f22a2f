// scratch: where a benchmark finds the build it belongs to, and the
// temporary directory it keeps its servers' state and logs in.
#pragma once

#include <filesystem>
#include <string>

namespace relais::bench {

// This program's own path (/proc/self/exe).
std::filesystem::path self_exe();
// The build's plugins beside this program: <build>/lib/relais/plugins.
std::filesystem::path build_plugin_dir();

// A fresh directory `prefix`XXXXXX under `parent` (the system's temporary
// directory when empty), removed with everything in it at the end of the
// scope unless `keep`. Throws std::runtime_error when it cannot be made.
class ScratchDir {
 public:
  ScratchDir(const std::string& prefix, const std::filesystem::path& parent = {}, bool keep = false);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool keep_;
};

}  // namespace relais::bench
