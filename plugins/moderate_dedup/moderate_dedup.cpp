// moderate_dedup: the same need posted again, on any channel, within a
// window of time. In 2020 one need went to five groups and was answered
// twice or not at all; a repeat is linked to the first post of its group and
// (by default) rejected, so that it is not routed again.
//
// Exact repeats are found by a hash of the normalised words. Reworded ones
// by MinHash over character shingles: a repeat keeps the names, numbers and
// places of the first post but changes greetings, word order and spelling,
// which word n-grams miss and 5-character shingles keep. The window is
// scanned linearly, first over one byte of each value, which rules out
// exactly the rows that cannot reach a threshold: see the README for why
// that beats an LSH index here.
//
// Only signatures are kept (hashes, never text): in memory, and in SQLite in
// the state directory so that a restart or a reload keeps the window.
#include <sqlite3.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define RELAIS_DEDUP_X86 1
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "clock.hpp"
#include "relais/plugin.hpp"
#include "table.hpp"
#include "text.hpp"

namespace {

using relais::ConfigTable;
using relais::Expected;
using relais::Finding;
using relais::LogLevel;
using relais::Post;
using relais::timestamp::Millis;

// The signature scheme. Persisted signatures are only comparable under the
// same one: any change here bumps kFormat, and a file of another format is
// started afresh (it is a cache).
constexpr std::size_t kHashes = 128;  // estimate error about 0.04 at similarity 0.3
constexpr std::size_t kShingle = 5;   // code points, across word boundaries
constexpr int kFormat = 1;

using Signature = std::array<std::uint32_t, kHashes>;

struct DedupConfig final : relais::PluginConfig {
  double window_hours = 72.0;
  std::int64_t min_words = 8;
  // DUPLICATE: the same words.
  std::optional<relais::Action> action = relais::Action::reject;
  double score = 0.0;
  // NEAR_DUPLICATE: similar enough to be the same need.
  double threshold = 0.5;
  std::optional<double> same_sender_threshold;  // replaces `threshold` for the same sender
  std::optional<relais::Action> near_action = relais::Action::reject;
  double near_score = 0.0;
  // POSSIBLE_DUPLICATE: below `threshold`, for a person to compare.
  double possible_threshold = 0.25;
  std::optional<relais::Action> possible_action = relais::Action::hold;
  double possible_score = 0.0;
  std::string database = "moderate_dedup.db";  // empty: memory only
  std::int64_t max_entries = 20000;
};

// ---------------------------------------------------------------- hashing

// Stable across builds and machines, unlike std::hash: signatures outlive
// the process.
constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// kHashes multiply-add-shift hash functions over a mixed 64-bit shingle
// hash: h_i(x) = (a_i x + b_i) >> 32, a_i odd.
struct Permutations {
  std::array<std::uint64_t, kHashes> a{};
  std::array<std::uint64_t, kHashes> b{};
};

constexpr Permutations make_permutations() {
  Permutations p;
  std::uint64_t state = 0x72656c616973ULL;  // "relais"
  for (std::size_t i = 0; i < kHashes; ++i) {
    state += 0x9e3779b97f4a7c15ULL;
    p.a[i] = mix64(state) | 1U;
    state += 0x9e3779b97f4a7c15ULL;
    p.b[i] = mix64(state);
  }
  return p;
}

constexpr Permutations kPermutations = make_permutations();

// Greetings, thanks and sign-offs say nothing of the need: dropped before
// shingling, so that two different needs that both open with "Bonjour" and
// close with "Merci" grow no closer, and the same need under another
// greeting stays close. Normalised forms (lowercase, no accents).
constexpr std::array<std::string_view, 25> kGreetings = {
    "bonjour", "bonsoir",      "rebonjour",   "salut",  "coucou",   "hello",    "hi",     "hey",   "merci",
    "avance",  "cordialement", "amicalement", "bisous", "svp",      "stp",      "thanks", "thank", "please",
    "regards", "cheers",       "ola",         "hola",   "obrigado", "obrigada", "gracias"};

bool is_greeting(std::string_view w) {
  return std::find(kGreetings.begin(), kGreetings.end(), w) != kGreetings.end();
}

void minhash_scalar(const std::vector<std::uint64_t>& shingles, Signature& out) {
  out.fill(UINT32_MAX);
  for (const std::uint64_t x : shingles) {
    for (std::size_t k = 0; k < kHashes; ++k) {
      const auto h = static_cast<std::uint32_t>((kPermutations.a[k] * x + kPermutations.b[k]) >> 32U);
      out[k] = std::min(out[k], h);
    }
  }
}

#ifdef RELAIS_DEDUP_X86
// Bits 32-63 of a*x + b in each 64-bit lane (ah = a >> 32, xh = x >> 32).
// AVX2 has no 64-bit multiply, but these bits need only three 32x32
// products: (a*x) mod 2^64 = al*xl + (ah*xl + al*xh) * 2^32.
__attribute__((target("avx2"))) inline __m256i hash4(__m256i a, __m256i ah, __m256i b, __m256i x,
                                                     __m256i xh) {
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(ah, x), _mm256_mul_epu32(a, xh));
  const __m256i product = _mm256_add_epi64(_mm256_mul_epu32(a, x), _mm256_slli_epi64(cross, 32));
  return _mm256_srli_epi64(_mm256_add_epi64(product, b), 32);
}

