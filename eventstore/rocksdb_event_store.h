// RocksDbEventStore: the EventStore on an embedded RocksDB.
//
// Durability: an append is acknowledged only after the WriteBatch holding it
// is written with sync=true. One writer thread drains every pending append
// into one batch (group commit), so concurrent appenders share one fsync.
// The writer alone assigns versions and positions, checking expected versions
// against an in-memory cache of stream heads; positions are therefore gapless
// and in commit order.
//
// Thread-safe. Reads run on the caller's thread and see every acknowledged
// append.
#ifndef LEADLEDGER_EVENTSTORE_ROCKSDB_EVENT_STORE_H_
#define LEADLEDGER_EVENTSTORE_ROCKSDB_EVENT_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "eventstore/event_store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace leadledger::eventstore {

struct RocksDbEventStoreOptions {
  // Directory of the database; created if missing.
  std::string path;
  // Source of the recorded time of events.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Upper bound on the events of one group commit; appends beyond it wait for
  // the next group.
  int max_group_events = 20000;
};

class RocksDbEventStore final : public EventStore {
 public:
  // The on-disk layout this build reads and writes.
  static constexpr int kSchemaVersion = 1;

  // Opens (or creates) the store at `options.path`.
  // Errors: INVALID_ARGUMENT for an empty path; FAILED_PRECONDITION when the
  // directory was written by another schema version; UNAVAILABLE when
  // RocksDB cannot open it (locked by another process, I/O error, ...).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksDbEventStore>> Open(
      RocksDbEventStoreOptions options);

  // Completes every pending append, stops the writer and closes the database.
  ~RocksDbEventStore() override;

  RocksDbEventStore(const RocksDbEventStore&) = delete;
  RocksDbEventStore& operator=(const RocksDbEventStore&) = delete;

  absl::StatusOr<AppendResult> Append(AppendRequest request) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream, const StreamReadOptions& options) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      const AllReadOptions& options) override;
  absl::StatusOr<int64_t> StreamVersion(absl::string_view stream) override;
  uint64_t HeadPosition() const override;

 private:
  struct PendingAppend;
  struct ColumnFamilies;

  RocksDbEventStore(RocksDbEventStoreOptions options, rocksdb::DB* db,
                    std::vector<rocksdb::ColumnFamilyHandle*> handles,
                    uint64_t head_position);

  void WriterLoop();
  // Decides, writes and completes one group of appends. Writer thread only.
  void CommitGroup(const std::vector<PendingAppend*>& group);
  // Current version of `stream` as the writer knows it. Writer thread only.
  absl::StatusOr<int64_t> CachedHead(const std::string& stream);
  absl::StatusOr<int64_t> StoredHead(absl::string_view stream);
  absl::StatusOr<RecordedEvent> ReadAt(uint64_t position);

  const RocksDbEventStoreOptions options_;
  rocksdb::DB* const db_;
  // Default, events, streams, heads, meta.
  const std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* const events_;
  rocksdb::ColumnFamilyHandle* const streams_;
  rocksdb::ColumnFamilyHandle* const heads_;

  std::atomic<uint64_t> head_position_;

  absl::Mutex queue_mu_;
  std::deque<PendingAppend*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  // Owned by the writer thread.
  absl::flat_hash_map<std::string, int64_t> head_cache_;

  std::thread writer_;
};

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_ROCKSDB_EVENT_STORE_H_
