// relais-mail: a delivery agent for Postfix (pipe transport or
// mailbox_command). Reads one message on standard input, submits it to
// relaisd, and says with its exit status what Postfix must do (sysexits.h):
// 0 delivered (stored, or stored before); 75 try again later (relaisd did
// not answer); 65 bounce (not a message, too large, refused by relaisd).
// Postfix retries only on 75: any other failure bounces the mail for good.
//
// With --maildir DIR, submits every message of DIR/new instead (maildir.hpp).
//
// What it prints goes into Postfix's log and into bounces: never an
// address or a word of the message.
#include <sysexits.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <iostream>
#include <string>
#include <system_error>

#include "mail_post.hpp"
#include "maildir.hpp"
#include "relais/client.hpp"

namespace json = boost::json;

namespace {

// The socket of the shipped configuration (state_dir = "/var/lib/relais").
constexpr const char* kDefaultEndpoint = "ipc:///var/lib/relais/ingest.sock";

struct Options {
  std::string endpoint = kDefaultEndpoint;
  int timeout_seconds = 30;
  std::string channel = "email";
  std::size_t max_message_bytes = relais::mail::kDefaultMaxMessageBytes;
  std::size_t max_text_bytes = 65536;
  std::string maildir;
  bool dry_run = false;
};

int fail(int status, const std::string& why) {
  std::cerr << "relais-mail: " << why << "\n";
  return status;
}

enum class ReadOutcome : std::uint8_t { ok, too_large, failed };

// Reads standard input, at most `limit` bytes and one more to know it was over.
ReadOutcome read_stdin(std::string& out, std::size_t limit) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) return ReadOutcome::ok;
    if (n < 0) {
      if (errno == EINTR) continue;
      return ReadOutcome::failed;
    }
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) return ReadOutcome::too_large;
  }
}

json::object as_json(const relais::Post& post) {
  json::object fields;
  for (const auto& [k, v] : post.fields) fields[k] = v;
  json::object private_data;
  for (const auto& [k, v] : post.private_data) private_data[k] = v;
  json::object o{{"source", post.source},
                 {"external_id", post.external_id},
                 {"channel", post.channel},
                 {"sender", post.sender},
                 {"received_at", post.received_at}};
  o["subject"] = post.subject ? json::value(*post.subject) : json::value(nullptr);
  o["text"] = post.text;
  if (!post.lang.empty()) o["lang"] = post.lang;
  if (!fields.empty()) o["fields"] = std::move(fields);
  if (!private_data.empty()) o["private"] = std::move(private_data);
  return o;
}

relais::ClientOptions client_options(const Options& o) {
  relais::ClientOptions client;
  client.endpoint = o.endpoint;
  client.ack_timeout = std::chrono::milliseconds(500);
  client.max_resend_interval = std::chrono::milliseconds(4000);
  return client;
}

int deliver_one(const Options& o, const relais::mail::ParseOptions& parse) {
  std::string raw;
  switch (read_stdin(raw, parse.max_message_bytes)) {
    case ReadOutcome::ok:
      break;
    case ReadOutcome::too_large:
      return fail(EX_DATAERR,
                  "the message is over the limit of " + std::to_string(parse.max_message_bytes) + " bytes");
    case ReadOutcome::failed:
      return fail(EX_TEMPFAIL, "cannot read the message: " + std::generic_category().message(errno));
  }
  auto post = relais::mail::post_from_message(raw, parse);
  if (!post) return fail(EX_DATAERR, post.error().message);
  if (o.dry_run) {
    std::cout << json::serialize(as_json(*post)) << "\n";
    return EX_OK;
  }
  relais::Client client(client_options(o));
  const auto result = client.submit_and_wait(*post, std::chrono::seconds(o.timeout_seconds));
  switch (result.status) {
    case relais::SubmitStatus::stored:
      std::cout << "stored post " << result.post_id << "\n";
      return EX_OK;
    case relais::SubmitStatus::duplicate:
      std::cout << "already stored as post " << result.post_id << "\n";
      return EX_OK;
    case relais::SubmitStatus::rejected:
      return fail(EX_DATAERR, "refused by relaisd (" + result.code + "): " + result.message);
    case relais::SubmitStatus::gave_up:
      break;
  }
  return fail(EX_TEMPFAIL, "relaisd did not answer at " + o.endpoint + " within " +
                               std::to_string(o.timeout_seconds) + " s; try again later");
}

int deliver_maildir(const Options& o, const relais::mail::ParseOptions& parse) {
  relais::mail::MaildirOptions options;
  options.parse = parse;
  options.ack_wait = std::chrono::seconds(o.timeout_seconds);
  options.on_refused = [](std::string_view file, const relais::Error& why) {
    std::cerr << "relais-mail: " << file << ": set aside in " << relais::mail::kRefusedFolder << ": "
              << why.message << "\n";
  };
  const auto pass = relais::mail::drain_maildir(o.maildir, client_options(o), options);
  if (!pass) return fail(EX_IOERR, pass.error().message);
  std::cout << "stored " << pass->stored << ", duplicates " << pass->duplicates << ", set aside "
            << pass->refused << ", waiting " << pass->waiting << "\n";
  if (pass->waiting > 0) {
    return fail(EX_TEMPFAIL, "relaisd did not answer at " + o.endpoint + " within " +
                                 std::to_string(o.timeout_seconds) + " s; " + std::to_string(pass->waiting) +
                                 " messages wait in new/");
  }
  return EX_OK;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "relais-mail: submits the message on standard input to relaisd (a Postfix pipe transport or "
      "mailbox_command). Exit status: 0 stored, 75 relaisd unreachable (try again), 65 not a message "
      "or refused (bounce)."};
  app.add_option("--endpoint", o.endpoint, "relaisd's ingest endpoint (ipc:// or tcp://)")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_seconds, "seconds to wait for relaisd's acknowledgement")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--channel", o.channel, "the posts' channel")->capture_default_str();
  app.add_option("--max-message-bytes", o.max_message_bytes, "larger messages are refused (65)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-text-bytes", o.max_text_bytes,
                 "a longer text is refused (65); relaisd's ingest.max_text_bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  app.add_option("--maildir", o.maildir, "submit every message of DIR/new, then move it to DIR/cur");
  app.add_flag("--dry-run", o.dry_run,
               "print the post as JSON instead of submitting it (not with --maildir)");
  app.set_version_flag("--version", std::string("relais-mail ") + RELAIS_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? EX_OK : EX_USAGE;
  }
  if (o.endpoint.rfind("ipc://", 0) != 0 && o.endpoint.rfind("tcp://", 0) != 0) {
    return fail(EX_USAGE, "--endpoint must be ipc://PATH or tcp://HOST:PORT");
  }
  if (o.channel.empty() || o.channel.size() > 256) return fail(EX_USAGE, "--channel must be 1 to 256 bytes");
  if (o.dry_run && !o.maildir.empty()) return fail(EX_USAGE, "--dry-run reads standard input only");

  relais::mail::ParseOptions parse;
  parse.channel = o.channel;
  parse.max_message_bytes = o.max_message_bytes;
  parse.max_text_bytes = o.max_text_bytes;
  try {
    return o.maildir.empty() ? deliver_one(o, parse) : deliver_maildir(o, parse);
  } catch (const std::exception& e) {
    // ZeroMQ refusing the endpoint, mostly: a configuration to fix, and
    // Postfix keeps the mail meanwhile.
    return fail(EX_TEMPFAIL, std::string("cannot reach relaisd at ") + o.endpoint + ": " + e.what());
  }
}
