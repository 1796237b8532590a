#include "eventstore/rocksdb_event_store.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eventstore/fingerprint.h"
#include "eventstore/keys.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "leadledger/events/v1/envelope.pb.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace leadledger::eventstore {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr char kEventsFamily[] = "events";
constexpr char kStreamsFamily[] = "streams";
constexpr char kHeadsFamily[] = "heads";
constexpr char kDedupeFamily[] = "dedupe";
constexpr char kMetaFamily[] = "meta";
constexpr char kSchemaVersionKey[] = "schema_version";
constexpr size_t kMaxFingerprintLength = 256;
// Verify stops listing problems after this many.
constexpr size_t kMaxReportedProblems = 100;

// Indexes into the handle vector, in the order the families are opened.
enum Family { kDefault = 0, kEvents, kStreams, kHeads, kDedupe, kMeta };

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

absl::Status FromRocks(const rocksdb::Status& status,
                       absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(message);
}

absl::Time FromProto(const google::protobuf::Timestamp& time) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(time));
}

google::protobuf::Timestamp ToProto(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

absl::Status ValidateRequest(const AppendRequest& request) {
  if (request.writes.empty()) {
    return absl::InvalidArgumentError("append: no stream to write");
  }
  if (request.idempotency_key.size() > kMaxIdempotencyKeyLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key: longer than ", kMaxIdempotencyKeyLength, " bytes"));
  }
  if (request.idempotency_fingerprint.size() > kMaxFingerprintLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_fingerprint: longer than ",
                     kMaxFingerprintLength, " bytes"));
  }
  absl::flat_hash_set<absl::string_view> streams;
  for (const StreamWrite& write : request.writes) {
    if (write.stream.empty() || write.stream.size() > kMaxStreamNameLength ||
        write.stream.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("stream: name must be 1 to ", kMaxStreamNameLength,
                       " bytes without NUL"));
    }
    if (!streams.insert(write.stream).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("stream ", write.stream, ": named twice in one append"));
    }
    if (write.events.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("stream ", write.stream, ": no events to append"));
    }
    if (write.expected_version.kind() == ExpectedVersion::Kind::kExact &&
        write.expected_version.version() < kNoStreamVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat("stream ", write.stream, ": expected version ",
                       write.expected_version.version(), " is negative"));
    }
    for (const NewEvent& event : write.events) {
      if (event.type.empty() || event.type.size() > kMaxEventTypeLength) {
        return absl::InvalidArgumentError(
            absl::StrCat("stream ", write.stream, ": event type must be 1 to ",
                         kMaxEventTypeLength, " bytes"));
      }
    }
  }
  return absl::OkStatus();
}

// Decodes the envelope stored at `position` into `event`. `scratch` is
// reused across calls, so a scan does not allocate the message's strings
// again for every event.
absl::Status DecodeEnvelope(uint64_t position, absl::string_view bytes,
                            events::v1::EventEnvelope& scratch,
                            RecordedEvent& event) {
  if (!scratch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      scratch.position() != position) {
    return absl::DataLossError(
        absl::StrCat("event at position ", position, " is unreadable"));
  }
  event.event_id = scratch.event_id();
  event.stream = scratch.stream();
  event.stream_version = scratch.stream_version();
  event.position = scratch.position();
  event.type = scratch.type();
  event.schema_version = scratch.schema_version();
  event.recorded_time = FromProto(scratch.recorded_time());
  event.metadata.actor = scratch.actor();
  event.metadata.correlation_id = scratch.correlation_id();
  event.metadata.causation_id = scratch.causation_id();
  event.payload = scratch.payload();
  return absl::OkStatus();
}

absl::StatusOr<RecordedEvent> DecodeEnvelope(uint64_t position,
                                             absl::string_view bytes) {
  events::v1::EventEnvelope scratch;
  RecordedEvent event;
  if (absl::Status decoded = DecodeEnvelope(position, bytes, scratch, event);
      !decoded.ok()) {
    return decoded;
  }
  return event;
}

