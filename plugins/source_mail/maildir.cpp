#include "maildir.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

namespace relais::mail {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kAckWaitWhenStopping{5000};

Error io_error(const fs::path& path, const std::string& what, const std::error_code& ec) {
  return Error{"io", path.string() + ": " + what + ": " + ec.message(), ""};
}

// cur/ names carry the message's flags after ":2,"; "S": seen.
std::string seen_name(const std::string& name) {
  if (name.find(":2,") != std::string::npos) return name;
  return name + ":2,S";
}

Status make_refused_folder(const fs::path& maildir) {
  const fs::path folder = maildir / kRefusedFolder;
  std::error_code ec;
  for (const char* sub : {"tmp", "new", "cur"}) {
    fs::create_directories(folder / sub, ec);
    if (ec) return io_error(folder / sub, "cannot create", ec);
  }
  // Maildir++: marks a subfolder for the mail programs that look for it.
  if (!fs::exists(folder / "maildirfolder", ec)) std::ofstream(folder / "maildirfolder").flush();
  return Done{};
}

Status move(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return io_error(from, "cannot move to " + to.parent_path().string(), ec);
  return Done{};
}

Expected<std::string> read_message(const fs::path& file, std::size_t limit) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return io_error(file, "cannot read", ec);
  // Not read at all: the limit is there so that a huge file costs nothing.
  if (size > limit) {
    return Error{
        "too_large",
        "the message is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(limit), ""};
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return Error{"io", file.string() + ": cannot read", ""};
  return bytes.str();
}

}  // namespace

Expected<MaildirPass> drain_maildir(const fs::path& maildir, ClientOptions client_options,
                                    const MaildirOptions& options, const std::stop_token& stop) {
  const fs::path incoming = maildir / "new";
  const fs::path done = maildir / "cur";
  std::error_code ec;
  if (!fs::is_directory(incoming, ec) || !fs::is_directory(done, ec)) {
    return Error{"io", maildir.string() + ": not a Maildir (no new/ and cur/ folders)", ""};
  }

  // Oldest first: Maildir names start with the delivery time.
  std::vector<std::string> names;
  for (fs::directory_iterator it(incoming, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (!name.empty() && name.front() != '.' && it->is_regular_file(ec)) names.push_back(name);
  }
  if (ec) return io_error(incoming, "cannot list", ec);
  std::sort(names.begin(), names.end());

  MaildirPass pass;
  std::map<std::uint64_t, std::string> submitted;  // seq -> name
  std::optional<Error> failure;
  const auto refuse = [&](const std::string& name, const Error& why) {
    if (auto made = make_refused_folder(maildir); !made) {
      failure = made.error();
      return;
    }
    if (auto moved = move(incoming / name, maildir / kRefusedFolder / "new" / name); !moved) {
      failure = moved.error();
      return;
    }
    ++pass.refused;
    if (options.on_refused) options.on_refused(name, why);
  };

  client_options.on_result = [&](const SubmitResult& result) {
    const auto it = submitted.find(result.seq);
    if (it == submitted.end()) return;
    const std::string name = std::move(it->second);
    submitted.erase(it);
    switch (result.status) {
      case SubmitStatus::stored:
      case SubmitStatus::duplicate:
        // Moved only now: a crash before this line means one more
        // submission, answered as a duplicate, never a lost message.
        if (auto moved = move(incoming / name, done / seen_name(name)); !moved) {
          failure = moved.error();
          return;
        }
        ++(result.status == SubmitStatus::stored ? pass.stored : pass.duplicates);
        if (options.on_stored) options.on_stored(name, result);
        break;
      case SubmitStatus::rejected:
        refuse(name, Error{result.code, "refused by relaisd: " + result.message, result.field});
        break;
      case SubmitStatus::gave_up:
        ++pass.waiting;
        break;
    }
  };
  Client client(std::move(client_options));

  for (const auto& name : names) {
    if (stop.stop_requested() || failure) break;
    auto raw = read_message(incoming / name, options.parse.max_message_bytes);
    if (!raw && raw.error().code == "io") {
      // Gone meanwhile (another pass, a person): not ours to report.
      if (!fs::exists(incoming / name, ec)) continue;
      return raw.error();
    }
    auto post = raw ? post_from_message(*raw, options.parse) : Expected<Post>(raw.error());
    if (!post) {
      refuse(name, post.error());
      continue;
    }
    auto seq = client.submit(*post, options.ack_wait);
    if (!seq) break;  // the window stayed full: relaisd is not answering
    submitted.emplace(*seq, name);
  }
  // Asked to stop, wait a little only: what is not acknowledged stays in
  // new/, and is submitted again (and found a duplicate) at the next start.
  client.flush(stop.stop_requested() ? std::min(options.ack_wait, kAckWaitWhenStopping) : options.ack_wait);
  pass.waiting += submitted.size();
  if (failure) return *failure;
  return pass;
}

}  // namespace relais::mail