// The same values as minhash_scalar(), 4 functions per register; eight
// functions at a time over every shingle keep the minima in registers.
__attribute__((target("avx2"))) void minhash_avx2(const std::vector<std::uint64_t>& shingles,
                                                  Signature& out) {
  constexpr std::size_t kLanes = 4;
  const __m256i initial = _mm256_set1_epi64x(UINT32_MAX);
  for (std::size_t k = 0; k < kHashes; k += 2 * kLanes) {
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kPermutations.a.data() + k));
    const __m256i a1 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kPermutations.a.data() + k + kLanes));
    const __m256i ah0 = _mm256_srli_epi64(a0, 32);
    const __m256i ah1 = _mm256_srli_epi64(a1, 32);
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kPermutations.b.data() + k));
    const __m256i b1 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kPermutations.b.data() + k + kLanes));
    __m256i min0 = initial;
    __m256i min1 = initial;
    for (const std::uint64_t value : shingles) {
      const __m256i x = _mm256_set1_epi64x(static_cast<long long>(value));
      const __m256i xh = _mm256_srli_epi64(x, 32);
      // Each 64-bit lane holds a value below 2^32: the 32-bit minimum of its
      // halves is the minimum of the lane.
      min0 = _mm256_min_epu32(min0, hash4(a0, ah0, b0, x, xh));
      min1 = _mm256_min_epu32(min1, hash4(a1, ah1, b1, x, xh));
    }
    alignas(32) std::array<std::uint64_t, 2 * kLanes> mins{};
    _mm256_store_si256(reinterpret_cast<__m256i*>(mins.data()), min0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(mins.data() + kLanes), min1);
    for (std::size_t j = 0; j < 2 * kLanes; ++j) out[k + j] = static_cast<std::uint32_t>(mins[j]);
  }
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") != 0;
  return yes;
}
#endif

// The minimum of each hash function over the shingles (all UINT32_MAX for
// none, which never happens: a text has at least one shingle).
void minhash_of(const std::vector<std::uint64_t>& shingles, Signature& out) {
#ifdef RELAIS_DEDUP_X86
  if (has_avx2()) {
    minhash_avx2(shingles, out);
    return;
  }
#endif
  minhash_scalar(shingles, out);
}

struct Features {
  std::uint64_t exact = 0;
  Signature minhash{};
};

// Nothing for a text of fewer than `min_words` words besides greetings: on
// "merci !" or "ok pour moi" everything looks alike.
std::optional<Features> features_of(const Post& post, std::size_t min_words) {
  std::string full = post.subject.value_or("");
  full += '\n';
  full += post.text;
  const auto normalized = relais::text::normalize(full);
  const auto words = relais::text::words(normalized.text);

  Features f;
  std::string kept;
  std::size_t count = 0;
  std::uint64_t exact = 0xcbf29ce484222325ULL;
  for (const auto w : words) {
    exact = fnv1a(w, exact);
    exact = fnv1a(" ", exact);
    if (is_greeting(w)) continue;
    if (!kept.empty()) kept += ' ';
    kept += w;
    ++count;
  }
  if (count < min_words || count == 0) return std::nullopt;
  f.exact = mix64(exact);

  // Shingles of kShingle code points, not bytes: a Cyrillic or Arabic post
  // gets shingles of the same reach as a French one.
  std::vector<std::size_t> starts;
  starts.reserve(kept.size() + 1);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if ((static_cast<unsigned char>(kept[i]) & 0xC0U) != 0x80U) starts.push_back(i);
  }
  const std::size_t points = starts.size();
  starts.push_back(kept.size());
  const std::size_t n = points > kShingle ? points - kShingle + 1 : 1;
  std::vector<std::uint64_t> shingles(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t end = starts[std::min(i + kShingle, points)];
    shingles[i] = mix64(fnv1a(std::string_view(kept).substr(starts[i], end - starts[i])));
  }
  minhash_of(shingles, f.minhash);
  return f;
}

// The share of equal minima: an unbiased estimate of the Jaccard similarity
// of the two shingle sets.
double similarity(const std::uint32_t* a, const Signature& b) {
  unsigned equal = 0;
  for (std::size_t k = 0; k < kHashes; ++k) equal += static_cast<unsigned>(a[k] == b[k]);
  return static_cast<double>(equal) / static_cast<double>(kHashes);
}

// ---------------------------------------------------------------- window

struct Entry {
  std::int64_t post_id = 0;
  std::int64_t root_id = 0;  // the first post of its group
  std::int64_t at = 0;       // ms since the epoch
  std::uint64_t exact = 0;
  std::uint64_t sender = 0;  // salted hash of (source, sender); 0: none
  std::string channel;
  Signature minhash{};
};

std::string blob_of(const Signature& s) {
  std::string out(kHashes * 4, '\0');
  for (std::size_t k = 0; k < kHashes; ++k) {
    for (std::size_t b = 0; b < 4; ++b) out[k * 4 + b] = static_cast<char>((s[k] >> (8 * b)) & 0xFFU);
  }
  return out;
}

