// EventStore: the append-only event log that is LeadLedger's source of truth.
//
// The log is a sequence of events, each in one stream ("lead-<id>", ...).
// Every event has a stream version (0, 1, 2, ... within its stream) and a
// global position (1, 2, 3, ... over the whole log) assigned in commit order
// with no gaps. An append is atomic over all the streams it names and is
// acknowledged only once it is durable.
//
// This header is the whole contract; it names no storage engine, so a
// clustered log can implement it later. Implementations are thread-safe.
#ifndef LEADLEDGER_EVENTSTORE_EVENT_STORE_H_
#define LEADLEDGER_EVENTSTORE_EVENT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace leadledger::eventstore {

// The version of a stream that has no event yet.
inline constexpr int64_t kNoStreamVersion = -1;

// What a writer believes about a stream's current version; an append whose
// belief is wrong is refused (optimistic concurrency).
class ExpectedVersion {
 public:
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };

  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, 0); }
  static ExpectedVersion NoStream() {
    return ExpectedVersion(Kind::kNoStream, kNoStreamVersion);
  }
  static ExpectedVersion StreamExists() {
    return ExpectedVersion(Kind::kStreamExists, 0);
  }
  // The stream's last event has version `version` (kNoStreamVersion: the
  // stream is empty, the same as NoStream()).
  static ExpectedVersion Exactly(int64_t version) {
    return ExpectedVersion(Kind::kExact, version);
  }

  Kind kind() const { return kind_; }
  int64_t version() const { return version_; }
  // Whether a stream whose current version is `current` satisfies this.
  bool IsSatisfiedBy(int64_t current) const;
  std::string DebugString() const;

 private:
  ExpectedVersion(Kind kind, int64_t version)
      : kind_(kind), version_(version) {}
  Kind kind_;
  int64_t version_;
};

// An event to append. The store assigns version, position and recorded time.
struct NewEvent {
  // Unique id chosen by the writer.
  std::string event_id;
  // Stable wire name of the payload type, e.g. "LeadCreated".
  std::string type;
  uint32_t schema_version = 1;
  std::string payload;
};

// The events of one append that go to one stream.
struct StreamWrite {
  std::string stream;
  ExpectedVersion expected_version = ExpectedVersion::Any();
  std::vector<NewEvent> events;
};

// Who and why, recorded on every event of an append.
struct EventMetadata {
  std::string actor;
  std::string correlation_id;
  std::string causation_id;
};

struct AppendRequest {
  // One or more streams, each named once; all are written or none is.
  std::vector<StreamWrite> writes;
  EventMetadata metadata;
  // Optional. An append with a key that a committed append already used, with
  // the same fingerprint, writes nothing and returns that append's result.
  // Keys are kept for the store's idempotency retention, then forgotten.
  std::string idempotency_key;
  // Optional. What "the same append" means for the key: callers whose
  // retries produce different events for one request (new ids, new times)
  // pass a fingerprint of the request. When empty, the store fingerprints the
  // writes: streams, expected versions, event ids, types and payloads.
  std::string idempotency_fingerprint;
  // How long the append may wait, queued, for another append to share its
  // fsync before it is written alone; zero writes it at once. Work that
  // nobody waits on (the scheduler's effects) sets it: its appends then ride
  // along with a caller's instead of taking an fsync of their own just in
  // front of it. The append still returns only once durable, and it is
  // written at once when another append queues, when the store closes, or
  // while a reader waits for it (ExpeditedAppends).
  absl::Duration max_sync_delay = absl::ZeroDuration();
};

struct AppendResult {
  // Global positions of the first and last event written.
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  // Version of each stream after the append, in the order of `writes`.
  std::vector<int64_t> stream_versions;
};

// An event as stored.
struct RecordedEvent {
  std::string event_id;
  std::string stream;
  int64_t stream_version = 0;
  uint64_t position = 0;
  std::string type;
  uint32_t schema_version = 0;
  absl::Time recorded_time;
  EventMetadata metadata;
  std::string payload;
};

enum class ReadDirection { kForward, kBackward };

struct StreamReadOptions {
  ReadDirection direction = ReadDirection::kForward;
  // First version to return. Backward reads may pass kNoStreamVersion to
  // start from the stream's last event.
  int64_t from_version = 0;
  // At most this many events (> 0).
  int max_count = 1000;
};

struct AllReadOptions {
  // First global position to return (positions start at 1).
  uint64_t from_position = 1;
  // At most this many events (> 0).
  int max_count = 1000;
  // When not empty, only events of these types are returned.
  std::vector<std::string> types;
};

struct SubscribeOptions {
  // First global position to deliver (positions start at 1).
  uint64_t from_position = 1;
  // When not empty, only events of these types are delivered.
  std::vector<std::string> types;
};

// A subscription to the whole log: every event from a position on, in commit
// order, each exactly once, first from disk (catch-up), then as appends
// commit (live). A subscriber that falls behind the live stream is switched
// back to catch-up reads: it never slows appends, and the memory it holds is
// bounded.
//
// Not thread-safe, except Cancel(), which may be called from any thread.
class Subscription {
 public:
  virtual ~Subscription() = default;

  // Returns the next events, waiting until at least one is available or
  // `deadline` passes (then returns none).
  // Errors: CANCELLED after Cancel() or when the store closes; DATA_LOSS
  // naming the position of an event that cannot be decoded.
  [[nodiscard]] virtual absl::StatusOr<std::vector<RecordedEvent>> Next(
      absl::Time deadline) = 0;

