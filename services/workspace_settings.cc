#include "services/workspace_settings.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/status_macros.h"
#include "projections/event_codec.h"

namespace leadledger::services {
namespace {

// Events read per round trip while folding the stream.
constexpr int kFoldPageSize = 1000;

absl::Status AlreadyUsed(const MutationOptions& mutation) {
  return absl::AlreadyExistsError(
      absl::StrCat("request_id ", mutation.request_id,
                   " was already used for a different request"));
}

}  // namespace

std::string WorkspaceSettingsEtag(int64_t version) {
  return absl::StrCat(version + 1);
}

int64_t WorkspaceVersionOfEtag(int64_t etag) { return etag - 1; }

absl::StatusOr<std::unique_ptr<WorkspaceSettingsStore>>
WorkspaceSettingsStore::Open(eventstore::EventStore* log, IdGenerator* ids,
                             domain::WorkspaceSettings defaults,
                             WorkspaceSettingsStoreOptions options) {
  std::unique_ptr<WorkspaceSettingsStore> store(
      new WorkspaceSettingsStore(log, ids, std::move(defaults), options));
  RETURN_IF_ERROR(store->Refresh().status());
  return store;
}

WorkspaceSettingsStore::WorkspaceSettingsStore(
    eventstore::EventStore* log, IdGenerator* ids,
    domain::WorkspaceSettings defaults, WorkspaceSettingsStoreOptions options)
    : log_(log),
      ids_(ids),
      defaults_(std::make_shared<const domain::WorkspaceSettings>(
          std::move(defaults))),
      options_(options),
      cached_{.settings = defaults_},
      backoff_(options.backoff_step) {}

std::shared_ptr<const domain::WorkspaceSettings>
WorkspaceSettingsStore::Current() const {
  absl::ReaderMutexLock lock(&mu_);
  return cached_.settings;
}

WorkspaceSettingsSnapshot WorkspaceSettingsStore::Snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return cached_;
}

WorkspaceSettingsSnapshot WorkspaceSettingsStore::Install(
    WorkspaceSettingsSnapshot snapshot) {
  absl::MutexLock lock(&mu_);
  if (snapshot.version > cached_.version) cached_ = std::move(snapshot);
  return cached_;
}

absl::StatusOr<WorkspaceSettingsSnapshot> WorkspaceSettingsStore::FoldAfter(
    WorkspaceSettingsSnapshot from, std::optional<int64_t> last_version) {
  // Copied once, on the first event: a stream without news allocates nothing.
  std::optional<domain::WorkspaceSettings> folded;
  eventstore::StreamReadOptions page;
  page.max_count = kFoldPageSize;
  page.from_version = from.version + 1;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                     log_->ReadStream(kWorkspaceStream, page));
    for (const eventstore::RecordedEvent& recorded : events) {
      if (last_version.has_value() && recorded.stream_version > *last_version) {
        break;
      }
      ASSIGN_OR_RETURN(domain::WorkspaceEvent event,
                       projections::DecodeWorkspaceEvent(recorded));
      if (!folded.has_value()) folded = *from.settings;
      folded = domain::EvolveWorkspace(*std::move(folded), event);
      from.version = recorded.stream_version;
      from.log_position = recorded.position;
    }
    const bool past_last =
        last_version.has_value() && from.version >= *last_version;
    if (past_last || events.size() < static_cast<size_t>(kFoldPageSize)) break;
    page.from_version = from.version + 1;
  }
  if (folded.has_value()) {
    from.settings =
        std::make_shared<const domain::WorkspaceSettings>(*std::move(folded));
  }
  return from;
}

absl::StatusOr<WorkspaceSettingsSnapshot> WorkspaceSettingsStore::Refresh() {
  ASSIGN_OR_RETURN(WorkspaceSettingsSnapshot folded, FoldAfter(Snapshot()));
  return Install(std::move(folded));
}

absl::StatusOr<WorkspaceSettingsSnapshot> WorkspaceSettingsStore::LoadAt(
    int64_t version) {
  ASSIGN_OR_RETURN(
      WorkspaceSettingsSnapshot snapshot,
      FoldAfter(WorkspaceSettingsSnapshot{.settings = defaults_}, version));
  if (snapshot.version != version) {
    return absl::NotFoundError(
        absl::StrCat("the workspace stream has no version ", version,
                     " (it ends at ", snapshot.version, ")"));
  }
  return snapshot;
}

