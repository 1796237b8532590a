#include "eventstore/rocksdb_event_store.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "eventstore/keys.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "leadledger/events/v1/envelope.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace leadledger::eventstore {
namespace {

constexpr char kEventsFamily[] = "events";
constexpr char kStreamsFamily[] = "streams";
constexpr char kHeadsFamily[] = "heads";
constexpr char kMetaFamily[] = "meta";
constexpr char kSchemaVersionKey[] = "schema_version";

// Indexes into the handle vector, in the order the families are opened.
enum Family { kDefault = 0, kEvents, kStreams, kHeads, kMeta, kFamilyCount };

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

absl::Status ValidateRequest(const AppendRequest& request) {
  if (request.writes.empty()) {
    return absl::InvalidArgumentError("append: no stream to write");
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

absl::StatusOr<RecordedEvent> DecodeEnvelope(uint64_t position,
                                             absl::string_view bytes) {
  events::v1::EventEnvelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      envelope.position() != position) {
    return absl::DataLossError(
        absl::StrCat("event at position ", position, " is unreadable"));
  }
  RecordedEvent event;
  event.event_id = std::move(*envelope.mutable_event_id());
  event.stream = std::move(*envelope.mutable_stream());
  event.stream_version = envelope.stream_version();
  event.position = envelope.position();
  event.type = std::move(*envelope.mutable_type());
  event.schema_version = envelope.schema_version();
  event.recorded_time = absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(
          envelope.recorded_time()));
  event.metadata.actor = std::move(*envelope.mutable_actor());
  event.metadata.correlation_id = std::move(*envelope.mutable_correlation_id());
  event.metadata.causation_id = std::move(*envelope.mutable_causation_id());
  event.payload = std::move(*envelope.mutable_payload());
  return event;
}

absl::Status ValidateCount(int max_count) {
  if (max_count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_count: must be positive, got ", max_count));
  }
  return absl::OkStatus();
}

}  // namespace

bool ExpectedVersion::IsSatisfiedBy(int64_t current) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kNoStream:
      return current == kNoStreamVersion;
    case Kind::kStreamExists:
      return current != kNoStreamVersion;
    case Kind::kExact:
      return current == version_;
  }
  return false;
}

std::string ExpectedVersion::DebugString() const {
  switch (kind_) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kStreamExists:
      return "stream exists";
    case Kind::kExact:
      return absl::StrCat(version_);
  }
  return "?";
}

struct RocksDbEventStore::PendingAppend {
  AppendRequest request;
  absl::StatusOr<AppendResult> result;
  absl::Notification done;
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
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Acknowledged appends are synced; the WAL must survive a power loss too.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;

  rocksdb::ColumnFamilyOptions family_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, family_options},
      {kEventsFamily, family_options},
      {kStreamsFamily, family_options},
      {kHeadsFamily, family_options},
      {kMetaFamily, family_options},
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
    if (it->Valid()) {
      std::optional<uint64_t> last = DecodeUint64(View(it->key()));
      if (!last.has_value()) {
        close();
        return absl::DataLossError(
            absl::StrCat("event store at ", options.path,
                         ": malformed key in the events family"));
      }
      head_position = *last;
    } else if (!it->status().ok()) {
      absl::Status status = FromRocks(it->status(), "find the log head");
      it.reset();
      close();
      return status;
    }
  }
  return std::unique_ptr<RocksDbEventStore>(new RocksDbEventStore(
      std::move(options), db, std::move(handles), head_position));
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
      head_position_(head_position),
      writer_([this] { WriterLoop(); }) {}

RocksDbEventStore::~RocksDbEventStore() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  writer_.join();
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close().PermitUncheckedError();
  delete db_;
}

absl::StatusOr<AppendResult> RocksDbEventStore::Append(AppendRequest request) {
  if (absl::Status valid = ValidateRequest(request); !valid.ok()) return valid;
  PendingAppend pending;
  pending.request = std::move(request);
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) {
      return absl::UnavailableError("event store is closing");
    }
    queue_.push_back(&pending);
  }
  pending.done.WaitForNotification();
  return std::move(pending.result);
}

