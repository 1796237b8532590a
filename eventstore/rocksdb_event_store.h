// RocksDbEventStore: the EventStore on an embedded RocksDB.
//
// Durability: an append is acknowledged only after the WriteBatch holding it
// is written with sync=true. Appends queue up; the one at the front becomes
// the leader and writes every queued append as one batch (group commit), so
// concurrent appenders share one fsync. An append with a max_sync_delay
// leads only once its delay is over (or another append queues behind it);
// the first append without one leads at once, taking those ahead of it
// along. Only the leader, one at a time,
// assigns versions and positions, checking expected versions against a
// bounded in-memory cache of stream heads (HeadCache) that falls back to
// the heads column family; positions are therefore gapless and in
// commit order. Idempotency records go into the same batch as the
// events they answer for.
//
// A failed write leaves the store read-only until it is reopened: whether
// the failed batch reached the disk is then settled by RocksDB's recovery, and
// the heads are re-read, so memory never disagrees with the disk.
//
// Layout (column families; integers big-endian, see keys.h):
//   events  : position            -> EventEnvelope
//   streams : stream '\0' first version -> first position, count (a run of
//             the stream's events written by one append)
//   heads   : stream              -> version of the stream's last event
//   dedupe  : idempotency key     -> IdempotencyRecord (expired by compaction)
//   meta    : "schema_version"    -> decimal
//
// Thread-safe. Reads run on the caller's thread and see every acknowledged
// append. Subscriptions must be destroyed before the store.
#ifndef LEADLEDGER_EVENTSTORE_ROCKSDB_EVENT_STORE_H_
#define LEADLEDGER_EVENTSTORE_ROCKSDB_EVENT_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "eventstore/head_cache.h"
#include "eventstore/subscription_hub.h"

namespace rocksdb {
class ColumnFamilyHandle;
class CompactionFilter;
class DB;
class Env;
}  // namespace rocksdb

namespace leadledger::eventstore {

struct RocksDbEventStoreOptions {
  // Directory of the database; created if missing.
  std::string path;
  // Source of the recorded time of events and of idempotency expiry.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // How long an idempotency key is remembered, at least.
  absl::Duration idempotency_retention = absl::Hours(7 * 24);
  // Upper bound on the events of one group commit; appends beyond it wait for
  // the next group.
  int max_group_events = 20000;
  // Events a live subscriber may have buffered before it is switched back to
  // reading from disk.
  size_t subscriber_buffer_events = 16384;
  // Streams whose head the store keeps in memory (HeadCache), at least 2:
  // the leads being worked on. Appends to others read their head from disk.
  size_t cached_heads = 1 << 18;
  // RocksDB environment; the default one when null. Tests pass one that
  // injects I/O faults. Must outlive the store.
  rocksdb::Env* env = nullptr;
};

class RocksDbEventStore final : public EventStore {
 public:
  // The on-disk layout this build reads and writes.
  static constexpr int kSchemaVersion = 1;

  // Opens (or creates) the store at `options.path`. The head of the log is
  // found with one seek; stream heads are read from disk when first needed.
  // Errors: INVALID_ARGUMENT for bad options; FAILED_PRECONDITION when the
  // directory was written by another schema version; UNAVAILABLE when
  // RocksDB cannot open it (locked by another process, I/O error, ...);
  // DATA_LOSS when RocksDB finds it corrupt.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksDbEventStore>> Open(
      RocksDbEventStoreOptions options);

  // Lets every queued append complete, cancels subscriptions still blocked
  // and closes the database. No append may start during destruction.
  ~RocksDbEventStore() override;

  RocksDbEventStore(const RocksDbEventStore&) = delete;
  RocksDbEventStore& operator=(const RocksDbEventStore&) = delete;

  absl::StatusOr<AppendResult> AppendInOrder(
      AppendRequest request, absl::FunctionRef<void()> queued) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream, const StreamReadOptions& options) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      const AllReadOptions& options) override;
  absl::StatusOr<int64_t> StreamVersion(absl::string_view stream) override;
  uint64_t HeadPosition() const override;
  absl::StatusOr<std::unique_ptr<Subscription>> SubscribeAll(
      const SubscribeOptions& options) override;
  absl::Status Backup(const std::string& directory) override;
  absl::StatusOr<VerifyReport> Verify() override;
  absl::StatusOr<std::optional<CommittedAppend>> LookupIdempotencyKey(
      absl::string_view idempotency_key) override;
  void BeginExpedite() override;
  void EndExpedite() override;

  // Compacts the idempotency keys now, dropping those past retention (RocksDB
  // also does this on its own as the keys accumulate).
  // Errors: UNAVAILABLE on I/O failure.
  [[nodiscard]] absl::Status ExpireIdempotencyKeys();

 private:
  struct PendingAppend;

  RocksDbEventStore(RocksDbEventStoreOptions options, rocksdb::DB* db,
                    std::vector<rocksdb::ColumnFamilyHandle*> handles,
                    uint64_t head_position);

  // Decides and writes one group of appends, setting each one's result. Runs
  // on the group leader's thread, one group at a time.
  // Takes the group the next leader writes: queued appends from the front,
  // up to max_group_events.
  std::vector<PendingAppend*> TakeGroup()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  void CommitGroup(const std::vector<PendingAppend*>& group);
  // Current version of `stream` as the leaders know it. Leader only.
  absl::StatusOr<int64_t> CachedHead(const std::string& stream);
  absl::StatusOr<int64_t> StoredHead(absl::string_view stream);
  absl::StatusOr<RecordedEvent> ReadAt(uint64_t position);
  // Scans the log from `from_position`, keeping events whose type is in
  // `types` (all when empty), until `max_count` are kept.
  absl::StatusOr<std::vector<RecordedEvent>> Scan(
      uint64_t from_position, int max_count,
      const absl::flat_hash_set<std::string>& types);

  const RocksDbEventStoreOptions options_;
  // Used by the database; the destructor closes the database before members
  // are destroyed.
  std::unique_ptr<rocksdb::CompactionFilter> dedupe_expiry_;
  rocksdb::DB* const db_;
  // Default, events, streams, heads, dedupe, meta.
  const std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* const events_;
  rocksdb::ColumnFamilyHandle* const streams_;
  rocksdb::ColumnFamilyHandle* const heads_;
  rocksdb::ColumnFamilyHandle* const dedupe_;

  std::atomic<uint64_t> head_position_;
  SubscriptionHub hub_;

  absl::Mutex queue_mu_;
  std::deque<PendingAppend*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  // Whether some append is writing its group now.
  bool leader_active_ ABSL_GUARDED_BY(queue_mu_) = false;
  // The first queued append without a max_sync_delay; null when none is.
  PendingAppend* first_immediate_ ABSL_GUARDED_BY(queue_mu_) = nullptr;
  // Callers between BeginExpedite and EndExpedite.
  int expedite_count_ ABSL_GUARDED_BY(queue_mu_) = 0;

  // Used only by the group leader; leaders take turns under queue_mu_.
  HeadCache head_cache_;
  // Set by a leader after a failed write; every later append fails fast.
  absl::Mutex failure_mu_;
  absl::Status write_failure_ ABSL_GUARDED_BY(failure_mu_);
};

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_ROCKSDB_EVENT_STORE_H_
