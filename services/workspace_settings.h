// WorkspaceSettingsStore: the workspace settings in force, kept in the event
// log's "workspace" stream and cached in memory for every command to read.
//
// The settings are the server's defaults folded with every event of the
// stream (domain::EvolveWorkspace): a default applies until the first change
// of that setting is written, and a written change outlives restarts and
// later changes of the defaults. Readers take the cached value and never
// touch the log. A change goes through the one imperative shell:
//
//   settings at version N -> DecideWorkspace -> append at expected version N
//   -> on ABORTED (another writer, maybe another process, got in first) read
//   the stream's new events and decide again, a bounded number of times with
//   jittered back-off -> cache the result.
//
// Thread-safe. The cache only moves forward: of two results, the one at the
// higher stream version wins.
#ifndef LEADLEDGER_SERVICES_WORKSPACE_SETTINGS_H_
#define LEADLEDGER_SERVICES_WORKSPACE_SETTINGS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "domain/id_generator.h"
#include "domain/workspace.h"
#include "eventstore/event_store.h"
#include "services/jittered_backoff.h"
#include "services/lead_command_handler.h"

namespace leadledger::services {

// The stream holding every change of the workspace settings.
inline constexpr char kWorkspaceStream[] = "workspace";

// The workspace settings as of one version of the workspace stream.
struct WorkspaceSettingsSnapshot {
  // Never null.
  std::shared_ptr<const domain::WorkspaceSettings> settings;
  // Version of the stream's last event folded into `settings`;
  // eventstore::kNoStreamVersion while every setting has its default.
  int64_t version = eventstore::kNoStreamVersion;
  // Global position of that event; 0 when there is none.
  uint64_t log_position = 0;
};

// The settings' etag at stream version `version`: the number of changes
// written, so "0" while every setting has its default (an etag is never
// negative, and the stream's first version is 0).
std::string WorkspaceSettingsEtag(int64_t version);

// The stream version that etag value `etag` (>= 0) stands for.
int64_t WorkspaceVersionOfEtag(int64_t etag);

struct WorkspaceSettingsStoreOptions {
  // Read-decide-append attempts before contention is reported as ABORTED.
  int max_attempts = 8;
  // Back-off before attempt n is uniform in [0, n * backoff_step).
  absl::Duration backoff_step = absl::Milliseconds(2);
};

class WorkspaceSettingsStore {
 public:
  // Returns a store holding `defaults` folded with the workspace stream of
  // `log`. `log` and `ids` must outlive the store.
  // Errors: DATA_LOSS or FAILED_PRECONDITION when a stored event cannot be
  // decoded; UNAVAILABLE when the log cannot be read.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<WorkspaceSettingsStore>>
  Open(eventstore::EventStore* log, IdGenerator* ids,
       domain::WorkspaceSettings defaults,
       WorkspaceSettingsStoreOptions options = {});

  WorkspaceSettingsStore(const WorkspaceSettingsStore&) = delete;
  WorkspaceSettingsStore& operator=(const WorkspaceSettingsStore&) = delete;

  // The settings in force as this store last read or wrote them: a copy of a
  // pointer, under a reader lock. Changes appended by another process show
  // once Refresh() or Execute() has read them.
  std::shared_ptr<const domain::WorkspaceSettings> Current() const;

  // Current() with the stream version it stands for.
  WorkspaceSettingsSnapshot Snapshot() const;

  // Reads the events appended to the workspace stream since the cached
  // version (by another writer) and returns the settings with them.
  // Errors: as Open.
  [[nodiscard]] absl::StatusOr<WorkspaceSettingsSnapshot> Refresh();

  // Decides `command` on the settings in force and appends the resulting
  // events in one append; returns the settings after it, with the position of
  // the append as `log_position`. A command that changes nothing appends
  // nothing and returns the settings in force.
  // `mutation.expected_version`, when set, is the stream version the caller
  // decided on (kNoStreamVersion: no change written yet).
  // Errors: INVALID_ARGUMENT from DecideWorkspace, naming the setting;
  // ABORTED when the settings are not at `mutation.expected_version`, or
  // when every attempt lost a race with another writer; ALREADY_EXISTS when
  // `mutation.request_id` was used for another request; the errors of
  // Refresh and of EventStore::Append.
  [[nodiscard]] absl::StatusOr<WorkspaceSettingsSnapshot> Execute(
      const domain::UpdateWorkspaceSettings& command,
      const CallContext& context, const MutationOptions& mutation = {});

 private:
  WorkspaceSettingsStore(eventstore::EventStore* log, IdGenerator* ids,
                         domain::WorkspaceSettings defaults,
                         WorkspaceSettingsStoreOptions options);

  // `from` folded with the stream's events after `from.version`, up to
  // `last_version` when given.
  absl::StatusOr<WorkspaceSettingsSnapshot> FoldAfter(
      WorkspaceSettingsSnapshot from,
      std::optional<int64_t> last_version = std::nullopt);
  // The settings as of stream version `version`, folded from the defaults.
  // Errors: as Open; NOT_FOUND when the stream has no such version.
  absl::StatusOr<WorkspaceSettingsSnapshot> LoadAt(int64_t version);
  // Caches `snapshot` unless the cache holds a later version; returns what
  // the cache holds then.
  WorkspaceSettingsSnapshot Install(WorkspaceSettingsSnapshot snapshot);
  // The first response to request `key`, if it was already answered.
  absl::StatusOr<std::optional<WorkspaceSettingsSnapshot>> Replayed(
      const std::string& key, const MutationOptions& mutation);

  eventstore::EventStore* const log_;
  IdGenerator* const ids_;
  const std::shared_ptr<const domain::WorkspaceSettings> defaults_;
  const WorkspaceSettingsStoreOptions options_;

  mutable absl::Mutex mu_;
  WorkspaceSettingsSnapshot cached_ ABSL_GUARDED_BY(mu_);

  JitteredBackOff backoff_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_WORKSPACE_SETTINGS_H_