bool signature_of(const void* blob, int bytes, Signature& s) {
  if (blob == nullptr || bytes != static_cast<int>(kHashes * 4)) return false;
  const auto* p = static_cast<const unsigned char*>(blob);
  for (std::size_t k = 0; k < kHashes; ++k) {
    s[k] = static_cast<std::uint32_t>(p[k * 4]) | static_cast<std::uint32_t>(p[k * 4 + 1]) << 8U |
           static_cast<std::uint32_t>(p[k * 4 + 2]) << 16U | static_cast<std::uint32_t>(p[k * 4 + 3]) << 24U;
  }
  return true;
}

// The lowest byte of each value of a signature: equal values have equal
// bytes, so the number of equal bytes bounds the number of equal values
// from above, and a row whose bytes cannot reach a threshold is skipped
// without reading its values. The low byte, because minima are small
// numbers whose high bytes are mostly zero.
using Sketch = std::array<std::uint8_t, kHashes>;

Sketch sketch_of(const Signature& s) {
  Sketch out{};
  for (std::size_t k = 0; k < kHashes; ++k) out[k] = static_cast<std::uint8_t>(s[k] & 0xFFU);
  return out;
}

unsigned equal_bytes_scalar(const std::uint8_t* row, const Sketch& q) {
  unsigned equal = 0;
  for (std::size_t k = 0; k < kHashes; ++k) equal += static_cast<unsigned>(row[k] == q[k]);
  return equal;
}

// The rows of `rows` sketches, in order, with at least `need` equal bytes
// or the same exact hash.
[[maybe_unused]] void scan_scalar(const std::uint8_t* sketches, const std::uint64_t* exacts, std::size_t rows,
                                  const Sketch& q, std::uint64_t exact, unsigned need,
                                  std::vector<std::uint32_t>& out) {
  for (std::size_t i = 0; i < rows; ++i) {
    if (equal_bytes_scalar(sketches + i * kHashes, q) >= need || exacts[i] == exact) {
      out.push_back(static_cast<std::uint32_t>(i));
    }
  }
}

#ifdef RELAIS_DEDUP_X86
static_assert(kHashes == 128, "the vector scans read a sketch as 8 (SSE2) or 4 (AVX2) registers");

// SSE2 is part of x86-64: no check needed.
void scan_sse2(const std::uint8_t* sketches, const std::uint64_t* exacts, std::size_t rows, const Sketch& q,
               std::uint64_t exact, unsigned need, std::vector<std::uint32_t>& out) {
  __m128i query[8];  // NOLINT(*-avoid-c-arrays): std::array drops the vector type's alignment attribute
  for (std::size_t v = 0; v < 8; ++v) {
    query[v] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q.data() + 16 * v));
  }
  const __m128i zero = _mm_setzero_si128();
  for (std::size_t i = 0; i < rows; ++i) {
    const auto* row = reinterpret_cast<const __m128i*>(sketches + i * kHashes);
    // Each equal byte counts -1 in its lane: at most 8 per lane.
    __m128i minus = zero;
    for (std::size_t v = 0; v < 8; ++v) {
      minus = _mm_add_epi8(minus, _mm_cmpeq_epi8(_mm_loadu_si128(row + v), query[v]));
    }
    const __m128i sums = _mm_sad_epu8(_mm_sub_epi8(zero, minus), zero);
    const auto equal = static_cast<unsigned>(_mm_cvtsi128_si32(sums) + _mm_extract_epi16(sums, 4));
    if (equal >= need || exacts[i] == exact) out.push_back(static_cast<std::uint32_t>(i));
  }
}

__attribute__((target("avx2"))) void scan_avx2(const std::uint8_t* sketches, const std::uint64_t* exacts,
                                               std::size_t rows, const Sketch& q, std::uint64_t exact,
                                               unsigned need, std::vector<std::uint32_t>& out) {
  __m256i query[4];  // NOLINT(*-avoid-c-arrays): as in scan_sse2()
  for (std::size_t v = 0; v < 4; ++v) {
    query[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.data() + 32 * v));
  }
  const __m256i zero = _mm256_setzero_si256();
  for (std::size_t i = 0; i < rows; ++i) {
    const auto* row = reinterpret_cast<const __m256i*>(sketches + i * kHashes);
    __m256i minus = zero;
    for (std::size_t v = 0; v < 4; ++v) {
      minus = _mm256_add_epi8(minus, _mm256_cmpeq_epi8(_mm256_loadu_si256(row + v), query[v]));
    }
    const __m256i sums = _mm256_sad_epu8(_mm256_sub_epi8(zero, minus), zero);
    const __m128i half = _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
    const auto equal = static_cast<unsigned>(_mm_cvtsi128_si32(half) + _mm_extract_epi16(half, 4));
    if (equal >= need || exacts[i] == exact) out.push_back(static_cast<std::uint32_t>(i));
  }
}
#endif

