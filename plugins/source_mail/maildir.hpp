// maildir: the messages a mail system delivered to a Maildir, submitted to
// relaisd. A message leaves new/ only once relaisd acknowledged it: to cur/,
// marked seen; or, when it cannot become a post (not a message, too large,
// refused by relaisd), to the Maildir++ folder ".relais-refused", unread, for
// a person to look at. What was not acknowledged (relaisd down) stays in
// new/ for the next pass; a message submitted twice is stored once (its
// Message-ID).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "mail_post.hpp"
#include "relais/client.hpp"
#include "relais/expected.hpp"

namespace relais::mail {

inline constexpr const char* kRefusedFolder = ".relais-refused";

struct MaildirOptions {
  ParseOptions parse;
  // How long a pass waits for the acknowledgements of what it submitted.
  std::chrono::milliseconds ack_wait{30000};
  // Told of each message set aside, with the reason (which names no
  // address and quotes no text); and of each one stored, for debug logs.
  std::function<void(std::string_view file, const Error& why)> on_refused;
  std::function<void(std::string_view file, const SubmitResult& result)> on_stored;
};

struct MaildirPass {
  std::size_t stored = 0;
  std::size_t duplicates = 0;
  std::size_t refused = 0;
  std::size_t waiting = 0;  // not acknowledged: still in new/
};

// One pass over `maildir`/new, oldest name first. `client` gives the
// endpoint (and zmq context); its on_result is the pass's own. Stops
// submitting when `stop` is requested, and waits for what is in flight.
// Errors: the Maildir is missing or a message cannot be moved.
Expected<MaildirPass> drain_maildir(const std::filesystem::path& maildir, ClientOptions client,
                                    const MaildirOptions& options, const std::stop_token& stop = {});

}  // namespace relais::mail