  // Ends the subscription; a Next() in progress returns CANCELLED.
  virtual void Cancel() = 0;
};

// An append remembered under an idempotency key.
struct CommittedAppend {
  // The fingerprint the append was made with (see AppendRequest).
  std::string fingerprint;
  AppendResult result;
};

// Outcome of EventStore::Verify().
struct VerifyReport {
  uint64_t events = 0;
  uint64_t streams = 0;
  // What is wrong, at most a bounded number of entries; empty when clean.
  std::vector<std::string> problems;
};

// Limit on the idempotency key of an append.
inline constexpr size_t kMaxIdempotencyKeyLength = 128;

// The ABORTED status of an append refused because `stream` is at version
// `current`, not `expected`.
absl::Status WrongVersionError(absl::string_view stream,
                               const ExpectedVersion& expected,
                               int64_t current);

// The current version of the stream that refused an append, carried by its
// ABORTED status; nullopt for any other status.
std::optional<int64_t> CurrentVersionOf(const absl::Status& aborted);

// Limits on what an append may carry.
inline constexpr size_t kMaxStreamNameLength = 256;
inline constexpr size_t kMaxEventTypeLength = 128;

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Appends every write of `request` atomically and returns once durable.
  // Errors:
  //   INVALID_ARGUMENT     no writes, a stream named twice or badly named, a
  //                        write without events, an event without a type;
  //   ABORTED              some stream's version is not the expected one; the
  //                        message names the stream and its current version,
  //                        which CurrentVersionOf() extracts; nothing written;
  //   ALREADY_EXISTS       the idempotency key was used by an append with
  //                        another fingerprint; nothing written;
  //   UNAVAILABLE          the log could not be made durable; nothing was
  //                        acknowledged; the call may be retried (after a
  //                        failed write the store is read-only until
  //                        reopened, and says so).
  [[nodiscard]] absl::StatusOr<AppendResult> Append(AppendRequest request) {
    return AppendInOrder(std::move(request), [] {});
  }

  // Append, calling `queued` once the append has its place in the commit
  // order and before it is durable. An append queued after that moment
  // commits after this one, so it may expect the versions this one leaves,
  // and a process can decide its next command on a state still being
  // written. `queued` runs on the calling thread without the store's locks;
  // it is not called when the request is refused before it is queued
  // (INVALID_ARGUMENT, or UNAVAILABLE when the store is closing or
  // read-only).
  [[nodiscard]] virtual absl::StatusOr<AppendResult> AppendInOrder(
      AppendRequest request, absl::FunctionRef<void()> queued) = 0;

  // Reads events of `stream` from `options.from_version` in the given
  // direction. An unknown stream reads as empty.
  // Errors: INVALID_ARGUMENT for bad options; DATA_LOSS naming the position
  // of an event that cannot be decoded.
  [[nodiscard]] virtual absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream, const StreamReadOptions& options) = 0;

  // Reads events of every stream in commit order from
  // `options.from_position`. Errors as ReadStream.
  [[nodiscard]] virtual absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      const AllReadOptions& options) = 0;

  // Returns the version of the last event of `stream`, or kNoStreamVersion.
  [[nodiscard]] virtual absl::StatusOr<int64_t> StreamVersion(
      absl::string_view stream) = 0;

  // Returns the global position of the last durable event (0 when empty).
  virtual uint64_t HeadPosition() const = 0;

  // Starts a subscription to every event from `options.from_position`.
  // Errors: INVALID_ARGUMENT for position 0.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<Subscription>>
  SubscribeAll(const SubscribeOptions& options) = 0;

  // Writes a consistent copy of the store, taken while it keeps serving, to
  // the new directory `directory`; the copy opens as a store of its own.
  // Errors: FAILED_PRECONDITION if `directory` exists; UNAVAILABLE on I/O
  // failure.
  [[nodiscard]] virtual absl::Status Backup(const std::string& directory) = 0;

  // Checks every index against the events: positions gapless from 1 to the
  // head, every envelope readable and where its key says, every stream's
  // versions gapless from 0 and pointing at its events, every head equal to
  // its stream's last version. Problems are reported, not repaired.
  // Errors: UNAVAILABLE when the store cannot be read.
  [[nodiscard]] virtual absl::StatusOr<VerifyReport> Verify() = 0;

  // What the append committed under `idempotency_key`, if it is still
  // remembered: lets a caller answer a retried request without deciding it
  // again. Errors: UNAVAILABLE when the store cannot be read; DATA_LOSS when
  // the record is unreadable.
  [[nodiscard]] virtual absl::StatusOr<std::optional<CommittedAppend>>
  LookupIdempotencyKey(absl::string_view idempotency_key) = 0;

  // Between a call of BeginExpedite and its matching EndExpedite, appends
  // with a max_sync_delay are written without delay (see ExpeditedAppends).
  virtual void BeginExpedite() = 0;
  virtual void EndExpedite() = 0;
};

// While it lives, `store` writes appends with a max_sync_delay at once: its
// owner is about to wait for them (a query waiting for the scheduler's
// effects).
class ExpeditedAppends {
 public:
  explicit ExpeditedAppends(EventStore& store) : store_(store) {
    store_.BeginExpedite();
  }
  ~ExpeditedAppends() { store_.EndExpedite(); }
  ExpeditedAppends(const ExpeditedAppends&) = delete;
  ExpeditedAppends& operator=(const ExpeditedAppends&) = delete;

 private:
  EventStore& store_;
};

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_EVENT_STORE_H_