void scan(const std::uint8_t* sketches, const std::uint64_t* exacts, std::size_t rows, const Sketch& q,
          std::uint64_t exact, unsigned need, std::vector<std::uint32_t>& out) {
  out.clear();
#ifdef RELAIS_DEDUP_X86
  if (has_avx2()) {
    scan_avx2(sketches, exacts, rows, q, exact, need, out);
  } else {
    scan_sse2(sketches, exacts, rows, q, exact, need, out);
  }
#else
  scan_scalar(sketches, exacts, rows, q, exact, need, out);
#endif
}

// The posts of the window, oldest first, as columns: the scan reads every
// row's sketch and exact hash, 136 contiguous bytes, and the rest only of
// the few rows that pass. The front is dropped by moving an offset, and
// the columns compacted once it is an eighth of them: a full window pops a
// row per post, and moving the rest every time would cost more than the
// scan.
class Window {
 public:
  struct Row {
    std::int64_t post_id = 0;
    std::int64_t root_id = 0;
    std::int64_t at = 0;
    std::uint64_t sender = 0;
    std::string channel;
  };

  std::size_t size() const noexcept { return rows_.size() - head_; }
  bool empty() const noexcept { return size() == 0; }
  const Row& row(std::size_t i) const { return rows_[head_ + i]; }
  const std::uint64_t* exacts() const noexcept { return exacts_.data() + head_; }
  const std::uint8_t* sketches() const noexcept { return sketches_.data() + head_ * kHashes; }
  const std::uint32_t* minhash(std::size_t i) const noexcept {
    return minhashes_.data() + (head_ + i) * kHashes;
  }
  // A stored post of this id is in the window.
  bool holds(std::int64_t post_id) const { return ids_.contains(post_id); }

  void push_back(Entry&& e) {
    if (e.post_id != 0) ++ids_[e.post_id];
    exacts_.push_back(e.exact);
    const Sketch sketch = sketch_of(e.minhash);
    sketches_.insert(sketches_.end(), sketch.begin(), sketch.end());
    minhashes_.insert(minhashes_.end(), e.minhash.begin(), e.minhash.end());
    rows_.push_back(Row{e.post_id, e.root_id, e.at, e.sender, std::move(e.channel)});
  }

  void pop_front() {
    const std::int64_t id = rows_[head_].post_id;
    if (id != 0) {
      if (auto it = ids_.find(id); it != ids_.end() && --it->second == 0) ids_.erase(it);
    }
    ++head_;
    if (head_ >= kCompactFrom && 8 * head_ >= rows_.size()) compact();
  }

 private:
  static constexpr std::size_t kCompactFrom = 256;

  void compact() {
    const auto n = static_cast<std::ptrdiff_t>(head_);
    rows_.erase(rows_.begin(), rows_.begin() + n);
    exacts_.erase(exacts_.begin(), exacts_.begin() + n);
    sketches_.erase(sketches_.begin(), sketches_.begin() + n * static_cast<std::ptrdiff_t>(kHashes));
    minhashes_.erase(minhashes_.begin(), minhashes_.begin() + n * static_cast<std::ptrdiff_t>(kHashes));
    head_ = 0;
  }

  std::vector<Row> rows_;
  std::vector<std::uint64_t> exacts_;
  std::vector<std::uint8_t> sketches_;                   // kHashes per row
  std::vector<std::uint32_t> minhashes_;                 // kHashes per row
  std::size_t head_ = 0;                                 // rows before it are gone
  std::unordered_map<std::int64_t, std::uint32_t> ids_;  // stored post ids of the window, with their counts
};

// ---------------------------------------------------------------- SQLite

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

std::runtime_error db_error(sqlite3* db, const std::string& what) {
  return std::runtime_error(what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) throw db_error(db, sql);
}

Stmt prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    throw db_error(db, "preparing a statement");
  }
  return Stmt(s);
}

std::int64_t single_integer(sqlite3* db, const char* sql) {
  Stmt s = prepare(db, sql);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return sqlite3_column_int64(s.get(), 0);
  if (rc == SQLITE_DONE) return 0;
  throw db_error(db, sql);
}

// A file: URI for a path: '%', '?' and '#' would be read as URI syntax.
std::string file_uri(const std::string& path) {
  std::string out = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      std::array<char, 4> hex{};
      (void)std::snprintf(hex.data(), hex.size(), "%%%02X", static_cast<unsigned char>(c));
      out += hex.data();
    } else {
      out += c;
    }
  }
  return out;
}

constexpr const char* kColumns = "id, post_id, root_id, at, exact, sender, channel, minhash";

// The signatures of the window on disk. A live instance writes one row per
// post and prunes now and then; a shadow instance reads the file once at
// creation and never touches it again.
class SignatureFile {
 public:
  // Opens (live: creates) the file. Throws when it cannot, so that the daemon
  // refuses the plugin set and names the instance.
  SignatureFile(const std::filesystem::path& path, bool shadow) {
    if (shadow) {
      open_for_reading(path);
    } else {
      open_for_writing(path);
    }
  }

  bool readable() const noexcept { return db_ != nullptr; }
  std::uint64_t salt() const noexcept { return salt_; }

