// moderate_bayes: a filter that learns from what moderators decide. Every
// approved or rejected post (and every labelled example of `relaisctl
// learn`) updates per-token counts in a SQLite file of the state directory;
// a new post is scored with Robinson's token probabilities combined by
// Fisher's chi-square method, as SpamBayes and Bogofilter do. Nothing here
// logs post text, and no description names a word: the counts are learned
// from personal posts.
#include <boost/uuid/detail/sha1.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "relais/plugin.hpp"
#include "text.hpp"

namespace {

using relais::Action;
using relais::ConfigTable;
using relais::Expected;
using relais::Finding;
using relais::Post;

struct BayesConfig final : relais::PluginConfig {
  std::string database = "moderate_bayes.db";  // relative to the state directory
  std::int64_t min_learned = 20;               // of each label, before any finding
  double unwanted_threshold = 0.9;
  double score = 4.0;         // at p = 1; 0 at the threshold
  double wanted_score = 0.0;  // at p = 0; 0: BAYES_WANTED is off
  std::int64_t max_tokens = 150;
  double min_strength = 0.1;  // |f(w) - 0.5| below this: not evidence
};

// ---------------------------------------------------------------- tokens

// Tokens are kept as 64-bit hashes, as Rspamd keeps them: the database and
// the memory hold no word in clear (a dictionary still reverses common
// words: this keeps text out of sight, it is not encryption), and a
// fixed-size key makes the token table a plain rowid table. FNV-1a is stable across builds and platforms,
// which std::hash is not; a collision among a million tokens has odds of
// about 3e-8 and would only merge two tokens' counts.
std::uint64_t token_hash(std::string_view token) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : token) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr std::size_t kMinWordChars = 3;   // "de", "la", "to", "of": no signal, many rows
constexpr std::size_t kMaxWordChars = 30;  // longer: URLs' paths, base64, keyboard mashing

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_ascii_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }
bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }

// In a normalised text (lowercase, no-break spaces folded to spaces).
bool has_link(std::string_view t) {
  for (std::string_view mark : {"http://", "https://", "hxxp://", "hxxps://", "www."}) {
    if (t.find(mark) != std::string_view::npos) return true;
  }
  return false;
}

bool has_email(std::string_view t) {
  for (std::size_t at = t.find('@'); at != std::string_view::npos; at = t.find('@', at + 1)) {
    if (at == 0 || !is_ascii_alnum(t[at - 1])) continue;
    std::size_t end = at + 1;
    while (end < t.size() && (is_ascii_alnum(t[end]) || t[end] == '-' || t[end] == '.')) ++end;
    const std::string_view domain = t.substr(at + 1, end - at - 1);
    const std::size_t dot = domain.rfind('.');
    if (dot != std::string_view::npos && dot > 0 && domain.size() - dot > 2) return true;
  }
  return false;
}

