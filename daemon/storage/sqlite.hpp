// storage/sqlite: the pieces of the SQLite backend its files share: the
// connection, prepared statements, transactions. Internal to storage/.
#pragma once

#include <sqlite3.h>

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace relais::daemon::sqlite {
namespace json = boost::json;

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }
  sqlite3* get() const { return db_; }
  sqlite3** out() { return &db_; }
  std::string error() const { return db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory"; }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(db));
    }
  }
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& other) noexcept {
    std::swap(db_, other.db_);
    std::swap(stmt_, other.stmt_);
    return *this;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
  }

  // Every parameter is bound again after a reset, so bindings are not cleared.
  // Text is bound without a copy (SQLITE_STATIC): a bound value must outlive
  // the step that reads it, which binding and stepping in one expression,
  // or binding locals, ensures.
  Stmt& reset() {
    sqlite3_reset(stmt_);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_optional(int i, const std::optional<std::string>& v) {
    if (v) return bind(i, std::string_view(*v));
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Stmt& bind(int i, std::optional<std::int64_t> v) {
    if (v) return bind(i, *v);
    return bind_null(i);
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  // true while there is a row
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("step: ") + sqlite3_errmsg(db_));
  }
  void run() {
    step();
    sqlite3_reset(stmt_);
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                        : std::string();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Statements prepared once per connection and kept: reads that run for
// every post (the outbox's, the need tracker's) would otherwise pay for
// sqlite3_prepare each time.
class StatementCache {
 public:
  // `db` may open its connection later: statements are prepared on first use.
  explicit StatementCache(const Db& db) : db_(db) {}

  // A statement in use: reset when the use ends, so that no read
  // transaction stays open behind a statement left half stepped.
  class Use {
   public:
    explicit Use(Stmt& stmt) : stmt_(stmt) {}
    ~Use() { stmt_.reset(); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    Stmt& operator*() const { return stmt_; }
    Stmt* operator->() const { return &stmt_; }

   private:
    Stmt& stmt_;
  };

  // The statement for `sql`; one use at a time of the same text.
  Use get(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end())
      it = statements_.emplace(sql, std::make_unique<Stmt>(db_.get(), sql.c_str())).first;
    return Use(*it->second);
  }

 private:
  const Db& db_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> statements_;
};

inline void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(msg);
  }
}

// A consistent view across several SELECTs, ended when it goes out of scope.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN"); }
  ~ReadTransaction() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  sqlite3* db_;
};

inline int user_version(sqlite3* db) {
  Stmt s(db, "PRAGMA user_version");
  return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

inline std::string list_to_json(const std::vector<std::string>& list) {
  json::array a;
  for (const auto& s : list) a.emplace_back(s);
  return json::serialize(a);
}

inline std::vector<std::string> json_to_list(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace relais::daemon::sqlite
