// Sources bring posts in: a web form, a mailbox, a chat room. A source runs
// its own I/O on a thread of its own and submits through relais::Client to
// the endpoint it is given (inproc:// in relaisd), exactly as an external
// program does over ipc:// or tcp://.
#pragma once

#include <stop_token>
#include <string>

namespace relais {

struct SourceEnvironment {
  std::string endpoint;         // where to submit: pass it to ClientOptions::endpoint
  void* zmq_context = nullptr;  // pass it to ClientOptions::zmq_context
  std::stop_token stop;         // asked to stop: finish what is in flight, then return
};

class Source {
 public:
  virtual ~Source() = default;
  // Runs until `env.stop` is requested. Returning early or throwing means
  // the source died: the daemon logs it and runs it again after a backoff.
  virtual void run(const SourceEnvironment& env) = 0;
};

}  // namespace relais