// Runs of 9 to 15 digits, optionally after '+', grouped by single spaces,
// dots or hyphens: "06 12 34 56 78", "+33 6 12 34 56 78". Dates and
// postcodes are shorter.
bool has_phone(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size()) {
    if (!is_digit(t[i]) || (i > 0 && is_ascii_alnum(t[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t digits = 0;
    while (i < t.size()) {
      if (is_digit(t[i])) {
        ++digits;
        ++i;
      } else if ((t[i] == ' ' || t[i] == '.' || t[i] == '-') && i + 1 < t.size() && is_digit(t[i + 1])) {
        ++i;
      } else {
        break;
      }
    }
    if (digits >= 9 && digits <= 15 && (i == t.size() || !is_ascii_alnum(t[i]))) return true;
  }
  return false;
}

constexpr std::array<std::string_view, 9> kCurrencyWords = {"eur",     "euro", "euros", "usd",    "dollar",
                                                            "dollars", "gbp",  "btc",   "bitcoin"};

bool is_currency_word(std::string_view w) {
  return std::find(kCurrencyWords.begin(), kCurrencyWords.end(), w) != kCurrencyWords.end();
}

// An amount: a number next to €, $ or £ ("50€", "$ 500", "1 000 €"), a
// number followed by a currency word ("500 euros"), or glued to one
// ("1000euros").
bool has_money(std::string_view t, const std::vector<std::string_view>& words) {
  for (std::string_view symbol : {"\xE2\x82\xAC", "$", "\xC2\xA3"}) {
    for (std::size_t at = t.find(symbol); at != std::string_view::npos; at = t.find(symbol, at + 1)) {
      std::size_t before = at;
      while (before > 0 && t[before - 1] == ' ') --before;
      if (before > 0 &&
          (is_digit(t[before - 1]) || (t[before - 1] == 'k' && before > 1 && is_digit(t[before - 2])))) {
        return true;
      }
      std::size_t after = at + symbol.size();
      while (after < t.size() && t[after] == ' ') ++after;
      if (after < t.size() && is_digit(t[after])) return true;
    }
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view w = words[i];
    if (w.empty() || !is_digit(w.front())) continue;
    const std::size_t letters = w.find_first_not_of("0123456789");
    if (letters != std::string_view::npos && is_currency_word(w.substr(letters))) return true;
    if (letters == std::string_view::npos && i + 1 < words.size() && is_currency_word(words[i + 1]))
      return true;
  }
  return false;
}

// The normalised subject and text: what a learned document is, and all the
// tokens are made of. Case and accents are gone, so "PRÊT" and "pret" are
// one token, and the digest of these two strings identifies the tokens they
// give, which is what a relearn must move.
struct Normalized {
  std::string subject;
  std::string text;
};

Normalized normalize(const Post& post) {
  return {post.subject ? relais::text::normalize(*post.subject).text : std::string(),
          relais::text::normalize(post.text).text};
}

// Each distinct token once, as SpamBayes counts them: a word repeated ten
// times is no more evidence than once.
std::vector<std::uint64_t> tokenize(const Normalized& doc) {
  std::vector<std::uint64_t> out;
  bool link = false;
  bool email = false;
  bool phone = false;
  bool money = false;
  bool long_word = false;
  for (const std::string* part : {&doc.subject, &doc.text}) {
    const auto words = relais::text::words(*part);
    std::string_view previous;
    for (const std::string_view w : words) {
      // Numbers are phone fragments, house numbers, amounts and dates:
      // personal data or noise as words, kept only as the meta tokens.
      if (all_digits(w)) continue;
      const std::size_t chars = code_points(w);
      if (chars < kMinWordChars) continue;
      if (chars > kMaxWordChars) {
        long_word = true;
        previous = {};
        continue;
      }
      out.push_back(token_hash(w));
      // Pairs of neighbouring kept words, short ones skipped: "carte cadeau"
      // and "western union" say more than their words do apart.
      if (!previous.empty()) {
        std::string pair;
        pair.reserve(previous.size() + 1 + w.size());
        pair.append(previous).append(" ").append(w);
        out.push_back(token_hash(pair));
      }
      previous = w;
    }
    link = link || has_link(*part);
    email = email || has_email(*part);
    phone = phone || has_phone(*part);
    money = money || has_money(*part, words);
  }
  // Marks the word split loses: symbols, digits and punctuation are not words.
  if (link) out.push_back(token_hash("meta:link"));
  if (email) out.push_back(token_hash("meta:email"));
  if (phone) out.push_back(token_hash("meta:phone"));
  if (money) out.push_back(token_hash("meta:money"));
  if (long_word) out.push_back(token_hash("meta:longword"));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

using Digest = std::array<unsigned char, 20>;

// A learned document's identity. SHA-1 from Boost's headers, which every
// plugin already builds with: an identity, not a signature, so collision
// attacks on SHA-1 buy nothing here. The length prefix keeps "a" + "b c"
// and "a b" + "c" apart.
Digest digest_of(const Normalized& doc) {
  boost::uuids::detail::sha1 sha;
  for (const std::string* part : {&doc.subject, &doc.text}) {
    const std::uint64_t size = part->size();
    std::array<unsigned char, 8> prefix{};
    for (std::size_t i = 0; i < prefix.size(); ++i) prefix[i] = static_cast<unsigned char>(size >> (8 * i));
    sha.process_bytes(prefix.data(), prefix.size());
    sha.process_bytes(part->data(), part->size());
  }
  boost::uuids::detail::sha1::digest_type words{};
  sha.get_digest(words);
  Digest out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<unsigned char>(words[i / 4] >> (8 * (3 - i % 4)));
  }
  return out;
}

// ---------------------------------------------------------------- model

struct Counts {
  std::uint32_t good = 0;  // accepted documents holding the token
  std::uint32_t bad = 0;   // rejected ones
};

struct Model {
  std::unordered_map<std::uint64_t, Counts> tokens;
  std::int64_t good_docs = 0;
  std::int64_t bad_docs = 0;
};

enum class Label : std::uint8_t { good = 0, bad = 1 };

struct Score {
  double p = 0.5;  // of "unwanted"
  std::size_t clues = 0;
};

// Robinson's strength of an unknown word and its assumed probability, as
// SpamBayes' defaults.
constexpr double kUnknownStrength = 0.45;
constexpr double kUnknownProb = 0.5;

// The probability that a chi-square variable of `dof` (even) degrees of
// freedom is at least `x2`; the series of SpamBayes' chi2Q.
double chi2q(double x2, std::size_t dof) {
  const double m = x2 / 2.0;
  double term = std::exp(-m);
  double sum = term;
  for (std::size_t i = 1; i < dof / 2; ++i) {
    term *= m / static_cast<double>(i);
    sum += term;
  }
  return std::min(sum, 1.0);
}

Score score(const Model& model, const std::vector<std::uint64_t>& tokens, const BayesConfig& config) {
  const auto good_docs = static_cast<double>(model.good_docs);
  const auto bad_docs = static_cast<double>(model.bad_docs);
  std::vector<double> probs;
  probs.reserve(tokens.size());
  for (const std::uint64_t token : tokens) {
    const auto found = model.tokens.find(token);
    if (found == model.tokens.end()) continue;
    const auto [good, bad] = found->second;
    // Ratios to each class's size, so that learning more of one label does
    // not make every word look like it.
    const double good_ratio = std::min(1.0, good / good_docs);
    const double bad_ratio = std::min(1.0, bad / bad_docs);
    if (good_ratio + bad_ratio <= 0.0) continue;
    const double p = bad_ratio / (good_ratio + bad_ratio);
    const double n = static_cast<double>(good) + static_cast<double>(bad);
    const double f = (kUnknownStrength * kUnknownProb + n * p) / (kUnknownStrength + n);
    if (std::abs(f - 0.5) >= config.min_strength) probs.push_back(f);
  }
  const auto keep = std::min(probs.size(), static_cast<std::size_t>(config.max_tokens));
  std::partial_sort(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(keep), probs.end(),
                    [](double a, double b) { return std::abs(a - 0.5) > std::abs(b - 0.5); });
  probs.resize(keep);
  if (probs.empty()) return {};
  // f is never 0 or 1 (kUnknownStrength > 0), so the logs are finite.
  double log_bad = 0.0;   // ln Π f
  double log_good = 0.0;  // ln Π (1 - f)
  for (const double f : probs) {
    log_bad += std::log(f);
    log_good += std::log1p(-f);
  }
  const std::size_t dof = 2 * probs.size();
  const double unwanted = 1.0 - chi2q(-2.0 * log_good, dof);
  const double wanted = 1.0 - chi2q(-2.0 * log_bad, dof);
  return {(unwanted - wanted + 1.0) / 2.0, probs.size()};
}

// ---------------------------------------------------------------- SQLite

// Version 1: the tables below, and tokens made by tokenize() as it is. A
// change of tokenizer changes what the hashes mean: it needs a new version
// and a migration (or relearning), never a silent mix.
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE tokens (
  token INTEGER PRIMARY KEY,  -- token_hash(), as a signed 64-bit integer
  good INTEGER NOT NULL CHECK (good >= 0),
  bad INTEGER NOT NULL CHECK (bad >= 0)
);
CREATE TABLE learned (
  digest BLOB PRIMARY KEY,  -- SHA-1 of the normalised subject and text
  label INTEGER NOT NULL CHECK (label IN (0, 1))  -- 0 accepted, 1 rejected
) WITHOUT ROWID;
)sql";

class Database {
 public:
  Database(const std::filesystem::path& file, bool read_only) : file_(file.string()) {
    const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(file_.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK) fail("cannot open");
    // The daemon's live instance and a shadow one (or the old and the new
    // set during a reload) may open the file at once.
    sqlite3_busy_timeout(db_.get(), 5000);
  }

  sqlite3* get() const { return db_.get(); }
  const std::string& file() const { return file_; }

  void exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }

  [[noreturn]] void fail(std::string_view what) const {
    throw std::runtime_error(file_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_.get()));
  }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::string file_;
  std::unique_ptr<sqlite3, Close> db_;
};

