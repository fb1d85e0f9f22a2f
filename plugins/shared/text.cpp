#include "text.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace relais::text {
namespace {

// NFKC with case folding, then a decomposition whose combining marks are
// dropped: what is left of "É" is "e".
struct Normalizers {
  const icu::Normalizer2* nfkc_cf = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  Normalizers() {
    UErrorCode status = U_ZERO_ERROR;
    nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
    nfd = icu::Normalizer2::getNFDInstance(status);
    if (U_FAILURE(status)) nfkc_cf = nfd = nullptr;
  }
};

// ASCII letters and digits, as std::isalnum says in every locale, without a
// call per byte: words() runs over every byte of every post.
constexpr std::array<bool, 0x80> kAsciiAlnum = [] {
  std::array<bool, 0x80> table{};
  for (unsigned c = 0; c < 0x80; ++c) {
    table[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
  return table;
}();

const Normalizers& normalizers() {
  static const Normalizers instance;
  return instance;
}

void append_utf8(std::string& out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  std::int32_t n = 0;
  UBool error = false;
  U8_APPEND(buf, n, U8_MAX_LENGTH, c, error);
  if (!error) out.append(buf, static_cast<std::size_t>(n));
}

// What normalize() makes of a code point depends on that code point alone,
// and ICU spends thousands of instructions on it (two normalisations through
// UnicodeStrings): every post of a French network has a dozen accented
// letters and typographic apostrophes. So each code point's form is worked
// out once per process, a block of them at a time, on first use. A block
// never changes once published, so readers take no lock.
class CodePointForms {
 public:
  CodePointForms() = default;
  CodePointForms(const CodePointForms&) = delete;
  CodePointForms& operator=(const CodePointForms&) = delete;
  // The plugin may be unloaded and loaded again (a reload): nothing leaks.
  ~CodePointForms() {
    for (auto& block : blocks_) delete block.load(std::memory_order_relaxed);
  }

  std::string_view of(const Normalizers& n, UChar32 c) {
    const auto b = static_cast<std::size_t>(c) >> kBlockBits;
    const Block* block = blocks_[b].load(std::memory_order_acquire);
    if (block == nullptr) block = make(n, b);
    const auto i = static_cast<std::size_t>(c) & (kBlockSize - 1);
    return std::string_view(block->bytes)
        .substr(block->offsets[i], block->offsets[i + 1] - block->offsets[i]);
  }

 private:
  static constexpr std::size_t kBlockBits = 7;
  static constexpr std::size_t kBlockSize = std::size_t{1} << kBlockBits;
  static constexpr std::size_t kBlocks = (std::size_t{0x10FFFF} >> kBlockBits) + 1;

  struct Block {
    std::array<std::uint32_t, kBlockSize + 1> offsets{};
    std::string bytes;
  };

  const Block* make(const Normalizers& n, std::size_t b) {
    const std::lock_guard lock(mutex_);
    if (const Block* done = blocks_[b].load(std::memory_order_acquire); done != nullptr) return done;
    auto* block = new Block;
    for (std::size_t k = 0; k < kBlockSize; ++k) {
      block->offsets[k] = static_cast<std::uint32_t>(block->bytes.size());
      const auto c = static_cast<UChar32>((b << kBlockBits) | k);
      UErrorCode status = U_ZERO_ERROR;
      icu::UnicodeString folded = n.nfkc_cf->normalize(icu::UnicodeString(c), status);
      icu::UnicodeString decomposed = n.nfd->normalize(folded, status);
      if (U_FAILURE(status)) decomposed = icu::UnicodeString(c);
      for (std::int32_t at = 0; at < decomposed.length();) {
        const UChar32 d = decomposed.char32At(at);
        at += U16_LENGTH(d);
        if (u_charType(d) == U_NON_SPACING_MARK) continue;
        append_utf8(block->bytes, d);
      }
    }
    block->offsets[kBlockSize] = static_cast<std::uint32_t>(block->bytes.size());
    blocks_[b].store(block, std::memory_order_release);
    return block;
  }

  std::array<std::atomic<const Block*>, kBlocks> blocks_{};
  std::mutex mutex_;
};

CodePointForms& forms() {
  static CodePointForms instance;
  return instance;
}

}  // namespace

Normalized normalize(std::string_view utf8) {
  Normalized out;
  normalize(utf8, out);
  return out;
}

void normalize(std::string_view utf8, Normalized& out) {
  // Written through an index into buffers the size of the input, grown in
  // the rare case that forms come out longer than their UTF-8 (ligatures,
  // "ß"): appending byte by byte costs several times more.
  std::string& text = out.text;
  auto& origin = out.origin;
  text.resize(utf8.size());
  origin.resize(utf8.size());
  std::size_t w = 0;
  const auto room_for = [&](std::size_t n) {
    if (w + n <= text.size()) return;
    const std::size_t size = std::max(text.size() * 2, w + n);
    text.resize(size);
    origin.resize(size);
  };
  const auto& n = normalizers();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(utf8.data());
  const auto length = static_cast<std::int32_t>(utf8.size());
  for (std::int32_t i = 0; i < length;) {
    const auto begin = static_cast<std::uint32_t>(i);
    // ASCII, nearly all of a French or English post: folded here, a whole
    // run at a time.
    if (bytes[i] < 0x80) {
      std::int32_t end = i + 1;
      while (end < length && bytes[end] < 0x80) ++end;
      const auto run = static_cast<std::size_t>(end - i);
      room_for(run);
      char* t = text.data() + w;
      auto* o = origin.data() + w;
      for (std::size_t k = 0; k < run; ++k) {
        const auto c = static_cast<char>(bytes[begin + k]);
        t[k] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        o[k] = {static_cast<std::uint32_t>(begin + k), static_cast<std::uint32_t>(begin + k + 1)};
      }
      w += run;
      i = end;
      continue;
    }
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    const auto end = static_cast<std::uint32_t>(i);
    char buf[U8_MAX_LENGTH];
    std::string_view form;
    if (c < 0 || n.nfkc_cf == nullptr) {
      std::int32_t size = 0;
      UBool error = false;
      U8_APPEND(buf, size, U8_MAX_LENGTH, c < 0 ? 0xFFFD : c, error);
      if (!error) form = std::string_view(buf, static_cast<std::size_t>(size));
    } else {
      form = forms().of(n, c);
    }
    room_for(form.size());
    std::copy(form.begin(), form.end(), text.begin() + static_cast<std::ptrdiff_t>(w));
    std::fill_n(origin.begin() + static_cast<std::ptrdiff_t>(w), form.size(), std::make_pair(begin, end));
    w += form.size();
  }
  text.resize(w);
  origin.resize(w);
}

std::vector<std::string_view> words(std::string_view normalized) {
  std::vector<std::string_view> out;
  words(normalized, out);
  return out;
}

void words(std::string_view normalized, std::vector<std::string_view>& out) {
  out.clear();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(normalized.data());
  const auto length = static_cast<std::int32_t>(normalized.size());
  std::int32_t i = 0;
  std::int32_t start = -1;
  while (i < length) {
    const std::int32_t at = i;
    bool word_char = false;
    if (bytes[i] < 0x80) {
      word_char = kAsciiAlnum[bytes[i]];
      ++i;
    } else {
      UChar32 c = 0;
      U8_NEXT(bytes, i, length, c);
      word_char = c >= 0 && u_isalnum(c) != 0;
    }
    if (word_char && start < 0) start = at;
    if (!word_char && start >= 0) {
      out.push_back(normalized.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(at - start)));
      start = -1;
    }
  }
  if (start >= 0) out.push_back(normalized.substr(static_cast<std::size_t>(start)));
}

}  // namespace relais::text