absl::Status ValidateCount(int max_count) {
  if (max_count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_count: must be positive, got ", max_count));
  }
  return absl::OkStatus();
}

AppendResult FromRecord(const events::v1::IdempotencyRecord& record) {
  AppendResult result;
  result.first_position = record.first_position();
  result.last_position = record.last_position();
  result.stream_versions.assign(record.stream_versions().begin(),
                                record.stream_versions().end());
  return result;
}

// Drops idempotency records older than the retention when RocksDB compacts
// the dedupe family, so expiry costs nothing on the append path.
class IdempotencyExpiry final : public rocksdb::CompactionFilter {
 public:
  IdempotencyExpiry(std::function<absl::Time()> now, absl::Duration retention)
      : now_(std::move(now)), retention_(retention) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/,
              const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    events::v1::IdempotencyRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return false;  // Keep what we cannot read; Verify reports nothing here.
    }
    return FromProto(record.commit_time()) + retention_ < now_();
  }
  const char* Name() const override { return "leadledger.IdempotencyExpiry"; }

 private:
  const std::function<absl::Time()> now_;
  const absl::Duration retention_;
};

}  // namespace

struct RocksDbEventStore::PendingAppend {
  AppendRequest request;
  // Set when the request carries an idempotency key.
  std::string fingerprint;
  absl::StatusOr<AppendResult> result;
  // An earlier append of the same group with the same key and content: this
  // one shares its fate.
  PendingAppend* same_key_leader = nullptr;
  // Set, under queue_mu_, once the group holding this append is decided.
  bool finished = false;
  // Whether the request has a max_sync_delay, and when it ends. Real time,
  // not options_.now: the leader-to-be sleeps on it.
  bool delayed = false;
  absl::Time delayed_until = absl::InfinitePast();
};

absl::StatusOr<std::unique_ptr<RocksDbEventStore>> RocksDbEventStore::Open(
    RocksDbEventStoreOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("event store path: must not be empty");
  }
  if (options.max_group_events <= 0) {
    return absl::InvalidArgumentError(
        "event store max_group_events: must be positive");
  }
  if (options.idempotency_retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "event store idempotency_retention: must be positive");
  }
  if (options.subscriber_buffer_events == 0) {
    return absl::InvalidArgumentError(
        "event store subscriber_buffer_events: must be positive");
  }
  if (options.cached_heads < 2) {
    return absl::InvalidArgumentError(
        "event store cached_heads: must be at least 2");
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Every acknowledged write was synced, so a torn tail after a crash can
  // only hold unacknowledged writes: replay up to it.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  if (options.env != nullptr) db_options.env = options.env;

  rocksdb::ColumnFamilyOptions plain;
  rocksdb::ColumnFamilyOptions dedupe = plain;
  // RocksDB keeps a raw pointer to the filter: the store owns it and deletes
  // it after the database.
  auto expiry = std::make_unique<IdempotencyExpiry>(
      options.now, options.idempotency_retention);
  dedupe.compaction_filter = expiry.get();
  // Keys are written once and never overwritten, so nothing would otherwise
  // make RocksDB compact them: revisit their files daily.
  dedupe.periodic_compaction_seconds = 24 * 60 * 60;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {kEventsFamily, plain},
      {kStreamsFamily, plain},
      {kHeadsFamily, plain},
      {kDedupeFamily, dedupe},
      {kMetaFamily, plain},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (absl::Status opened = FromRocks(
          rocksdb::DB::Open(db_options, options.path, families, &handles, &db),
          absl::StrCat("open event store at ", options.path));
      !opened.ok()) {
    return opened;
  }
  auto close = [&] {
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  };

  // Refuse a directory laid out by another schema version.
  std::string stored_schema;
  rocksdb::Status schema_read = db->Get(rocksdb::ReadOptions(), handles[kMeta],
                                        kSchemaVersionKey, &stored_schema);
  const std::string our_schema = absl::StrCat(kSchemaVersion);
  if (schema_read.IsNotFound()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    schema_read = db->Put(sync, handles[kMeta], kSchemaVersionKey, our_schema);
    if (!schema_read.ok()) {
      absl::Status status = FromRocks(schema_read, "write schema version");
      close();
      return status;
    }
  } else if (!schema_read.ok()) {
    absl::Status status = FromRocks(schema_read, "read schema version");
    close();
    return status;
  } else if (stored_schema != our_schema) {
    close();
    return absl::FailedPreconditionError(
        absl::StrCat("event store at ", options.path, " has schema version ",
                     stored_schema, "; this build reads version ", our_schema));
  }

  // The head is the last key of the events family: one seek, not a scan.
  uint64_t head_position = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles[kEvents]));
    it->SeekToLast();
    absl::Status status = FromRocks(it->status(), "find the log head");
    if (status.ok() && it->Valid()) {
      std::optional<uint64_t> last = DecodeUint64(View(it->key()));
      if (last.has_value()) {
        head_position = *last;
      } else {
        status = absl::DataLossError(
            absl::StrCat("event store at ", options.path,
                         ": malformed key in the events family"));
      }
    }
    if (!status.ok()) {
      it.reset();
      close();
      return status;
    }
  }
  std::unique_ptr<RocksDbEventStore> store(new RocksDbEventStore(
      std::move(options), db, std::move(handles), head_position));
  store->dedupe_expiry_ = std::move(expiry);
  return store;
}