  // Rows added since the last call (all of them the first time), by this
  // instance or another one on the same file: during a reload the running
  // instance still moderates the posts in flight while the new one serves.
  void read_new(const std::function<void(Entry&&)>& each) {
    if (db_ == nullptr) return;
    sqlite3_stmt* s = select_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, last_row_);
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const std::int64_t row = sqlite3_column_int64(s, 0);
      last_row_ = std::max(last_row_, row);
      if (own_rows_.erase(row) != 0) continue;
      Entry e;
      e.post_id = sqlite3_column_int64(s, 1);
      e.root_id = sqlite3_column_int64(s, 2);
      e.at = sqlite3_column_int64(s, 3);
      e.exact = static_cast<std::uint64_t>(sqlite3_column_int64(s, 4));
      e.sender = static_cast<std::uint64_t>(sqlite3_column_int64(s, 5));
      const auto* channel = sqlite3_column_text(s, 6);
      if (channel != nullptr) e.channel = reinterpret_cast<const char*>(channel);
      if (!signature_of(sqlite3_column_blob(s, 7), sqlite3_column_bytes(s, 7), e.minhash)) continue;
      each(std::move(e));
    }
    sqlite3_reset(s);
    // Rows of ours that another instance pruned before we met them.
    std::erase_if(own_rows_, [&](std::int64_t row) { return row <= last_row_; });
    if (rc != SQLITE_DONE) throw db_error(db_.get(), "reading signatures");
  }

  // Written with synchronous=NORMAL: a power cut may lose the last rows,
  // which costs at worst a missed repeat.
  void insert(const Entry& e) {
    sqlite3_stmt* s = insert_.get();
    sqlite3_reset(s);
    const std::string blob = blob_of(e.minhash);
    sqlite3_bind_int64(s, 1, e.post_id);
    sqlite3_bind_int64(s, 2, e.root_id);
    sqlite3_bind_int64(s, 3, e.at);
    sqlite3_bind_int64(s, 4, static_cast<std::int64_t>(e.exact));
    sqlite3_bind_int64(s, 5, static_cast<std::int64_t>(e.sender));
    sqlite3_bind_text(s, 6, e.channel.data(), static_cast<int>(e.channel.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 7, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw db_error(db_.get(), "writing a signature");
    // read_new() will meet this row again: it must not count it twice.
    own_rows_.insert(sqlite3_last_insert_rowid(db_.get()));
  }

  // Deletes what fell out of the window: older than `before`, or past the
  // newest `keep` rows.
  void prune(std::int64_t before, std::int64_t keep) {
    sqlite3_stmt* s = prune_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int64(s, 2, keep);
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw db_error(db_.get(), "pruning signatures");
  }

 private:
  void open_for_writing(const std::filesystem::path& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) throw db_error(raw, "cannot open " + path.string());
    sqlite3_busy_timeout(db_.get(), 5000);
    exec(db_.get(), "PRAGMA journal_mode=WAL");
    exec(db_.get(), "PRAGMA synchronous=NORMAL");
    exec(db_.get(), "BEGIN IMMEDIATE");
    try {
      const std::int64_t format = single_integer(db_.get(), "PRAGMA user_version");
      if (format != kFormat) {
        // Another signature scheme (or a new file): nothing in it compares.
        exec(db_.get(), "DROP TABLE IF EXISTS signatures");
        exec(db_.get(), "DROP TABLE IF EXISTS meta");
      }
      exec(db_.get(),
           "CREATE TABLE IF NOT EXISTS signatures ("
           "id INTEGER PRIMARY KEY AUTOINCREMENT, post_id INTEGER NOT NULL, root_id INTEGER NOT NULL, "
           "at INTEGER NOT NULL, exact INTEGER NOT NULL, sender INTEGER NOT NULL, channel TEXT NOT NULL, "
           "minhash BLOB NOT NULL);"
           "CREATE INDEX IF NOT EXISTS signatures_at ON signatures(at);"
           "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);");
      exec(db_.get(), ("PRAGMA user_version=" + std::to_string(kFormat)).c_str());
      if (!read_salt()) {
        std::random_device random;
        salt_ = (static_cast<std::uint64_t>(random()) << 32U) ^ random();
        Stmt s = prepare(db_.get(), "INSERT INTO meta (key, value) VALUES ('sender_salt', ?)");
        sqlite3_bind_int64(s.get(), 1, static_cast<std::int64_t>(salt_));
        if (sqlite3_step(s.get()) != SQLITE_DONE) throw db_error(db_.get(), "writing the salt");
      }
      exec(db_.get(), "COMMIT");
    } catch (...) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    prepare_statements();
    insert_ = prepare(db_.get(),
                      "INSERT INTO signatures (post_id, root_id, at, exact, sender, channel, minhash) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)");
    prune_ = prepare(db_.get(),
                     "DELETE FROM signatures WHERE at < ?1 "
                     "OR id <= (SELECT max(id) FROM signatures) - ?2");
  }

  // Read-only, and creating nothing: with no -wal file there is no writer,
  // so the file is opened immutable (no -wal or -shm made beside it); with
  // one, a live relaisd is (or was) writing and SQLite must see its log.
  void open_for_reading(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return;
    const bool writer = std::filesystem::exists(path.string() + "-wal", ec);
    const std::string uri = file_uri(path.string()) + (writer ? "?mode=ro" : "?mode=ro&immutable=1");
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) throw db_error(raw, "cannot read " + path.string());
    sqlite3_busy_timeout(db_.get(), 5000);
    if (single_integer(db_.get(), "PRAGMA user_version") != kFormat || !read_salt()) {
      db_.reset();  // another scheme, or not set up yet: an empty window
      return;
    }
    prepare_statements();
  }

  bool read_salt() {
    const bool has_meta =
        single_integer(db_.get(), "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'") !=
        0;
    if (!has_meta) return false;
    Stmt s = prepare(db_.get(), "SELECT value FROM meta WHERE key = 'sender_salt'");
    if (sqlite3_step(s.get()) != SQLITE_ROW) return false;
    salt_ = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 0));
    return true;
  }

  void prepare_statements() {
    select_ = prepare(
        db_.get(), (std::string("SELECT ") + kColumns + " FROM signatures WHERE id > ? ORDER BY id").c_str());
  }

  Db db_;
  Stmt select_;
  Stmt insert_;
  Stmt prune_;
  std::uint64_t salt_ = 0;
  std::int64_t last_row_ = 0;
  std::unordered_set<std::int64_t> own_rows_;  // inserted here, not yet met by read_new()
};