class Statement {
 public:
  Statement(Database& db, const char* sql) : db_(&db) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      db.fail(sql);
    }
    stmt_.reset(stmt);
  }

  Statement& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_.get(), i, v));
    return *this;
  }
  Statement& bind(int i, const Digest& d) {
    check(sqlite3_bind_blob(stmt_.get(), i, d.data(), static_cast<int>(d.size()), SQLITE_TRANSIENT));
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) {
      sqlite3_reset(stmt_.get());
      db_->fail("step");
    }
    return false;
  }
  void run() {
    step();
    reset();
  }
  std::int64_t column(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
  void reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) db_->fail("bind");
  }
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Database* db_;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

// Rolls back unless committed, so that a failed learn() leaves nothing half
// written.
class Transaction {
 public:
  Transaction(Database& db, const char* begin) : db_(db) { db_.exec(begin); }
  ~Transaction() {
    if (open_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.exec("COMMIT");
    open_ = false;
  }

 private:
  Database& db_;
  bool open_ = true;
};

std::int64_t user_version(Database& db) {
  Statement s(db, "PRAGMA user_version");
  return s.step() ? s.column(0) : 0;
}

// Creates the tables in an empty file; refuses a file written by a newer
// version or by something else.
void migrate(Database& db) {
  Transaction txn(db, "BEGIN IMMEDIATE");
  const std::int64_t version = user_version(db);
  if (version > kSchemaVersion) {
    throw std::runtime_error(db.file() + ": written by a newer moderate_bayes (schema " +
                             std::to_string(version) + ", this one knows " + std::to_string(kSchemaVersion) +
                             ")");
  }
  if (version == 0) {
    Statement tables(db, "SELECT count(*) FROM sqlite_schema");
    if (tables.step() && tables.column(0) != 0) {
      throw std::runtime_error(db.file() +
                               ": not a moderate_bayes database (tables without a schema version)");
    }
    db.exec(kSchema);
    db.exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  }
  txn.commit();
}

// ---------------------------------------------------------------- moderator

// The statements of learn(), prepared once; only a live instance has them.
struct Writes {
  explicit Writes(Database& db)
      : select_learned(db, "SELECT label FROM learned WHERE digest = ?1"),
        insert_learned(db, "INSERT INTO learned (digest, label) VALUES (?1, ?2)"),
        update_learned(db, "UPDATE learned SET label = ?1 WHERE digest = ?2"),
        add_token(db,
                  "INSERT INTO tokens (token, good, bad) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (token) DO UPDATE SET good = good + excluded.good, bad = bad + excluded.bad"),
        // Clamped at 0: a count the file lost (a restored backup) must not
        // go negative and break the CHECK.
        move_token(db,
                   "INSERT INTO tokens (token, good, bad) VALUES (?1, max(?2, 0), max(?3, 0)) "
                   "ON CONFLICT (token) DO UPDATE SET good = max(good + ?2, 0), bad = max(bad + ?3, 0)"),
        delete_empty(db, "DELETE FROM tokens WHERE token = ?1 AND good = 0 AND bad = 0") {}
  Statement select_learned;
  Statement insert_learned;
  Statement update_learned;
  Statement add_token;
  Statement move_token;
  Statement delete_empty;
};

class BayesModerator final : public relais::Moderator {
 public:
  BayesModerator(std::shared_ptr<const BayesConfig> config, const relais::PluginContext& context)
      : config_(std::move(config)), log_(context.log), shadow_(context.shadow) {
    std::filesystem::path file = config_->database;
    if (file.is_relative()) file = std::filesystem::path(context.state_directory) / file;
    if (shadow_) {
      // A shadow instance may not create the file; without one it knows
      // nothing yet, and scores nothing.
      std::error_code ec;
      if (!std::filesystem::exists(file, ec)) {
        log(relais::LogLevel::info, "database=" + file.string() + " missing: untrained shadow=true");
        return;
      }
    }
    db_.emplace(file, shadow_);
    if (shadow_) {
      const std::int64_t version = user_version(*db_);
      if (version > kSchemaVersion) {
        throw std::runtime_error(file.string() + ": written by a newer moderate_bayes (schema " +
                                 std::to_string(version) + ", this one knows " +
                                 std::to_string(kSchemaVersion) + ")");
      }
      if (version == 0) {  // created but never set up: nothing learned
        db_.reset();
        return;
      }
    } else {
      db_->exec("PRAGMA journal_mode=WAL");
      // Learned counts are not the post store: losing the last decision to
      // a power cut costs little, an fsync per decision costs every time.
      db_->exec("PRAGMA synchronous=NORMAL");
      migrate(*db_);
      writes_.emplace(*db_);
    }
    data_version_.emplace(*db_, "PRAGMA data_version");
    load();
    log(relais::LogLevel::info,
        "database=" + file.string() + " tokens=" + std::to_string(model_.tokens.size()) +
            " accepted=" + std::to_string(model_.good_docs) + " rejected=" + std::to_string(model_.bad_docs) +
            (shadow_ ? " shadow=true" : ""));
  }