RocksDbEventStore::RocksDbEventStore(
    RocksDbEventStoreOptions options, rocksdb::DB* db,
    std::vector<rocksdb::ColumnFamilyHandle*> handles, uint64_t head_position)
    : options_(std::move(options)),
      db_(db),
      handles_(std::move(handles)),
      events_(handles_[kEvents]),
      streams_(handles_[kStreams]),
      heads_(handles_[kHeads]),
      dedupe_(handles_[kDedupe]),
      head_position_(head_position),
      hub_([this](uint64_t from,
                  int max_count) { return Scan(from, max_count, {}); },
           head_position, options_.subscriber_buffer_events),
      head_cache_(options_.cached_heads) {}

RocksDbEventStore::~RocksDbEventStore() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
    // Appends already queued are still committed by their leaders.
    auto drained = [this]() ABSL_SHARED_LOCKS_REQUIRED(queue_mu_) {
      return queue_.empty() && !leader_active_;
    };
    queue_mu_.Await(absl::Condition(&drained));
  }
  hub_.CloseAll();
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close().PermitUncheckedError();
  delete db_;
}

absl::StatusOr<AppendResult> RocksDbEventStore::AppendInOrder(
    AppendRequest request, absl::FunctionRef<void()> queued) {
  if (absl::Status valid = ValidateRequest(request); !valid.ok()) return valid;
  {
    absl::MutexLock lock(&failure_mu_);
    if (!write_failure_.ok()) return write_failure_;
  }
  PendingAppend pending;
  if (!request.idempotency_key.empty()) {
    pending.fingerprint = request.idempotency_fingerprint.empty()
                              ? FingerprintWrites(request)
                              : request.idempotency_fingerprint;
  }
  pending.request = std::move(request);
  pending.delayed = pending.request.max_sync_delay > absl::ZeroDuration();
  if (pending.delayed) {
    pending.delayed_until = absl::Now() + pending.request.max_sync_delay;
  }

  // Group commit, leader style: when no group is being written, the first
  // queued append without a delay (or the one at the front, once its delay
  // is over) takes every queued append from the front (up to the group
  // limit) and writes them as one batch on its own thread; the others wait
  // for it. No thread hand-off on the way in or out.
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) return absl::UnavailableError("event store is closing");
    queue_.push_back(&pending);
    if (!pending.delayed && first_immediate_ == nullptr) {
      first_immediate_ = &pending;
    }
  }
  queued();
  absl::MutexLock lock(&queue_mu_);
  auto finished_or_leading = [&]() ABSL_SHARED_LOCKS_REQUIRED(queue_mu_) {
    if (pending.finished) return true;
    if (leader_active_) return false;
    if (first_immediate_ == &pending) return true;
    if (queue_.front() != &pending) return false;
    if (!pending.delayed) return true;
    // An append without delay leads and takes this one along: waking this
    // thread instead would hand its group over to another thread.
    if (first_immediate_ != nullptr) return false;
    // Company is there already, or will not come soon enough.
    return queue_.size() > 1 || expedite_count_ > 0 || stopping_ ||
           absl::Now() >= pending.delayed_until;
  };
  if (pending.delayed) {
    queue_mu_.AwaitWithDeadline(absl::Condition(&finished_or_leading),
                                pending.delayed_until);
  }
  // A leader behind delayed appends may fill a group before reaching its
  // own append; it then leads again.
  while (!pending.finished) {
    queue_mu_.Await(absl::Condition(&finished_or_leading));
    if (pending.finished) break;
    leader_active_ = true;
    std::vector<PendingAppend*> group = TakeGroup();
    queue_mu_.Unlock();
    CommitGroup(group);
    queue_mu_.Lock();
    for (PendingAppend* member : group) member->finished = true;
    leader_active_ = false;
  }
  return std::move(pending.result);
}