// ---------------------------------------------------------------- descriptions

// "3 h earlier", "25 min later": how far apart, for people.
std::string apart(std::int64_t delta_ms) {
  const std::int64_t abs_ms = delta_ms < 0 ? -delta_ms : delta_ms;
  const std::int64_t minutes = abs_ms / 60000;
  constexpr std::int64_t kHour = 60;
  constexpr std::int64_t kDay = 24 * kHour;
  std::string amount;
  if (minutes < 1) {
    amount = "less than a minute";
  } else if (minutes < 120) {
    amount = std::to_string(minutes) + " min";
  } else if (minutes < 2 * kDay) {
    amount = std::to_string(minutes / kHour) + " h";
  } else {
    amount = std::to_string(minutes / kDay) + " days";
  }
  return amount + (delta_ms < 0 ? " later" : " earlier");
}

std::string post_name(std::int64_t id) { return id == 0 ? "an earlier post" : "post " + std::to_string(id); }

// Channels come from sources: a long one is cut for people to read.
std::string where(std::string_view earlier, std::string_view now) {
  if (earlier.empty()) return "";
  if (earlier == now) return " on the same channel";
  constexpr std::size_t kMax = 40;
  if (earlier.size() <= kMax) return " on another channel (" + std::string(earlier) + ")";
  std::size_t end = kMax;
  while (end > 0 && (static_cast<unsigned char>(earlier[end]) & 0xC0U) == 0x80U) --end;  // whole characters
  return " on another channel (" + std::string(earlier.substr(0, end)) + "…)";
}

std::string two_decimals(double x) {
  std::array<char, 16> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%.2f", x);
  return buf.data();
}

// ---------------------------------------------------------------- moderator

