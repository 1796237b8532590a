// crash_appender: appends to an event store from several threads until it is
// killed, printing one line per acknowledged append:
//   <first position> <last position> <stream> <last version> <payload>
// Each line is written with one write(2), so lines of different threads never
// interleave; a SIGKILL can still cut the last one short, which crash_test
// leaves out. Used by crash_test.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eventstore/rocksdb_event_store.h"

namespace {

// Writes `line` to stdout with one write(2); returns 0 on success.
int WriteLine(const std::string& line) {
  return ::write(STDOUT_FILENO, line.data(), line.size()) ==
                 static_cast<ssize_t>(line.size())
             ? 0
             : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  int round = 0;
  if (argc != 4 || !absl::SimpleAtoi(argv[2], &threads) ||
      !absl::SimpleAtoi(argv[3], &round) || threads <= 0) {
    std::fprintf(stderr, "usage: crash_appender DIR THREADS ROUND\n");
    return 2;
  }
  auto store =
      leadledger::eventstore::RocksDbEventStore::Open({.path = argv[1]});
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  std::vector<std::thread> appenders;
  for (int t = 0; t < threads; ++t) {
    appenders.emplace_back([&, t] {
      absl::BitGen random;
      for (int i = 0;; ++i) {
        namespace es = leadledger::eventstore;
        const std::string stream =
            absl::StrCat("s", t, "-", absl::Uniform(random, 0, 5));
        const int events = absl::Uniform(random, 1, 4);
        std::vector<std::string> payloads;
        for (int e = 0; e < events; ++e) {
          payloads.push_back(
              absl::StrCat("r", round, "t", t, "i", i, "e", e,
                           std::string(absl::Uniform(random, 0, 300), '.')));
        }
        es::StreamWrite write{.stream = stream};
        for (const std::string& payload : payloads) {
          write.events.push_back({.event_id = payload.substr(0, 24),
                                  .type = "Noted",
                                  .payload = payload});
        }
        es::AppendRequest request;
        request.writes.push_back(std::move(write));
        auto result = (*store)->Append(std::move(request));
        if (!result.ok()) {
          std::fprintf(stderr, "append: %s\n",
                       result.status().ToString().c_str());
          std::_Exit(1);
        }
        const std::string line = absl::StrCat(
            result->first_position, " ", result->last_position, " ", stream,
            " ", result->stream_versions[0], " ", payloads.back(), "\n");
        if (WriteLine(line) != 0) std::_Exit(1);
      }
    });
  }
  for (auto& appender : appenders) appender.join();
  return 0;
}