  void moderate(const Post& post, std::vector<Finding>& findings) override {
    refresh();
    const auto& c = *config_;
    // Untrained, every word is unknown or nearly so, and a legitimate
    // request could be held on the strength of a handful of examples.
    if (model_.good_docs < c.min_learned || model_.bad_docs < c.min_learned) return;
    const Score s = score(model_, tokenize(normalize(post)), c);
    if (log_->enabled(relais::LogLevel::debug)) {
      log(relais::LogLevel::debug, "post=" + std::to_string(post.id) + " p=" + std::to_string(s.p) +
                                       " clues=" + std::to_string(s.clues));
    }
    const double t = c.unwanted_threshold;
    const std::string clues =
        " (" + std::to_string(s.clues) + " significant word" + (s.clues == 1 ? "" : "s") + ")";
    if (s.p >= t) {
      findings.push_back({"BAYES_UNWANTED",
                          c.score * std::clamp((s.p - t) / (1.0 - t), 0.0, 1.0),
                          "learned filter: " + percent(s.p) + " like rejected posts" + clues,
                          std::nullopt,
                          {}});
    } else if (c.wanted_score < 0.0 && s.p <= 1.0 - t) {
      findings.push_back({"BAYES_WANTED",
                          c.wanted_score * std::clamp((1.0 - t - s.p) / (1.0 - t), 0.0, 1.0),
                          "learned filter: " + percent(1.0 - s.p) + " like accepted posts" + clues,
                          std::nullopt,
                          {}});
    }
  }

