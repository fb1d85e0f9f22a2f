// Submits one post to relaisd with relais::Client and prints the outcome:
//
//   relais_sdk_consumer ENDPOINT SOURCE EXTERNAL_ID TEXT
//
// prints "<status> <post id>" (stored, duplicate) or "<status> <code> <field>
// <message>" (rejected, gave_up); exits 0 on stored and duplicate only.
#include <relais/client.hpp>
#include <relais/post.hpp>

#include <chrono>
#include <exception>
#include <iostream>

namespace {
const char* status_name(relais::SubmitStatus status) {
  switch (status) {
    case relais::SubmitStatus::stored:
      return "stored";
    case relais::SubmitStatus::duplicate:
      return "duplicate";
    case relais::SubmitStatus::rejected:
      return "rejected";
    case relais::SubmitStatus::gave_up:
      return "gave_up";
  }
  return "?";
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: " << argv[0] << " ENDPOINT SOURCE EXTERNAL_ID TEXT\n";
    return 2;
  }
  try {
    relais::ClientOptions options;
    options.endpoint = argv[1];
    options.ack_timeout = std::chrono::milliseconds(500);
    options.max_resend_interval = std::chrono::milliseconds(2000);
    options.max_attempts = 10;  // fail rather than resend forever
    relais::Client client(options);

    relais::Post post;
    post.source = argv[2];
    post.external_id = argv[3];
    post.text = argv[4];
    post.fields["via"] = "relais-sdk-consumer";
    relais::SubmitResult result = client.submit_and_wait(post, std::chrono::seconds(30));

    std::cout << status_name(result.status);
    if (result.status == relais::SubmitStatus::stored || result.status == relais::SubmitStatus::duplicate) {
      std::cout << ' ' << result.post_id << '\n';
      return 0;
    }
    std::cout << ' ' << result.code << ' ' << result.field << ' ' << result.message << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "relais_sdk_consumer: " << e.what() << '\n';
    return 1;
  }
}
