// LogPrefetcher: reads the log forward on a thread of its own, decoding each
// event once (DecodedEvent), so that a bulk fold finds the next events ready
// on its own thread.
//
// It reads from a position until a read finds nothing new (the head as of
// that read), or up to a last position, and keeps at most `max_chunks`
// chunks waiting. Next() is for
// one consumer thread; the destructor stops the reading thread.
#ifndef LEADLEDGER_PROJECTIONS_LOG_PREFETCHER_H_
#define LEADLEDGER_PROJECTIONS_LOG_PREFETCHER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "eventstore/event_store.h"
#include "projections/decoded_event.h"

namespace leadledger::projections {

// Consecutive events of the log; decoded[i] is events[i] decoded.
struct EventChunk {
  std::vector<eventstore::RecordedEvent> events;
  std::vector<DecodedEvent> decoded;
};

class LogPrefetcher {
 public:
  // A last position that reads until a read finds nothing new.
  static constexpr uint64_t kToTheHead = std::numeric_limits<uint64_t>::max();

  // Starts reading `store` (which must outlive this) at `from_position`,
  // `chunk_events` events per read, and stops after `last_position`: a
  // reader that must finish sets it, since appends may outpace its reads.
  // The reading thread calls `thread_started`, if set, before anything
  // else.
  LogPrefetcher(eventstore::EventStore* store, uint64_t from_position,
                int chunk_events, int max_chunks,
                uint64_t last_position = kToTheHead,
                const std::function<void()>& thread_started = nullptr);
  ~LogPrefetcher();
  LogPrefetcher(const LogPrefetcher&) = delete;
  LogPrefetcher& operator=(const LogPrefetcher&) = delete;

  // The next chunk, in log order; an empty one once a read found nothing
  // after the previous chunk, or the last position was read.
  // Errors: those of EventStore::ReadAll (then the reading has stopped).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<EventChunk>> Next();

 private:
  void Read(uint64_t from_position);

  eventstore::EventStore* const store_;
  const int chunk_events_;
  const uint64_t last_position_;
  const size_t max_chunks_;
  absl::Mutex mu_;
  std::deque<std::unique_ptr<EventChunk>> ready_ ABSL_GUARDED_BY(mu_);
  // Set once the reading ended: an empty read, or this error.
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread reader_;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_LOG_PREFETCHER_H_