  void learn(const Post& post, Action decision) override {
    if (decision == Action::hold) return;  // a person deferred: nothing was decided
    if (!writes_) {
      log(relais::LogLevel::debug, "post=" + std::to_string(post.id) + " not learned: shadow instance");
      return;
    }
    const Label label = decision == Action::reject ? Label::bad : Label::good;
    const Normalized doc = normalize(post);
    const auto tokens = tokenize(doc);
    if (tokens.empty()) return;  // nothing to learn from
    const Digest digest = digest_of(doc);
    const std::string what =
        "post=" + std::to_string(post.id) + " label=" + std::string(relais::to_string(decision));

    auto& w = *writes_;
    std::optional<Label> before;
    {
      Transaction txn(*db_, "BEGIN IMMEDIATE");
      w.select_learned.bind(1, digest);
      if (w.select_learned.step()) before = w.select_learned.column(0) == 0 ? Label::good : Label::bad;
      w.select_learned.reset();
      if (before == label) {
        log(relais::LogLevel::debug, what + " already learned");
        return;
      }
      const std::int64_t good = label == Label::good ? 1 : 0;
      const std::int64_t bad = label == Label::bad ? 1 : 0;
      for (const std::uint64_t token : tokens) {
        const auto key = static_cast<std::int64_t>(token);
        if (before) {
          // A moderator changed their mind: the document's tokens move from
          // one label to the other.
          w.move_token.bind(1, key).bind(2, good - bad).bind(3, bad - good).run();
          w.delete_empty.bind(1, key).run();
        } else {
          w.add_token.bind(1, key).bind(2, good).bind(3, bad).run();
        }
      }
      if (before) {
        w.update_learned.bind(1, static_cast<std::int64_t>(label)).bind(2, digest).run();
      } else {
        w.insert_learned.bind(1, digest).bind(2, static_cast<std::int64_t>(label)).run();
      }
      txn.commit();
    }
    // Written through only once committed: memory never runs ahead of the file.
    apply(tokens, label, before);
    log(relais::LogLevel::debug,
        what + " tokens=" + std::to_string(tokens.size()) + (before ? " moved=true" : " moved=false"));
  }

