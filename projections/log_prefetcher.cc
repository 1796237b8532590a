#include "projections/log_prefetcher.h"

#include <utility>

#include "eventstore/rocksdb_thread.h"

namespace leadledger::projections {

LogPrefetcher::LogPrefetcher(eventstore::EventStore* store,
                             uint64_t from_position, int chunk_events,
                             int max_chunks, uint64_t last_position,
                             const std::function<void()>& thread_started)
    : store_(store),
      chunk_events_(chunk_events),
      last_position_(last_position),
      max_chunks_(static_cast<size_t>(max_chunks < 1 ? 1 : max_chunks)) {
  reader_ = std::thread([this, from_position, thread_started] {
    if (thread_started) thread_started();
    Read(from_position);
  });
}

LogPrefetcher::~LogPrefetcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  reader_.join();
}

void LogPrefetcher::Read(uint64_t from_position) {
  eventstore::DisableRocksDbPerfCountersOnThisThread();
  uint64_t next = from_position;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || ready_.size() < max_chunks_;
      };
      mu_.Await(absl::Condition(&room));
      if (stopping_) return;
    }
    auto chunk = std::make_unique<EventChunk>();
    absl::StatusOr<std::vector<eventstore::RecordedEvent>> events =
        std::vector<eventstore::RecordedEvent>();
    if (next <= last_position_) {
      events =
          store_->ReadAll({.from_position = next, .max_count = chunk_events_});
    }
    if (events.ok()) {
      while (!events->empty() && events->back().position > last_position_) {
        events->pop_back();
      }
      chunk->events = *std::move(events);
      chunk->decoded.reserve(chunk->events.size());
      for (const eventstore::RecordedEvent& event : chunk->events) {
        chunk->decoded.emplace_back(event);
      }
      if (!chunk->events.empty()) next = chunk->events.back().position + 1;
    }
    absl::MutexLock lock(&mu_);
    if (!events.ok()) {
      error_ = events.status();
      done_ = true;
      return;
    }
    if (chunk->events.empty()) {
      done_ = true;
      return;
    }
    ready_.push_back(std::move(chunk));
  }
}

absl::StatusOr<std::unique_ptr<EventChunk>> LogPrefetcher::Next() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !ready_.empty() || done_;
  };
  mu_.Await(absl::Condition(&ready));
  if (!ready_.empty()) {
    std::unique_ptr<EventChunk> chunk = std::move(ready_.front());
    ready_.pop_front();
    return chunk;
  }
  if (!error_.ok()) return error_;
  return std::make_unique<EventChunk>();
}

}  // namespace leadledger::projections