std::vector<RocksDbEventStore::PendingAppend*> RocksDbEventStore::TakeGroup() {
  std::vector<PendingAppend*> group;
  int events = 0;
  bool took_first_immediate = false;
  while (!queue_.empty()) {
    int size = 0;
    for (const StreamWrite& write : queue_.front()->request.writes) {
      size += static_cast<int>(write.events.size());
    }
    // Always take one append, however large, so nothing starves.
    if (!group.empty() && events + size > options_.max_group_events) break;
    events += size;
    took_first_immediate |= queue_.front() == first_immediate_;
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  if (took_first_immediate) {
    first_immediate_ = nullptr;
    for (PendingAppend* queued_append : queue_) {
      if (!queued_append->delayed) {
        first_immediate_ = queued_append;
        break;
      }
    }
  }
  return group;
}

void RocksDbEventStore::BeginExpedite() {
  absl::MutexLock lock(&queue_mu_);
  ++expedite_count_;
}

void RocksDbEventStore::EndExpedite() {
  absl::MutexLock lock(&queue_mu_);
  --expedite_count_;
}

absl::StatusOr<int64_t> RocksDbEventStore::StoredHead(
    absl::string_view stream) {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), heads_,
               rocksdb::Slice(stream.data(), stream.size()), &value);
  if (status.IsNotFound()) return kNoStreamVersion;
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("read head of stream ", stream));
  }
  std::optional<uint64_t> version = DecodeUint64(value);
  if (!version.has_value()) {
    return absl::DataLossError(
        absl::StrCat("head of stream ", stream, " is unreadable"));
  }
  return static_cast<int64_t>(*version);
}

absl::StatusOr<int64_t> RocksDbEventStore::CachedHead(
    const std::string& stream) {
  if (std::optional<int64_t> cached = head_cache_.Find(stream)) {
    return *cached;
  }
  absl::StatusOr<int64_t> stored = StoredHead(stream);
  if (stored.ok()) head_cache_.Set(stream, *stored);
  return stored;
}

