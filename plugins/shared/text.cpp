#include "text.hpp"

#include <array>

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

}  // namespace

Normalized normalize(std::string_view utf8) {
  Normalized out;
  out.text.reserve(utf8.size());
  out.origin.reserve(utf8.size());
  const auto& n = normalizers();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(utf8.data());
  const auto length = static_cast<std::int32_t>(utf8.size());
  for (std::int32_t i = 0; i < length;) {
    const auto begin = static_cast<std::uint32_t>(i);
    // ASCII, nearly all of a French or English post: folded here.
    if (bytes[i] < 0x80) {
      char c = static_cast<char>(bytes[i]);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.text.push_back(c);
      out.origin.emplace_back(begin, begin + 1);
      ++i;
      continue;
    }
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    const auto end = static_cast<std::uint32_t>(i);
    if (c < 0) {
      append_utf8(out.text, 0xFFFD);
    } else if (n.nfkc_cf == nullptr) {
      append_utf8(out.text, c);
    } else {
      UErrorCode status = U_ZERO_ERROR;
      icu::UnicodeString folded = n.nfkc_cf->normalize(icu::UnicodeString(c), status);
      icu::UnicodeString decomposed = n.nfd->normalize(folded, status);
      if (U_FAILURE(status)) decomposed = icu::UnicodeString(c);
      for (std::int32_t k = 0; k < decomposed.length();) {
        const UChar32 d = decomposed.char32At(k);
        k += U16_LENGTH(d);
        if (u_charType(d) == U_NON_SPACING_MARK) continue;
        append_utf8(out.text, d);
      }
    }
    out.origin.resize(out.text.size(), {begin, end});
  }
  return out;
}

std::vector<std::string_view> words(std::string_view normalized) {
  std::vector<std::string_view> out;
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
  return out;
}

}  // namespace relais::text
