#include "scratch.hpp"

#include <stdlib.h>

#include <stdexcept>
#include <system_error>

namespace relais::bench {

namespace fs = std::filesystem;

fs::path self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
  return p;
}

fs::path build_plugin_dir() { return self_exe().parent_path().parent_path() / "lib" / "relais" / "plugins"; }

ScratchDir::ScratchDir(const std::string& prefix, const fs::path& parent, bool keep) : keep_(keep) {
  const fs::path in = parent.empty() ? fs::temp_directory_path() : parent;
  std::string name = (in / (prefix + "XXXXXX")).string();
  if (::mkdtemp(name.data()) == nullptr) {
    throw std::runtime_error("cannot create a directory in " + in.string() + ": " +
                             std::generic_category().message(errno));
  }
  path_ = name;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!keep_) fs::remove_all(path_, ec);
}

}  // namespace relais::bench