class DedupModerator final : public relais::Moderator {
 public:
  DedupModerator(std::shared_ptr<const DedupConfig> config, const relais::PluginContext& context)
      : config_(std::move(config)),
        log_(context.log),
        window_ms_(static_cast<std::int64_t>(config_->window_hours * 3.6e6)),
        min_equal_(min_equal(*config_)) {
    const auto& c = *config_;
    if (!c.database.empty() && !context.state_directory.empty()) {
      const std::filesystem::path path = std::filesystem::path(context.state_directory) / c.database;
      try {
        file_ = std::make_unique<SignatureFile>(path, context.shadow);
        if (file_->readable()) {
          salt_ = file_->salt();
          catch_up();
          if (!context.shadow) prune_file();
        }
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string(e.what()) + " (" + c.database +
                                 " only caches recent signatures: removing it starts an empty window)");
      }
      if (log_->enabled(LogLevel::info) && file_->readable()) {
        log_->log(LogLevel::info, std::to_string(window_.size()) + " recent posts in the window, from " +
                                      c.database + (context.shadow ? " (read-only)" : ""));
      }
      // A shadow instance is done with the file once read: what it learns
      // stays in memory.
      if (context.shadow || !file_->readable()) file_.reset();
    }
    if (!file_ && salt_ == 0) {
      std::random_device random;
      salt_ = (static_cast<std::uint64_t>(random()) << 32U) ^ random();
    }
  }

  void moderate(const Post& post, std::vector<Finding>& findings) override {
    const auto& c = *config_;
    const auto f = features_of(post, static_cast<std::size_t>(c.min_words));
    if (!f) return;
    const Millis now = relais::timestamp::now();
    const std::int64_t at = relais::timestamp::post_time(post.received_at, now).time_since_epoch().count();
    const std::uint64_t sender = sender_key(post);

    try {
      catch_up();
    } catch (const std::exception& e) {
      warn(std::string("cannot read the signatures other instances wrote: ") + e.what());
    }

    // Only rows that can reach a tier matter: a row below every threshold
    // never changes the best match. The scan drops rows whose sketch
    // cannot reach the lowest threshold, so the rows left are compared
    // exactly, in the window's order, as if all were.
    scan(window_.sketches(), window_.exacts(), window_.size(), sketch_of(f->minhash), f->exact, min_equal_,
         candidates_);
    Match best;
    // This very post, moderated again.
    const bool seen = post.id != 0 && window_.holds(post.id);
    for (const std::uint32_t i : candidates_) {
      const Window::Row& e = window_.row(i);
      // A stored post is compared only with those stored before it: a post
      // run again after a crash, or replayed, must not find itself or the
      // repeats that came after it.
      if (post.id != 0 && e.post_id != 0 && e.post_id >= post.id) continue;
      if (std::abs(at - e.at) > window_ms_) continue;
      Match m{&e, Tier::duplicate, 1.0, sender != 0 && e.sender == sender};
      if (window_.exacts()[i] != f->exact) {
        m.similarity = similarity(window_.minhash(i), f->minhash);
        m.tier = tier_of(m.similarity, m.same_sender);
      }
      // The first exact copy; otherwise the most similar of the best tier.
      if (m.tier > best.tier ||
          (m.tier == best.tier && m.tier != Tier::duplicate && m.similarity > best.similarity)) {
        best = m;
      }
    }

    std::int64_t root = post.id;
    if (best.tier != Tier::none) {
      findings.push_back(finding(post, at, best));
      // A possible duplicate is its own post until a person says otherwise.
      if (best.tier != Tier::possible) root = best.entry->root_id;
    }
    if (!seen) remember(post, at, *f, sender, root);
  }

 private:
  enum class Tier : std::uint8_t { none, possible, near, duplicate };

  struct Match {
    const Window::Row* entry = nullptr;
    Tier tier = Tier::none;
    double similarity = 0.0;
    bool same_sender = false;
  };

  // The fewest equal values whose similarity, computed as similarity()
  // does, reaches a tier for any sender.
  static unsigned min_equal(const DedupConfig& c) {
    double lowest = std::min(c.threshold, c.possible_threshold);
    if (c.same_sender_threshold) lowest = std::min(lowest, *c.same_sender_threshold);
    unsigned k = 0;
    while (k <= kHashes && static_cast<double>(k) / static_cast<double>(kHashes) < lowest) ++k;
    return k;
  }

  Tier tier_of(double s, bool same_sender) const {
    const auto& c = *config_;
    double near = c.threshold;
    if (same_sender && c.same_sender_threshold) near = std::min(near, *c.same_sender_threshold);
    if (s >= near) return Tier::near;
    if (s >= c.possible_threshold) return Tier::possible;
    return Tier::none;
  }

  Finding finding(const Post& post, std::int64_t at, const Match& m) const {
    const auto& c = *config_;
    const Window::Row& e = *m.entry;
    Finding f;
    std::string d;
    switch (m.tier) {
      case Tier::duplicate:
        f = {"DUPLICATE", c.score, "", c.action, {}, e.root_id};
        d = "same text as ";
        break;
      case Tier::near:
        f = {"NEAR_DUPLICATE", c.near_score, "", c.near_action, {}, e.root_id};
        d = "same need as ";
        break;
      default:
        // No link: `related_post` says "a repeat of", which a person has yet to decide.
        f = {"POSSIBLE_DUPLICATE", c.possible_score, "", c.possible_action, {}, 0};
        d = "perhaps the same need as ";
        break;
    }
    // The post it resembles, then, when that one is a repeat, the first.
    d += post_name(e.post_id);
    std::string detail;
    if (m.tier != Tier::duplicate) detail = "similarity " + two_decimals(m.similarity);
    if (m.same_sender) detail += std::string(detail.empty() ? "" : ", ") + "same sender";
    if (!detail.empty()) d += " (" + detail + ")";
    d += ", posted " + apart(at - e.at) + where(e.channel, post.channel);
    if (e.post_id != e.root_id) d += ", itself a repeat of " + post_name(e.root_id);
    if (m.tier == Tier::possible) d += ": compare them";
    f.description = std::move(d);
    if (log_->enabled(LogLevel::debug)) {
      log_->log(LogLevel::debug, post_name(post.id) + ": " + f.symbol + " of " + post_name(e.root_id) + " (" +
                                     two_decimals(m.similarity) + ")");
    }
    return f;
  }

  // Every post is remembered, the rejected ones too: a plugin does not learn
  // the final verdict, and a repeat of a repeat still links to the first.
  void remember(const Post& post, std::int64_t at, const Features& f, std::uint64_t sender,
                std::int64_t root) {
    Entry e;
    e.post_id = post.id;
    e.root_id = root;
    e.at = at;
    e.exact = f.exact;
    e.sender = sender;
    e.channel = post.channel;
    e.minhash = f.minhash;
    if (file_) {
      try {
        file_->insert(e);
        if (++inserts_since_prune_ >= kPruneEvery) prune_file();
      } catch (const std::exception& ex) {
        warn(std::string("signature kept in memory only: ") + ex.what());
      }
    }
    latest_ = std::max(latest_, at);
    window_.push_back(std::move(e));
    prune_memory();
  }

  // Reads what the file holds beyond what this instance has seen.
  void catch_up() {
    if (!file_) return;
    const std::int64_t ceiling = relais::timestamp::now().time_since_epoch().count() +
                                 std::chrono::milliseconds(relais::timestamp::kFutureTolerance).count();
    file_->read_new([&](Entry&& e) {
      // A window far ahead of the clock would prune every post to come.
      latest_ = std::max(latest_, std::min(e.at, ceiling));
      window_.push_back(std::move(e));
    });
    prune_memory();
  }

  // The window's own clock is the newest post time seen, not the wall
  // clock, so that posts replayed from 2020 keep each other. Entries arrive
  // nearly in time order; one out of order waits at the back until the ones
  // before it go, and meanwhile never matches (it is compared by time).
  void prune_memory() {
    const auto max = static_cast<std::size_t>(config_->max_entries);
    while (!window_.empty() && (window_.size() > max || window_.row(0).at < latest_ - window_ms_)) {
      window_.pop_front();
    }
  }

  void prune_file() {
    inserts_since_prune_ = 0;
    try {
      file_->prune(latest_ - window_ms_, config_->max_entries);
    } catch (const std::exception& e) {
      warn(e.what());
    }
  }

  std::uint64_t sender_key(const Post& post) const {
    if (post.sender.empty()) return 0;
    // Salted per file, so that no other file or precomputed table matches
    // it (the daemon's own database beside it holds the senders in clear
    // anyway); the source's length keeps (source, sender) pairs apart.
    std::uint64_t h = fnv1a(std::to_string(post.source.size()) + ':' + post.source, mix64(salt_));
    h = mix64(fnv1a(post.sender, h));
    return h == 0 ? 1 : h;
  }

  void warn(const std::string& message) {
    if (log_->enabled(LogLevel::warn)) log_->log(LogLevel::warn, message);
  }

  static constexpr unsigned kPruneEvery = 64;  // inserts between deletes on disk

  std::shared_ptr<const DedupConfig> config_;
  relais::Logger* log_;
  std::int64_t window_ms_;
  std::unique_ptr<SignatureFile> file_;
  std::uint64_t salt_ = 0;
  Window window_;
  unsigned min_equal_;                     // equal values of the lowest threshold
  std::vector<std::uint32_t> candidates_;  // rows of the window the scan kept
  std::int64_t latest_ = INT64_MIN / 2;
  unsigned inserts_since_prune_ = 0;
};