void RocksDbEventStore::CommitGroup(const std::vector<PendingAppend*>& group) {
  {
    absl::MutexLock lock(&failure_mu_);
    if (!write_failure_.ok()) {
      for (PendingAppend* pending : group) {
        pending->result = write_failure_;
      }
      return;
    }
  }
  rocksdb::WriteBatch batch;
  // Heads as they will be once this group commits; merged into the cache only
  // after the batch is durable.
  absl::flat_hash_map<std::string, int64_t> new_heads;
  absl::flat_hash_map<std::string, PendingAppend*> keys_in_group;
  std::vector<PendingAppend*> accepted;
  std::vector<PendingAppend*> followers;
  uint64_t next_position = head_position_.load(std::memory_order_relaxed) + 1;
  const absl::Time now = options_.now();
  const google::protobuf::Timestamp recorded = ToProto(now);
  // Reused for every event of the group.
  events::v1::EventEnvelope envelope;
  std::string serialized;
  // Built only when some subscriber is live to receive it.
  std::shared_ptr<std::vector<RecordedEvent>> published;
  if (hub_.HasLiveSubscribers()) {
    published = std::make_shared<std::vector<RecordedEvent>>();
  }
  // Decides `pending` without writing it.
  auto refuse = [](PendingAppend* pending,
                   absl::StatusOr<AppendResult> result) {
    pending->result = std::move(result);
  };

  for (PendingAppend* pending : group) {
    const AppendRequest& request = pending->request;
    const std::string& key = request.idempotency_key;
    if (!key.empty()) {
      auto same_key = keys_in_group.find(key);
      if (same_key != keys_in_group.end()) {
        if (same_key->second->fingerprint == pending->fingerprint) {
          pending->same_key_leader = same_key->second;
          followers.push_back(pending);
        } else {
          refuse(pending, absl::AlreadyExistsError(absl::StrCat(
                              "idempotency key ", key,
                              " was already used for a different append")));
        }
        continue;
      }
      std::string stored;
      rocksdb::Status read =
          db_->Get(rocksdb::ReadOptions(), dedupe_, key, &stored);
      if (read.ok()) {
        events::v1::IdempotencyRecord record;
        if (!record.ParseFromString(stored)) {
          refuse(pending, absl::DataLossError(absl::StrCat(
                              "idempotency key ", key, ": record unreadable")));
        } else if (record.fingerprint() != pending->fingerprint) {
          refuse(pending, absl::AlreadyExistsError(absl::StrCat(
                              "idempotency key ", key,
                              " was already used for a different append")));
        } else {
          refuse(pending, FromRecord(record));  // The first result, again.
        }
        continue;
      }
      if (!read.IsNotFound()) {
        refuse(pending, FromRocks(read, "read idempotency key"));
        continue;
      }
    }

    // Check every stream before writing any: the append is all or nothing.
    std::vector<int64_t> current(request.writes.size());
    absl::Status checked = absl::OkStatus();
    for (size_t i = 0; i < request.writes.size() && checked.ok(); ++i) {
      const StreamWrite& write = request.writes[i];
      if (auto it = new_heads.find(write.stream); it != new_heads.end()) {
        current[i] = it->second;
      } else if (absl::StatusOr<int64_t> head = CachedHead(write.stream);
                 head.ok()) {
        current[i] = *head;
      } else {
        checked = head.status();
        break;
      }
      if (!write.expected_version.IsSatisfiedBy(current[i])) {
        checked =
            WrongVersionError(write.stream, write.expected_version, current[i]);
      }
    }
    if (!checked.ok()) {
      refuse(pending, checked);
      continue;
    }

    AppendResult result;
    result.first_position = next_position;
    for (size_t i = 0; i < request.writes.size(); ++i) {
      const StreamWrite& write = request.writes[i];
      int64_t version = current[i];
      for (const NewEvent& event : write.events) {
        ++version;
        envelope.Clear();
        envelope.set_event_id(event.event_id);
        envelope.set_stream(write.stream);
        envelope.set_stream_version(version);
        envelope.set_position(next_position);
        envelope.set_type(event.type);
        envelope.set_schema_version(event.schema_version);
        *envelope.mutable_recorded_time() = recorded;
        envelope.set_actor(request.metadata.actor);
        envelope.set_correlation_id(request.metadata.correlation_id);
        envelope.set_causation_id(request.metadata.causation_id);
        envelope.set_payload(event.payload);
        const std::string position_key = PositionKey(next_position);
        envelope.SerializeToString(&serialized);
        batch.Put(events_, position_key, serialized);
        if (published != nullptr) {
          published->push_back(RecordedEvent{
              .event_id = event.event_id,
              .stream = write.stream,
              .stream_version = version,
              .position = next_position,
              .type = event.type,
              .schema_version = event.schema_version,
              .recorded_time = now,
              .metadata = request.metadata,
              .payload = event.payload,
          });
        }
        ++next_position;
      }
      const uint64_t count = write.events.size();
      batch.Put(streams_, StreamVersionKey(write.stream, current[i] + 1),
                EncodeRunValue(next_position - count, count));
      batch.Put(heads_, write.stream,
                EncodeUint64(static_cast<uint64_t>(version)));
      new_heads[write.stream] = version;
      result.stream_versions.push_back(version);
    }
    result.last_position = next_position - 1;
    if (!key.empty()) {
      events::v1::IdempotencyRecord record;
      record.set_fingerprint(pending->fingerprint);
      *record.mutable_commit_time() = recorded;
      record.set_first_position(result.first_position);
      record.set_last_position(result.last_position);
      for (int64_t version : result.stream_versions) {
        record.add_stream_versions(version);
      }
      batch.Put(dedupe_, key, record.SerializeAsString());
      keys_in_group.emplace(key, pending);
    }
    pending->result = std::move(result);
    accepted.push_back(pending);
  }

  if (!accepted.empty()) {
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    // Positions, and each stream's versions, are ascending within the batch.
    write_options.memtable_insert_hint_per_batch = true;
    absl::Status written =
        FromRocks(db_->Write(write_options, &batch), "append to event log");
    if (written.ok()) {
      for (auto& [stream, version] : new_heads) {
        head_cache_.Set(stream, version);
      }
      head_position_.store(next_position - 1, std::memory_order_release);
      hub_.Publish(next_position - 1, std::move(published));
    } else {
      // Whether the batch reached the disk is unknown until RocksDB recovers
      // on the next open; until then accept nothing, so that positions and
      // heads in memory never contradict what the disk will say.
      absl::Status read_only = absl::UnavailableError(
          absl::StrCat("event store is read-only after a failed write (",
                       written.message(), "); reopen it to recover"));
      {
        absl::MutexLock lock(&failure_mu_);
        write_failure_ = read_only;
      }
      for (PendingAppend* pending : accepted) pending->result = written;
    }
  }
  for (PendingAppend* follower : followers) {
    follower->result = follower->same_key_leader->result;
  }
}