absl::StatusOr<std::optional<WorkspaceSettingsSnapshot>>
WorkspaceSettingsStore::Replayed(const std::string& key,
                                 const MutationOptions& mutation) {
  ASSIGN_OR_RETURN(std::optional<eventstore::CommittedAppend> committed,
                   log_->LookupIdempotencyKey(key));
  if (!committed.has_value()) return std::nullopt;
  if (committed->fingerprint != mutation.fingerprint) {
    return AlreadyUsed(mutation);
  }
  ASSIGN_OR_RETURN(WorkspaceSettingsSnapshot first,
                   LoadAt(committed->result.stream_versions.front()));
  first.log_position = committed->result.last_position;
  return first;
}

absl::StatusOr<WorkspaceSettingsSnapshot> WorkspaceSettingsStore::Execute(
    const domain::UpdateWorkspaceSettings& command, const CallContext& context,
    const MutationOptions& mutation) {
  const std::string key = mutation.request_id.empty()
                              ? ""
                              : absl::StrCat("request/", mutation.request_id);
  if (!key.empty()) {
    // A retry of an answered request gets the first answer, undecided.
    ASSIGN_OR_RETURN(std::optional<WorkspaceSettingsSnapshot> first,
                     Replayed(key, mutation));
    if (first.has_value()) return *std::move(first);
  }
  WorkspaceSettingsSnapshot snapshot = Snapshot();
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (mutation.expected_version.has_value() &&
        snapshot.version != *mutation.expected_version) {
      // The caller may have read a change this store has not seen yet.
      ASSIGN_OR_RETURN(snapshot, Refresh());
      if (snapshot.version != *mutation.expected_version) {
        return absl::AbortedError(
            absl::StrCat("etag: the workspace settings are at etag ",
                         WorkspaceSettingsEtag(snapshot.version), ", not ",
                         WorkspaceSettingsEtag(*mutation.expected_version),
                         "; read them again"));
      }
    }
    ASSIGN_OR_RETURN(std::vector<domain::WorkspaceEvent> events,
                     domain::DecideWorkspace(*snapshot.settings, command));
    if (events.empty()) return snapshot;

    eventstore::StreamWrite write;
    write.stream = kWorkspaceStream;
    write.expected_version =
        eventstore::ExpectedVersion::Exactly(snapshot.version);
    domain::WorkspaceSettings next = *snapshot.settings;
    for (const domain::WorkspaceEvent& event : events) {
      write.events.push_back(
          projections::EncodeWorkspaceEvent(event, ids_->NewId()));
      next = domain::EvolveWorkspace(std::move(next), event);
    }
    eventstore::AppendRequest request;
    request.metadata.actor = context.actor;
    request.metadata.correlation_id = context.correlation_id.empty()
                                          ? write.events.front().event_id
                                          : context.correlation_id;
    request.writes.push_back(std::move(write));
    request.idempotency_key = key;
    request.idempotency_fingerprint = mutation.fingerprint;

    absl::StatusOr<eventstore::AppendResult> appended =
        log_->Append(std::move(request));
    if (appended.ok()) {
      WorkspaceSettingsSnapshot written;
      if (key.empty()) {
        written = WorkspaceSettingsSnapshot{
            .settings = std::make_shared<const domain::WorkspaceSettings>(
                std::move(next)),
            .version = appended->stream_versions.front()};
      } else {
        // A concurrent retry may have committed first, in which case the
        // store answered with its result: show the settings as of that
        // append.
        ASSIGN_OR_RETURN(written, LoadAt(appended->stream_versions.front()));
      }
      written.log_position = appended->last_position;
      Install(written);
      return written;
    }
    if (!absl::IsAborted(appended.status())) return appended.status();
    // With an etag the caller decided on settings that are gone: say so.
    if (mutation.expected_version.has_value()) {
      Refresh().IgnoreError();
      return absl::AbortedError(
          "etag: the workspace settings changed concurrently; read them "
          "again");
    }
    // Another writer moved the stream between our read and our append:
    // catch up with it and decide again after a short, jittered pause.
    backoff_.Pause(attempt);
    ASSIGN_OR_RETURN(snapshot, Refresh());
  }
  return absl::AbortedError(absl::StrCat(
      "workspace settings: changed concurrently ", options_.max_attempts,
      " times in a row; retry the request"));
}

}  // namespace leadledger::services