void RocksDbEventStore::WriterLoop() {
  std::vector<PendingAppend*> group;
  while (true) {
    group.clear();
    {
      absl::MutexLock lock(&queue_mu_);
      auto has_work = [this]() ABSL_SHARED_LOCKS_REQUIRED(queue_mu_) {
        return !queue_.empty() || stopping_;
      };
      queue_mu_.Await(absl::Condition(&has_work));
      if (queue_.empty()) return;  // Stopping, and every append is done.
      int events = 0;
      while (!queue_.empty()) {
        int size = 0;
        for (const StreamWrite& write : queue_.front()->request.writes) {
          size += static_cast<int>(write.events.size());
        }
        // Always take one append, however large, so nothing starves.
        if (!group.empty() && events + size > options_.max_group_events) break;
        events += size;
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    CommitGroup(group);
  }
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
  if (auto it = head_cache_.find(stream); it != head_cache_.end()) {
    return it->second;
  }
  absl::StatusOr<int64_t> stored = StoredHead(stream);
  if (stored.ok()) head_cache_.emplace(stream, *stored);
  return stored;
}

void RocksDbEventStore::CommitGroup(const std::vector<PendingAppend*>& group) {
  rocksdb::WriteBatch batch;
  // Heads as they will be once this group commits; merged into the cache only
  // after the batch is durable.
  absl::flat_hash_map<std::string, int64_t> new_heads;
  std::vector<PendingAppend*> accepted;
  uint64_t next_position = head_position_.load(std::memory_order_relaxed) + 1;
  const absl::Time recorded_time = options_.now();
  const google::protobuf::Timestamp recorded =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(recorded_time));

  for (PendingAppend* pending : group) {
    const AppendRequest& request = pending->request;
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
        checked = absl::AbortedError(
            absl::StrCat("stream ", write.stream, ": expected version ",
                         write.expected_version.DebugString(),
                         ", current version ", current[i]));
      }
    }
    if (!checked.ok()) {
      pending->result = checked;
      pending->done.Notify();
      continue;
    }

    AppendResult result;
    result.first_position = next_position;
    events::v1::EventEnvelope envelope;
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
        batch.Put(events_, position_key, envelope.SerializeAsString());
        batch.Put(streams_, StreamVersionKey(write.stream, version),
                  position_key);
        ++next_position;
      }
      batch.Put(heads_, write.stream,
                EncodeUint64(static_cast<uint64_t>(version)));
      new_heads[write.stream] = version;
      result.stream_versions.push_back(version);
    }
    result.last_position = next_position - 1;
    pending->result = std::move(result);
    accepted.push_back(pending);
  }

  if (!accepted.empty()) {
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    absl::Status written =
        FromRocks(db_->Write(write_options, &batch), "append to event log");
    if (written.ok()) {
      for (auto& [stream, version] : new_heads) head_cache_[stream] = version;
      head_position_.store(next_position - 1, std::memory_order_release);
    } else {
      // Nothing of the group is acknowledged. The cache may hold heads the
      // failed batch would have moved, so drop it and re-read from disk.
      head_cache_.clear();
      for (PendingAppend* pending : accepted) pending->result = written;
    }
  }
  for (PendingAppend* pending : accepted) pending->done.Notify();
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
  std::vector<uint64_t> positions;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), streams_));
    const bool forward = options.direction == ReadDirection::kForward;
    if (forward) {
      it->Seek(StreamVersionKey(stream, options.from_version));
    } else if (options.from_version == kNoStreamVersion) {
      it->SeekForPrev(StreamVersionKey(stream, INT64_MAX));
    } else {
      it->SeekForPrev(StreamVersionKey(stream, options.from_version));
    }
    while (it->Valid() && it->key().starts_with(prefix) &&
           positions.size() < static_cast<size_t>(options.max_count)) {
      std::optional<uint64_t> position = DecodeUint64(View(it->value()));
      if (!position.has_value()) {
        return absl::DataLossError(
            absl::StrCat("stream ", stream, ": index entry is unreadable"));
      }
      positions.push_back(*position);
      if (forward) {
        it->Next();
      } else {
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

absl::StatusOr<std::vector<RecordedEvent>> RocksDbEventStore::ReadAll(
    const AllReadOptions& options) {
  if (absl::Status valid = ValidateCount(options.max_count); !valid.ok()) {
    return valid;
  }
  std::vector<RecordedEvent> events;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), events_));
  for (it->Seek(PositionKey(std::max<uint64_t>(options.from_position, 1)));
       it->Valid() && events.size() < static_cast<size_t>(options.max_count);
       it->Next()) {
    std::optional<uint64_t> position = DecodeUint64(View(it->key()));
    if (!position.has_value()) {
      return absl::DataLossError("events family holds a malformed key");
    }
    absl::StatusOr<RecordedEvent> event =
        DecodeEnvelope(*position, View(it->value()));
    if (!event.ok()) return event.status();
    events.push_back(*std::move(event));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read the log");
  return events;
}

absl::StatusOr<int64_t> RocksDbEventStore::StreamVersion(
    absl::string_view stream) {
  return StoredHead(stream);
}

uint64_t RocksDbEventStore::HeadPosition() const {
  return head_position_.load(std::memory_order_acquire);
}

}  // namespace leadledger::eventstore
