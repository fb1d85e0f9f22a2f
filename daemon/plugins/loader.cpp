#include "plugins/loader.hpp"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <vector>

#define BOOST_DLL_USE_STD_FS
#include <boost/dll/shared_library.hpp>

namespace relais::daemon {
namespace {

constexpr std::size_t kMaxStampBytes = 512;

Error refused(const std::string& plugin, const std::filesystem::path& file, const std::string& reason) {
  return Error{"plugin", "plugin " + plugin + " (" + file.string() + "): " + reason, plugin};
}

template <class T>
bool read_at(std::ifstream& in, std::uint64_t offset, T& out) {
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(&out), sizeof out);
  return static_cast<bool>(in);
}

class LoadedLibrary final : public PluginLibrary {
 public:
  LoadedLibrary(boost::dll::shared_library library, const PluginDescriptor& descriptor,
                std::filesystem::path file)
      : library_(std::move(library)), descriptor_(descriptor), file_(std::move(file)) {}

  const PluginDescriptor& descriptor() const noexcept override { return descriptor_; }
  const std::filesystem::path& file() const noexcept override { return file_; }

 private:
  boost::dll::shared_library library_;
  const PluginDescriptor& descriptor_;
  std::filesystem::path file_;
};

bool one_factory_of_its_kind(const PluginDescriptor& d) {
  const int set = static_cast<int>(d.source != nullptr) + static_cast<int>(d.moderator != nullptr) +
                  static_cast<int>(d.triager != nullptr) + static_cast<int>(d.sink != nullptr);
  if (set != 1) return false;
  switch (d.kind) {
    case PluginKind::source:
      return d.source != nullptr;
    case PluginKind::moderator:
      return d.moderator != nullptr;
    case PluginKind::triager:
      return d.triager != nullptr;
    case PluginKind::sink:
      return d.sink != nullptr;
  }
  return false;
}

}  // namespace

std::string_view host_abi_stamp() noexcept { return RELAIS_ABI_STAMP; }

Expected<std::string> read_abi_stamp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  // An ifstream does not say why; with the file known to exist, it is
  // usually its permissions.
  if (!in) return Error{"plugin", "cannot open the file for reading", ""};
  Elf64_Ehdr header{};
  if (!read_at(in, 0, header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    return Error{"plugin", "not an ELF file", ""};
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN) {
    return Error{"plugin", "not a 64-bit shared library", ""};
  }
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shstrndx >= header.e_shnum) {
    return Error{"plugin", "the file's section table is damaged", ""};
  }
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (!read_at(in, header.e_shoff + i * sizeof(Elf64_Shdr), sections[i])) {
      return Error{"plugin", "the file's section table is damaged", ""};
    }
  }
  const auto& names = sections[header.e_shstrndx];
  for (const auto& s : sections) {
    if (s.sh_name >= names.sh_size) continue;
    char name[sizeof RELAIS_PLUGIN_ABI_SECTION] = {};
    in.clear();
    in.seekg(static_cast<std::streamoff>(names.sh_offset + s.sh_name));
    in.read(name, sizeof name);
    if (!in || std::memcmp(name, RELAIS_PLUGIN_ABI_SECTION, sizeof name) != 0) continue;
    if (s.sh_type != SHT_PROGBITS || s.sh_size == 0 || s.sh_size > kMaxStampBytes) {
      return Error{"plugin", "its " RELAIS_PLUGIN_ABI_SECTION " section is not an ABI stamp", ""};
    }
    std::string stamp(s.sh_size, '\0');
    in.seekg(static_cast<std::streamoff>(s.sh_offset));
    in.read(stamp.data(), static_cast<std::streamsize>(stamp.size()));
    if (!in) return Error{"plugin", "its ABI stamp cannot be read", ""};
    stamp.resize(std::strlen(stamp.c_str()));
    return stamp;
  }
  return Error{"plugin",
               "no ABI stamp (no " RELAIS_PLUGIN_ABI_SECTION
               " section): not a relais plugin, or not built with a RELAIS_*_PLUGIN macro",
               ""};
}

Expected<std::shared_ptr<const PluginLibrary>> load_plugin(const std::string& wanted,
                                                           const std::filesystem::path& file) {
  std::error_code exists_error;
  if (!std::filesystem::exists(file, exists_error)) return refused(wanted, file, "no such file");
  auto stamp = read_abi_stamp(file);
  if (!stamp) return refused(wanted, file, stamp.error().message);
  if (*stamp != host_abi_stamp()) {
    return refused(wanted, file,
                   "built for another ABI: the plugin has \"" + *stamp + "\", this relaisd \"" +
                       std::string(host_abi_stamp()) + "\"; rebuild the plugin against this SDK");
  }

  boost::dll::fs::error_code ec;
  boost::dll::shared_library library(file, ec,
                                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (ec) {
    // dlerror() says which symbol or library is missing; plugins are loaded
    // from the event loop's thread only.
    const char* why = dlerror();  // NOLINT(concurrency-mt-unsafe)
    return refused(wanted, file, "cannot load: " + (why != nullptr ? std::string(why) : ec.message()));
  }
  if (!library.has(RELAIS_PLUGIN_SYMBOL_NAME)) {
    return refused(wanted, file, "it exports no " RELAIS_PLUGIN_SYMBOL_NAME " descriptor");
  }
  const auto& descriptor = library.get<const PluginDescriptor>(RELAIS_PLUGIN_SYMBOL_NAME);
  if (descriptor.abi == nullptr || host_abi_stamp() != descriptor.abi) {
    return refused(wanted, file, "its descriptor's ABI stamp differs from its section's");
  }
  if (descriptor.name == nullptr || wanted != descriptor.name) {
    return refused(
        wanted, file,
        "the file holds plugin \"" + std::string(descriptor.name != nullptr ? descriptor.name : "") + "\"");
  }
  if (!one_factory_of_its_kind(descriptor)) {
    return refused(wanted, file, "its descriptor must give exactly one factory, of its own kind");
  }
  return std::shared_ptr<const PluginLibrary>(
      std::make_shared<LoadedLibrary>(std::move(library), descriptor, file));
}

}  // namespace relais::daemon