 private:
  void log(relais::LogLevel level, const std::string& message) const { log_->log(level, message); }

  // Rounded down, so that 99.9 % never reads as a certain 100 %.
  static std::string percent(double p) {
    return std::to_string(static_cast<int>(std::floor(p * 100.0))) + "%";
  }

  // Another connection committed since we last looked (the other plugin set
  // during a reload, a second instance on the same file): reload from the
  // file. The check costs a few microseconds a post; a reload happens as
  // rarely as another connection learns.
  void refresh() {
    if (!db_) return;
    if (current_data_version() == data_version_value_) return;
    log(relais::LogLevel::debug, "database changed by another connection: reloading");
    load();
  }

  std::int64_t current_data_version() {
    const std::int64_t v = data_version_->step() ? data_version_->column(0) : 0;
    data_version_->reset();
    return v;
  }

  void load() {
    Model model;
    Transaction txn(*db_, "BEGIN");
    // Read in the same snapshot as the tables, so that a commit after the
    // snapshot is seen by the next refresh().
    Statement count(*db_, "SELECT count(*) FROM tokens");
    if (count.step()) model.tokens.reserve(static_cast<std::size_t>(count.column(0)));
    data_version_value_ = current_data_version();
    Statement tokens(*db_, "SELECT token, good, bad FROM tokens");
    while (tokens.step()) {
      model.tokens.emplace(static_cast<std::uint64_t>(tokens.column(0)),
                           Counts{narrow(tokens.column(1)), narrow(tokens.column(2))});
    }
    Statement docs(*db_, "SELECT label, count(*) FROM learned GROUP BY label");
    while (docs.step()) (docs.column(0) == 0 ? model.good_docs : model.bad_docs) = docs.column(1);
    txn.commit();
    model_ = std::move(model);
  }