absl::StatusOr<RecordedEvent> RocksDbEventStore::ReadAt(uint64_t position) {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), events_, PositionKey(position), &value);
  if (status.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("event at position ", position,
                                            " is indexed but missing"));
  }
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("read position ", position));
  }
  return DecodeEnvelope(position, value);
}

absl::StatusOr<std::vector<RecordedEvent>> RocksDbEventStore::ReadStream(
    absl::string_view stream, const StreamReadOptions& options) {
  if (absl::Status valid = ValidateCount(options.max_count); !valid.ok()) {
    return valid;
  }
  if (options.from_version < 0 &&
      !(options.direction == ReadDirection::kBackward &&
        options.from_version == kNoStreamVersion)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_version: must not be negative, got ", options.from_version));
  }
  const std::string prefix = StreamKeyPrefix(stream);
  const bool forward = options.direction == ReadDirection::kForward;
  std::vector<uint64_t> positions;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), streams_));
    // The run holding the first version to read is the last run starting at
    // or before it.
    int64_t next_version = options.from_version;
    if (!forward && next_version == kNoStreamVersion) next_version = INT64_MAX;
    it->SeekForPrev(StreamVersionKey(stream, next_version));
    if (forward && (!it->Valid() || !it->key().starts_with(prefix))) {
      it->Seek(StreamVersionKey(stream, next_version));
    }
    while (it->Valid() && it->key().starts_with(prefix) &&
           positions.size() < static_cast<size_t>(options.max_count)) {
      absl::string_view run_stream;
      std::optional<StreamRun> run =
          DecodeRun(View(it->key()), View(it->value()), &run_stream);
      if (!run.has_value()) {
        return absl::DataLossError(
            absl::StrCat("stream ", stream, ": index entry is unreadable"));
      }
      if (forward) {
        for (int64_t v = std::max(next_version, run->first_version);
             v <= run->last_version() &&
             positions.size() < static_cast<size_t>(options.max_count);
             ++v) {
          positions.push_back(run->PositionOf(v));
          next_version = v + 1;
        }
        it->Next();
      } else {
        for (int64_t v = std::min(next_version, run->last_version());
             v >= run->first_version &&
             positions.size() < static_cast<size_t>(options.max_count);
             --v) {
          positions.push_back(run->PositionOf(v));
          next_version = v - 1;
        }
        it->Prev();
      }
    }
    if (!it->status().ok()) {
      return FromRocks(it->status(), absl::StrCat("read stream ", stream));
    }
  }
  std::vector<RecordedEvent> events;
  events.reserve(positions.size());
  for (uint64_t position : positions) {
    absl::StatusOr<RecordedEvent> event = ReadAt(position);
    if (!event.ok()) return event.status();
    events.push_back(*std::move(event));
  }
  return events;
}

