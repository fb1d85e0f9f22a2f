#include "load.hpp"

#include <algorithm>
#include <latch>
#include <optional>
#include <thread>

#include "relais/client.hpp"

namespace relais::bench {
namespace {

using std::chrono::milliseconds;

struct ClientStats {
  std::vector<std::int64_t> intended_ns;
  std::vector<std::int64_t> sdk_ns;
  std::vector<Acked> acked;
  std::size_t stored = 0, duplicates = 0, rejected = 0, gave_up = 0, resent = 0;
  Clock::time_point end;
  std::string error;
};

// Waits until `t`, reading replies at least every 0.2 ms so that an ack's
// latency is taken when it arrives, not when the next send is due.
void wait_until(Client& client, Clock::time_point t) {
  for (;;) {
    const auto now = Clock::now();
    if (now >= t) return;
    const auto gap = t - now;
    if (gap > milliseconds(3)) {
      client.poll(std::chrono::duration_cast<milliseconds>(gap) - milliseconds(2));
    } else {
      client.poll(milliseconds(0));
      std::this_thread::sleep_for(
          std::min<Clock::duration>(t - Clock::now(), std::chrono::microseconds(200)));
    }
  }
}

void client_thread(const LoadOptions& o, const std::string& endpoint, std::size_t c, std::size_t count,
                   const std::string& prefix, const FeedFactory& feeds, std::latch& ready, std::latch& go,
                   const Clock::time_point& t0, ClientStats& st) {
  std::unique_ptr<PostFeed> feed;
  std::vector<Clock::time_point> intended(count + 2);  // by seq: 1 is the hello post
  bool measuring = false;
  st.intended_ns.reserve(count);
  st.sdk_ns.reserve(count);
  st.acked.reserve(count);

  ClientOptions co;
  co.endpoint = endpoint;
  co.window = o.window;
  co.ack_timeout = milliseconds(o.ack_timeout_ms);
  co.on_result = [&](const SubmitResult& r) {
    const auto now = Clock::now();
    if (!measuring) return;
    switch (r.status) {
      case SubmitStatus::stored:
        ++st.stored;
        break;
      case SubmitStatus::duplicate:
        ++st.duplicates;
        break;
      case SubmitStatus::rejected:
        if (st.rejected++ == 0) st.error = "rejected: " + r.code + " " + r.field + " " + r.message;
        return;
      case SubmitStatus::gave_up:
        ++st.gave_up;
        return;
    }
    if (r.attempts > 1) ++st.resent;
    st.sdk_ns.push_back(r.latency.count());
    if (r.seq < intended.size()) {
      st.intended_ns.push_back((now - intended[r.seq]).count());
      st.acked.push_back({r.post_id, intended[r.seq]});
    }
  };

  std::optional<Client> client;
  try {
    feed = feeds(c);
    client.emplace(co);
    // One post through before the clock starts: the connection is up.
    Post hello = feed->hello();
    hello.external_id = prefix + "-c" + std::to_string(c) + "-hello";
    auto r = client->submit_and_wait(hello, milliseconds(o.start_timeout_ms));
    if (r.status != SubmitStatus::stored && r.status != SubmitStatus::duplicate) {
      st.error = "the first post got no ack: " + r.code + " " + r.message;
    }
  } catch (const std::exception& e) {
    st.error = e.what();
  }
  ready.count_down();
  go.wait();
  if (!st.error.empty()) {
    st.end = Clock::now();
    return;
  }
  measuring = true;
  const std::string id_prefix = prefix + "-c" + std::to_string(c) + "-";
  const double clients = static_cast<double>(o.clients);
  for (std::size_t k = 0; k < count; ++k) {
    Post& post = feed->next(k);
    post.external_id = id_prefix + std::to_string(k);
    if (o.rate > 0) {
      // Open loop: the k-th post of client c is due at a fixed time, whatever
      // happened to the others; clients interleave evenly.
      const double at_s = (static_cast<double>(k) * clients + static_cast<double>(c)) / o.rate;
      const auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at_s));
      intended[k + 2] = due;
      wait_until(*client, due);
    } else {
      intended[k + 2] = Clock::now();
    }
    auto seq = client->submit(post);
    if (!seq || *seq != k + 2) {
      st.error = seq ? "unexpected sequence number" : seq.error().code + ": " + seq.error().message;
      break;
    }
  }
  if (!client->flush(std::chrono::minutes(10))) st.error = "posts still unacknowledged after 10 minutes";
  st.end = Clock::now();
}

}  // namespace

LoadResult run_load(const LoadOptions& o, const std::string& endpoint, const std::string& prefix,
                    std::size_t posts, const FeedFactory& feeds, const std::function<void()>& on_start) {
  LoadResult res;
  const std::size_t n = o.clients;
  std::vector<ClientStats> stats(n);
  std::latch ready(static_cast<std::ptrdiff_t>(n));
  std::latch go(1);
  Clock::time_point t0;
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < n; ++c) {
    const std::size_t count = posts / n + (c < posts % n ? 1 : 0);
    threads.emplace_back(client_thread, std::cref(o), std::cref(endpoint), c, count, std::cref(prefix),
                         std::cref(feeds), std::ref(ready), std::ref(go), std::cref(t0), std::ref(stats[c]));
  }
  ready.wait();
  if (on_start) on_start();
  const double client_cpu0 = process_cpu_seconds();
  // Open loop starts a little later, so that no thread is late for its first post.
  t0 = Clock::now() + (o.rate > 0 ? milliseconds(20) : milliseconds(0));
  go.count_down();
  for (auto& t : threads) t.join();
  Clock::time_point end = t0;
  std::vector<std::int64_t> intended, sdk;
  for (auto& s : stats) {
    end = std::max(end, s.end);
    res.stored += s.stored;
    res.duplicates += s.duplicates;
    res.rejected += s.rejected;
    res.gave_up += s.gave_up;
    res.resent += s.resent;
    if (res.error.empty() && !s.error.empty()) res.error = s.error;
    intended.insert(intended.end(), s.intended_ns.begin(), s.intended_ns.end());
    sdk.insert(sdk.end(), s.sdk_ns.begin(), s.sdk_ns.end());
    res.acked.insert(res.acked.end(), s.acked.begin(), s.acked.end());
  }
  res.client_cpu_s = process_cpu_seconds() - client_cpu0;
  res.posts = res.stored + res.duplicates;
  res.t0 = t0;
  res.end = end;
  res.elapsed_s = std::chrono::duration<double>(end - t0).count();
  res.posts_per_s = res.elapsed_s > 0 ? static_cast<double>(res.posts) / res.elapsed_s : 0;
  res.sdk = percentiles(sdk);
  res.latency = o.rate > 0 ? percentiles(intended) : res.sdk;
  return res;
}

}  // namespace relais::bench