  static std::uint32_t narrow(std::int64_t v) {
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(v, 0, UINT32_MAX));
  }

  std::int64_t& docs(Label label) { return label == Label::good ? model_.good_docs : model_.bad_docs; }

  void apply(const std::vector<std::uint64_t>& tokens, Label label, std::optional<Label> before) {
    for (const std::uint64_t token : tokens) {
      Counts& c = model_.tokens[token];
      ++(label == Label::good ? c.good : c.bad);
      if (before) {
        std::uint32_t& from = *before == Label::good ? c.good : c.bad;
        if (from > 0) --from;
        if (c.good == 0 && c.bad == 0) model_.tokens.erase(token);
      }
    }
    ++docs(label);
    if (before) docs(*before) = std::max<std::int64_t>(0, docs(*before) - 1);
  }

  std::shared_ptr<const BayesConfig> config_;
  relais::Logger* log_;
  bool shadow_;
  Model model_;
  // Before the statements, which are then finalised before it closes.
  std::optional<Database> db_;
  std::optional<Statement> data_version_;
  std::int64_t data_version_value_ = 0;
  std::optional<Writes> writes_;
};

// ---------------------------------------------------------------- factory

// Reads `key` into `into` when present; a value `valid` refuses gets `what`.
template <class T, class Valid>
relais::Status read_key(const ConfigTable& table, std::string_view key, T& into, Valid valid,
                        std::string_view what) {
  Expected<std::optional<T>> value = [&] {
    if constexpr (std::is_same_v<T, double>) {
      return table.number(key);
    } else if constexpr (std::is_same_v<T, std::string>) {
      return table.string(key);
    } else {
      return table.integer(key);
    }
  }();
  if (!value) return value.error();
  if (!*value) return relais::Done{};
  if (!valid(**value)) return table.error(key, what);
  into = std::move(**value);
  return relais::Done{};
}

class BayesFactory final : public relais::ModeratorFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<BayesConfig>();
    auto at_least_one = [](std::int64_t v) { return v >= 1; };
    for (const auto& status : {
             read_key(
                 table, "database", config->database, [](const std::string& v) { return !v.empty(); },
                 "expected a file name (relative to the state directory) or an absolute path"),
             read_key(table, "min_learned", config->min_learned, at_least_one,
                      "expected an integer of at least 1"),
             read_key(
                 table, "unwanted_threshold", config->unwanted_threshold,
                 [](double v) { return v > 0.5 && v < 1.0; }, "expected a number above 0.5 and below 1"),
             read_key(
                 table, "score", config->score, [](double v) { return v >= 0.0; },
                 "expected a number of at least 0"),
             read_key(
                 table, "wanted_score", config->wanted_score, [](double v) { return v <= 0.0; },
                 "expected a number of at most 0"),
             read_key(table, "max_tokens", config->max_tokens, at_least_one,
                      "expected an integer of at least 1"),
             read_key(
                 table, "min_strength", config->min_strength, [](double v) { return v >= 0.0 && v < 0.5; },
                 "expected a number of at least 0 and below 0.5"),
         }) {
      if (!status) return status.error();
    }
    if (auto finished = table.finish(); !finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Moderator> create(std::shared_ptr<const relais::PluginConfig> config,
                                            const relais::PluginContext& context) const override {
    return std::make_unique<BayesModerator>(std::static_pointer_cast<const BayesConfig>(std::move(config)),
                                            context);
  }
};

}  // namespace

RELAIS_MODERATOR_PLUGIN("moderate_bayes", "1.0.0", BayesFactory)