absl::StatusOr<std::vector<RecordedEvent>> RocksDbEventStore::Scan(
    uint64_t from_position, int max_count,
    const absl::flat_hash_set<std::string>& types) {
  std::vector<RecordedEvent> events;
  rocksdb::ReadOptions read_options;
  // Nothing past the head is acknowledged yet; bound the scan there.
  const std::string upper = PositionKey(HeadPosition() + 1);
  const rocksdb::Slice upper_slice(upper);
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read_options, events_));
  events::v1::EventEnvelope scratch;
  RecordedEvent event;
  events.reserve(std::min(max_count, 1024));
  for (it->Seek(PositionKey(std::max<uint64_t>(from_position, 1)));
       it->Valid() && events.size() < static_cast<size_t>(max_count);
       it->Next()) {
    std::optional<uint64_t> position = DecodeUint64(View(it->key()));
    if (!position.has_value()) {
      return absl::DataLossError("events family holds a malformed key");
    }
    if (absl::Status decoded =
            DecodeEnvelope(*position, View(it->value()), scratch, event);
        !decoded.ok()) {
      return decoded;
    }
    if (types.empty() || types.contains(event.type)) {
      events.push_back(std::move(event));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read the log");
  return events;
}

absl::StatusOr<std::vector<RecordedEvent>> RocksDbEventStore::ReadAll(
    const AllReadOptions& options) {
  if (absl::Status valid = ValidateCount(options.max_count); !valid.ok()) {
    return valid;
  }
  return Scan(options.from_position, options.max_count,
              absl::flat_hash_set<std::string>(options.types.begin(),
                                               options.types.end()));
}

absl::StatusOr<int64_t> RocksDbEventStore::StreamVersion(
    absl::string_view stream) {
  return StoredHead(stream);
}

uint64_t RocksDbEventStore::HeadPosition() const {
  return head_position_.load(std::memory_order_acquire);
}

absl::StatusOr<std::unique_ptr<Subscription>> RocksDbEventStore::SubscribeAll(
    const SubscribeOptions& options) {
  if (options.from_position == 0) {
    return absl::InvalidArgumentError(
        "from_position: positions start at 1, got 0");
  }
  return hub_.Subscribe(options);
}

absl::Status RocksDbEventStore::Backup(const std::string& directory) {
  std::error_code error;
  if (directory.empty() || std::filesystem::exists(directory, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "backup directory \"", directory, "\" must be a new path"));
  }
  rocksdb::Checkpoint* raw = nullptr;
  if (absl::Status created =
          FromRocks(rocksdb::Checkpoint::Create(db_, &raw), "start backup");
      !created.ok()) {
    return created;
  }
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(directory),
                   absl::StrCat("back up to ", directory));
}

absl::StatusOr<std::optional<CommittedAppend>>
RocksDbEventStore::LookupIdempotencyKey(absl::string_view idempotency_key) {
  std::string stored;
  rocksdb::Status read = db_->Get(
      rocksdb::ReadOptions(), dedupe_,
      rocksdb::Slice(idempotency_key.data(), idempotency_key.size()), &stored);
  if (read.IsNotFound()) return std::nullopt;
  if (!read.ok()) return FromRocks(read, "read idempotency key");
  events::v1::IdempotencyRecord record;
  if (!record.ParseFromString(stored)) {
    return absl::DataLossError(absl::StrCat("idempotency key ", idempotency_key,
                                            ": record unreadable"));
  }
  return CommittedAppend{.fingerprint = record.fingerprint(),
                         .result = FromRecord(record)};
}

