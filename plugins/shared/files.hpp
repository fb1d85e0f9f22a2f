// files: the files a plugin's table names, as moderate_rules' `rules` and
// triage_lexicon's `lexicons` do: relative to the directory of the config
// file that holds the table, with wildcards in the file name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "relais/config_table.hpp"
#include "relais/expected.hpp"

namespace relais::files {

// The directory that relative paths of `table` are relative to: that of the
// config file holding it.
std::filesystem::path base_directory(const ConfigTable& table);

// The files of one entry of `key`: a file, or a wildcard (`*`, `?`, `[...]`)
// in the file name, matching files sorted by name, hidden files only when
// the pattern says so. Errors name `key` with the table's position.
Expected<std::vector<std::filesystem::path>> files_of(const ConfigTable& table, std::string_view key,
                                                      const std::filesystem::path& base,
                                                      const std::string& entry);

// Every file of every entry, in entry order; a file named twice (by a
// wildcard too) comes once, where it was first named.
Expected<std::vector<std::filesystem::path>> expand(const ConfigTable& table, std::string_view key,
                                                    const std::vector<std::string>& entries);

}  // namespace relais::files
