#include "files.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <system_error>
#include <utility>

namespace relais::files {
namespace {

namespace fs = std::filesystem;

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

fs::path base_directory(const ConfigTable& table) { return fs::path(table.config_file()).parent_path(); }

Expected<std::vector<fs::path>> files_of(const ConfigTable& table, std::string_view key, const fs::path& base,
                                         const std::string& entry) {
  const fs::path path = (base / entry).lexically_normal();
  if (has_wildcard(fs::path(entry).parent_path().string())) {
    return table.error(key, "\"" + entry + "\": wildcards are allowed in the file name only");
  }
  if (!has_wildcard(path.filename().string())) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      return table.error(key, "\"" + entry + "\": no such file: " + path.string());
    return std::vector<fs::path>{path};
  }
  std::vector<fs::path> out;
  std::error_code ec;
  const std::string pattern = path.filename().string();
  for (fs::directory_iterator it(path.parent_path().empty() ? fs::path(".") : path.parent_path(), ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0 && it->is_regular_file(type_ec)) {
      out.push_back(path.parent_path() / name);
    }
  }
  if (ec) {
    return table.error(key,
                       "\"" + entry + "\": cannot read " + path.parent_path().string() + ": " + ec.message());
  }
  if (out.empty()) return table.error(key, "\"" + entry + "\": matches no file");
  std::sort(out.begin(), out.end());
  return out;
}

Expected<std::vector<fs::path>> expand(const ConfigTable& table, std::string_view key,
                                       const std::vector<std::string>& entries) {
  const fs::path base = base_directory(table);
  std::vector<fs::path> files;
  std::set<fs::path> seen;
  for (const auto& entry : entries) {
    auto matched = files_of(table, key, base, entry);
    if (!matched) return matched.error();
    for (auto& file : *matched) {
      std::error_code ec;
      const fs::path canonical = fs::weakly_canonical(file, ec);
      if (seen.insert(ec ? file : canonical).second) files.push_back(std::move(file));
    }
  }
  return files;
}

}  // namespace relais::files