absl::Status RocksDbEventStore::ExpireIdempotencyKeys() {
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(db_->CompactRange(compact, dedupe_, nullptr, nullptr),
                   "expire idempotency keys");
}

absl::StatusOr<VerifyReport> RocksDbEventStore::Verify() {
  VerifyReport report;
  auto problem = [&report](std::string text) {
    if (report.problems.size() < kMaxReportedProblems) {
      report.problems.push_back(std::move(text));
    }
  };
  // One snapshot for every scan: appends may go on meanwhile.
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snapshot;
    ~Release() { db->ReleaseSnapshot(snapshot); }
  } release{db_, snapshot};
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;

  // 1. The events: positions 1, 2, 3, ... each readable where its key says.
  uint64_t expected_position = 1;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(read_options, events_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::optional<uint64_t> position = DecodeUint64(View(it->key()));
      if (!position.has_value()) {
        problem("events: malformed key");
        continue;
      }
      if (*position != expected_position) {
        problem(absl::StrCat("events: gap, expected position ",
                             expected_position, ", found ", *position));
      }
      expected_position = *position + 1;
      ++report.events;
      if (!DecodeEnvelope(*position, View(it->value())).ok()) {
        problem(absl::StrCat("events: position ", *position, " is unreadable"));
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "verify events");
  }

  // 2. The stream index: runs covering versions 0, 1, 2, ... per stream,
  // each version pointing at the event with that stream and version; the
  // head equal to the last version.
  uint64_t index_entries = 0;
  {
    std::string stream;
    int64_t last_version = kNoStreamVersion;
    auto check_head = [&] {
      if (report.streams == 0) return;
      std::string value;
      rocksdb::Status read = db_->Get(read_options, heads_, stream, &value);
      std::optional<uint64_t> head =
          read.ok() ? DecodeUint64(value) : std::nullopt;
      if (!head.has_value() || static_cast<int64_t>(*head) != last_version) {
        problem(absl::StrCat("heads: stream ", stream, " should be at version ",
                             last_version));
      }
    };
    events::v1::EventEnvelope scratch;
    RecordedEvent event;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(read_options, streams_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      absl::string_view run_stream;
      std::optional<StreamRun> run =
          DecodeRun(View(it->key()), View(it->value()), &run_stream);
      if (!run.has_value()) {
        problem("streams: malformed entry");
        continue;
      }
      if (run_stream != stream || report.streams == 0) {
        check_head();
        stream = std::string(run_stream);
        last_version = kNoStreamVersion;
        ++report.streams;
      }
      if (run->first_version != last_version + 1) {
        problem(absl::StrCat("streams: ", stream, " jumps from version ",
                             last_version, " to ", run->first_version));
      }
      last_version = run->last_version();
      index_entries += run->count;
      for (int64_t version = run->first_version; version <= run->last_version();
           ++version) {
        const uint64_t position = run->PositionOf(version);
        std::string value;
        if (!db_->Get(read_options, events_, PositionKey(position), &value)
                 .ok()) {
          problem(absl::StrCat("streams: ", stream, " version ", version,
                               " points at no event"));
          continue;
        }
        if (DecodeEnvelope(position, value, scratch, event).ok() &&
            (event.stream != stream || event.stream_version != version)) {
          problem(absl::StrCat("streams: ", stream, " version ", version,
                               " points at position ", position, " of ",
                               event.stream, " version ",
                               event.stream_version));
        }
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "verify streams");
    check_head();
  }
  if (index_entries != report.events) {
    problem(absl::StrCat("streams: ", index_entries, " index entries for ",
                         report.events, " events"));
  }

  // 3. No head without a stream.
  uint64_t heads = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(read_options, heads_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++heads;
    if (!it->status().ok()) return FromRocks(it->status(), "verify heads");
  }
  if (heads != report.streams) {
    problem(absl::StrCat("heads: ", heads, " heads for ", report.streams,
                         " streams"));
  }
  return report;
}

}  // namespace leadledger::eventstore