// ---------------------------------------------------------------- configuration

using relais::table::read_action;
using relais::table::read_into;

class DedupFactory final : public relais::ModeratorFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<DedupConfig>();
    auto& c = *config;
    for (const auto& status : {
             read_into([&] { return table.number("window_hours"); }, c.window_hours),
             read_into([&] { return table.integer("min_words"); }, c.min_words),
             read_action(table, "action", c.action),
             read_into([&] { return table.number("score"); }, c.score),
             read_into([&] { return table.number("threshold"); }, c.threshold),
             read_into([&] { return table.number("same_sender_threshold"); }, c.same_sender_threshold),
             read_action(table, "near_action", c.near_action),
             read_into([&] { return table.number("near_score"); }, c.near_score),
             read_into([&] { return table.number("possible_threshold"); }, c.possible_threshold),
             read_action(table, "possible_action", c.possible_action),
             read_into([&] { return table.number("possible_score"); }, c.possible_score),
             read_into([&] { return table.string("database"); }, c.database),
             read_into([&] { return table.integer("max_entries"); }, c.max_entries),
         }) {
      if (!status) return status.error();
    }
    // A year at most: the window is a cache of recent posts, not an archive.
    if (!(c.window_hours > 0.0) || c.window_hours > 24.0 * 366) {
      return table.error("window_hours", "expected a number of hours above 0 and at most 8784");
    }
    if (c.min_words < 1) return table.error("min_words", "expected an integer of at least 1");
    const auto share = [](double x) { return x > 0.0 && x <= 1.0; };
    if (!share(c.threshold)) return table.error("threshold", "expected a number above 0 and at most 1");
    if (c.same_sender_threshold && !share(*c.same_sender_threshold)) {
      return table.error("same_sender_threshold", "expected a number above 0 and at most 1");
    }
    if (!share(c.possible_threshold) || c.possible_threshold > c.threshold) {
      return table.error("possible_threshold", "expected a number above 0 and at most `threshold` (" +
                                                   two_decimals(c.threshold) + ")");
    }
    for (const auto& [key, value] : {std::pair<const char*, double>{"score", c.score},
                                     {"near_score", c.near_score},
                                     {"possible_score", c.possible_score}}) {
      if (!std::isfinite(value)) return table.error(key, "expected a finite number");
    }
    if (c.database.find('/') != std::string::npos || c.database == "." || c.database == "..") {
      return table.error("database",
                         "expected a file name in the state directory (no '/'), or \"\" for memory only");
    }
    if (c.max_entries < 1 || c.max_entries > 1000000) {
      return table.error("max_entries", "expected an integer from 1 to 1000000");
    }
    if (auto finished = table.finish(); !finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Moderator> create(std::shared_ptr<const relais::PluginConfig> config,
                                            const relais::PluginContext& context) const override {
    return std::make_unique<DedupModerator>(std::static_pointer_cast<const DedupConfig>(std::move(config)),
                                            context);
  }
};

}  // namespace

RELAIS_MODERATOR_PLUGIN("moderate_dedup", "1.0.0", DedupFactory)
