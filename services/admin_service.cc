#include "services/admin_service.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "domain/status_macros.h"
#include "domain/workspace.h"
#include "eventstore/rocksdb_event_store.h"
#include "eventstore/rocksdb_thread.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace leadledger::services {
namespace {

using ::google::protobuf::Timestamp;
using ::google::protobuf::util::TimeUtil;

constexpr char kSettingsName[] = "workspace/settings";

// The update mask's paths, by WorkspaceSettings field name.
constexpr std::pair<absl::string_view, domain::WorkspaceSetting> kMaskPaths[] =
    {
        {"leads_enabled", domain::WorkspaceSetting::kLeadsEnabled},
        {"catalogue", domain::WorkspaceSetting::kCatalogue},
        {"lost_reasons", domain::WorkspaceSetting::kLostReasons},
        {"pipeline", domain::WorkspaceSetting::kPipeline},
        {"scoring", domain::WorkspaceSetting::kScoring},
        {"skip_weekends", domain::WorkspaceSetting::kWeekendRule},
        {"default_country", domain::WorkspaceSetting::kDefaultCountry},
};

// How the domain names each setting in its errors, and the request field
// that holds it.
constexpr std::pair<absl::string_view, absl::string_view> kDomainFields[] = {
    {"classification_catalogue", "settings.catalogue"},
    {"lost_reasons", "settings.lost_reasons"},
    {"pipeline_stages", "settings.pipeline"},
    {"scoring_fields", "settings.scoring.fields"},
    {"default_country", "settings.default_country"},
};

// Rewrites the setting a domain INVALID_ARGUMENT names into the request
// field that holds it ("classification_catalogue[2].tag: ..." ->
// "settings.catalogue[2].tag: ..."), so the BadRequest points at the field
// the caller sent.
absl::Status InSettingsField(absl::Status status) {
  if (!absl::IsInvalidArgument(status)) return status;
  const absl::string_view message = status.message();
  for (const auto& [domain_name, request_name] : kDomainFields) {
    if (!absl::StartsWith(message, domain_name)) continue;
    const absl::string_view rest = message.substr(domain_name.size());
    if (absl::StartsWith(rest, ":") || absl::StartsWith(rest, "[") ||
        absl::StartsWith(rest, ".")) {
      return absl::InvalidArgumentError(absl::StrCat(request_name, rest));
    }
  }
  return status;
}

Timestamp TimestampOf(absl::Time time) {
  // Rounds toward the past, so the nanoseconds below are never negative.
  const int64_t seconds = absl::ToUnixSeconds(time);
  Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return out;
}

// Errors: INVALID_ARGUMENT naming `field` for a Timestamp outside years 1 to
// 9999 or with nanos outside [0, 1e9).
absl::StatusOr<absl::Time> TimeOf(absl::string_view field,
                                  const Timestamp& time) {
  if (time.seconds() < TimeUtil::kTimestampMinSeconds ||
      time.seconds() > TimeUtil::kTimestampMaxSeconds || time.nanos() < 0 ||
      time.nanos() > 999'999'999) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a valid timestamp (years 1 to 9999)"));
  }
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

v1::ClassificationOutcome OutcomeToProto(const domain::Outcome& outcome) {
  v1::ClassificationOutcome out;
  out.set_id(outcome.id);
  out.set_label(outcome.label);
  out.set_classifies(outcome.classifies);
  out.set_tag(outcome.tag);
  if (outcome.follow_up_days.has_value()) {
    out.set_follow_up_days(*outcome.follow_up_days);
  }
  out.set_rank(outcome.rank);
  return out;
}

domain::Outcome OutcomeFromProto(const v1::ClassificationOutcome& in) {
  domain::Outcome outcome{.id = in.id(),
                          .label = in.label(),
                          .classifies = in.classifies(),
                          .tag = in.tag(),
                          .rank = in.rank()};
  if (in.has_follow_up_days()) outcome.follow_up_days = in.follow_up_days();
  return outcome;
}

v1::WorkspaceSettings SettingsToProto(const WorkspaceSettingsSnapshot& at) {
  const domain::WorkspaceSettings& settings = *at.settings;
  v1::WorkspaceSettings out;
  out.set_name(kSettingsName);
  out.set_etag(WorkspaceSettingsEtag(at.version));
  out.set_leads_enabled(settings.leads_enabled);
  for (const domain::Outcome& outcome : settings.catalogue) {
    *out.add_catalogue() = OutcomeToProto(outcome);
  }
  for (const std::string& reason : settings.lost_reasons) {
    out.add_lost_reasons(reason);
  }
  for (const std::string& stage : settings.pipeline_stages) {
    out.add_pipeline(stage);
  }
  v1::ScoringSettings* scoring = out.mutable_scoring();
  for (const std::string& field : settings.scoring.fields) {
    scoring->add_fields(field);
  }
  // InfinitePast is the domain's "no start date".
  if (settings.scoring.start_date != absl::InfinitePast()) {
    *scoring->mutable_start_date() = TimestampOf(settings.scoring.start_date);
  }
  out.set_skip_weekends(settings.skip_weekends);
  out.set_default_country(settings.default_country);
  return out;
}

// Copies the value of `setting` from `in` into `values`.
// Errors: INVALID_ARGUMENT naming the request field.
absl::Status SettingFromProto(domain::WorkspaceSetting setting,
                              const v1::WorkspaceSettings& in,
                              domain::WorkspaceSettings& values) {
  switch (setting) {
    case domain::WorkspaceSetting::kLeadsEnabled:
      values.leads_enabled = in.leads_enabled();
      return absl::OkStatus();
    case domain::WorkspaceSetting::kCatalogue:
      values.catalogue.clear();
      for (const v1::ClassificationOutcome& outcome : in.catalogue()) {
        values.catalogue.push_back(OutcomeFromProto(outcome));
      }
      return absl::OkStatus();
    case domain::WorkspaceSetting::kLostReasons:
      values.lost_reasons = {in.lost_reasons().begin(),
                             in.lost_reasons().end()};
      return absl::OkStatus();
    case domain::WorkspaceSetting::kPipeline:
      values.pipeline_stages = {in.pipeline().begin(), in.pipeline().end()};
      return absl::OkStatus();
    case domain::WorkspaceSetting::kScoring:
      values.scoring.fields = {in.scoring().fields().begin(),
                               in.scoring().fields().end()};
      values.scoring.start_date = absl::InfinitePast();
      if (in.scoring().has_start_date()) {
        ASSIGN_OR_RETURN(
            values.scoring.start_date,
            TimeOf("settings.scoring.start_date", in.scoring().start_date()));
      }
      return absl::OkStatus();
    case domain::WorkspaceSetting::kWeekendRule:
      values.skip_weekends = in.skip_weekends();
      return absl::OkStatus();
    case domain::WorkspaceSetting::kDefaultCountry:
      values.default_country = in.default_country();
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("update_mask: unknown setting");
}

// Errors: INVALID_ARGUMENT naming "update_mask" for a path that is not a
// setting.
absl::StatusOr<domain::WorkspaceSetting> SettingOfPath(
    const std::string& path) {
  for (const auto& [name, setting] : kMaskPaths) {
    if (path == name) return setting;
  }
  std::vector<absl::string_view> names;
  for (const auto& [name, setting] : kMaskPaths) names.push_back(name);
  return absl::InvalidArgumentError(absl::StrCat(
      "update_mask: \"", path.substr(0, 64),
      "\" is not an updatable field of WorkspaceSettings; expected one of ",
      absl::StrJoin(names, ", ")));
}

// Errors: INVALID_ARGUMENT naming "backup_id" unless `id` is 1 to
// kMaxBackupIdLength characters of [a-z0-9-] starting with [a-z0-9]: it
// becomes a directory name, so it can hold no separator, dot or blank.
absl::Status ValidBackupId(const std::string& id) {
  bool valid = !id.empty() && id.size() <= kMaxBackupIdLength && id[0] != '-';
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      valid = false;
    }
  }
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "backup_id: must be 1 to ", kMaxBackupIdLength,
      " characters of [a-z0-9-] starting with a letter or digit, got \"",
      id.substr(0, kMaxBackupIdLength + 1), "\""));
}

}  // namespace

AdminServiceImpl::AdminServiceImpl(AdminServiceOptions options, RpcEnv env)
    : options_(std::move(options)), env_(env) {}

grpc::ServerUnaryReactor* AdminServiceImpl::GetWorkspaceSettings(
    grpc::CallbackServerContext* context,
    const v1::GetWorkspaceSettingsRequest* request,
    v1::GetWorkspaceSettingsResponse* response) {
  return Answer(
      env_, context,
      [=, this] {
        RETURN_IF_ERROR(AwaitLogPosition(*options_.log, *context,
                                         request->min_position(),
                                         absl::Milliseconds(200)));
        return DoGetWorkspaceSettings(*request, *response);
      },
      CallKind::kQuery);
}

absl::Status AdminServiceImpl::DoGetWorkspaceSettings(
    const v1::GetWorkspaceSettingsRequest& request,
    v1::GetWorkspaceSettingsResponse& response) {
  if (!request.name().empty() && request.name() != kSettingsName) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: must be \"", kSettingsName, "\" or empty"));
  }
  // Another writer of the log may have changed the settings: a read shows
  // the log, not only what this server wrote.
  ASSIGN_OR_RETURN(WorkspaceSettingsSnapshot current,
                   options_.settings->Refresh());
  *response.mutable_settings() = SettingsToProto(current);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminServiceImpl::UpdateWorkspaceSettings(
    grpc::CallbackServerContext* context,
    const v1::UpdateWorkspaceSettingsRequest* request,
    v1::UpdateWorkspaceSettingsResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoUpdateWorkspaceSettings(call, *request, *response);
  });
}

absl::Status AdminServiceImpl::DoUpdateWorkspaceSettings(
    const CallContext& call, const v1::UpdateWorkspaceSettingsRequest& request,
    v1::UpdateWorkspaceSettingsResponse& response) {
  if (!request.has_settings()) {
    return absl::InvalidArgumentError("settings: required");
  }
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("UpdateWorkspaceSettings", request));
  absl::StatusOr<std::optional<int64_t>> etag =
      ParseEtag(request.settings().etag());
  if (!etag.ok()) return InRequestField("settings.", etag.status());
  if (etag->has_value()) {
    mutation.expected_version = WorkspaceVersionOfEtag(**etag);
  }
  domain::UpdateWorkspaceSettings command{.now = options_.clock->Now()};
  for (const std::string& path : request.update_mask().paths()) {
    ASSIGN_OR_RETURN(domain::WorkspaceSetting setting, SettingOfPath(path));
    command.fields.insert(setting);
    RETURN_IF_ERROR(
        SettingFromProto(setting, request.settings(), command.values));
  }
  absl::StatusOr<WorkspaceSettingsSnapshot> updated =
      options_.settings->Execute(command, call, mutation);
  if (!updated.ok()) return InSettingsField(updated.status());
  *response.mutable_settings() = SettingsToProto(*updated);
  response.set_log_position(updated->log_position);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminServiceImpl::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest* request,
    v1::BackupResponse* response) {
  return Answer(env_, context,
                [=, this] { return DoBackup(*request, *response); });
}

absl::Status AdminServiceImpl::DoBackup(const v1::BackupRequest& request,
                                        v1::BackupResponse& response) {
  RETURN_IF_ERROR(ValidBackupId(request.backup_id()));
  std::error_code error;
  std::filesystem::create_directories(options_.backups_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("backups directory ", options_.backups_dir,
                     ": cannot create: ", error.message()));
  }
  const std::string path =
      (std::filesystem::path(options_.backups_dir) / request.backup_id())
          .string();
  const absl::Status exists = absl::AlreadyExistsError(absl::StrCat(
      "backup_id: backup \"", request.backup_id(), "\" already exists"));
  if (std::filesystem::exists(path, error)) return exists;
  if (absl::Status written = options_.log->Backup(path); !written.ok()) {
    // Only a directory created since the check above refuses a backup so.
    return absl::IsFailedPrecondition(written) ? exists : written;
  }
  // The copy was taken while appends went on: only the copy itself knows
  // which of them it holds. Opening it also proves it is a usable store.
  absl::StatusOr<std::unique_ptr<eventstore::RocksDbEventStore>> copy =
      eventstore::RocksDbEventStore::Open({.path = path});
  if (!copy.ok()) {
    return absl::Status(
        copy.status().code(),
        absl::StrCat("backup written to ", path,
                     " does not open: ", copy.status().message()));
  }
  const uint64_t head = (*copy)->HeadPosition();
  response.set_path(path);
  response.set_head_position(head);
  // Positions are gapless from 1.
  response.set_event_count(head);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminServiceImpl::Verify(
    grpc::CallbackServerContext* context,
    const v1::VerifyRequest* /*request: has no fields*/,
    v1::VerifyResponse* response) {
  return Answer(env_, context, [=, this] { return DoVerify(*response); });
}

absl::Status AdminServiceImpl::DoVerify(v1::VerifyResponse& response) {
  ASSIGN_OR_RETURN(eventstore::VerifyReport report, options_.log->Verify());
  response.set_events(report.events);
  response.set_streams(report.streams);
  for (std::string& problem : report.problems) {
    response.add_problems(std::move(problem));
  }
  return absl::OkStatus();
}

namespace {

void ProgressToProto(const projections::RebuildProgress& progress,
                     v1::RebuildProgress& out) {
  out.set_events_done(progress.events_done);
  out.set_head_position(progress.head_position);
  out.set_events_per_second(progress.events_per_second);
  const int64_t eta_nanos = absl::ToInt64Nanoseconds(progress.eta);
  out.mutable_eta()->set_seconds(eta_nanos / 1'000'000'000);
  out.mutable_eta()->set_nanos(static_cast<int32_t>(eta_nanos % 1'000'000'000));
  out.set_promoted(progress.promoted);
}

void CacheStatsToProto(const projections::CacheStats& stats,
                       v1::CacheStatus& out) {
  out.set_hits(stats.hits);
  out.set_misses(stats.misses);
  out.set_entries(stats.entries);
  out.set_bytes(stats.bytes);
  out.set_capacity_bytes(stats.capacity_bytes);
}

void StatusToProto(const projections::ProjectionStatus& status,
                   v1::ProjectionStatus& out) {
  out.set_name(status.name);
  out.set_version(status.version);
  out.set_keyspace(status.keyspace);
  out.set_checkpoint(status.checkpoint);
  out.set_head_position(status.head_position);
  out.set_lag(status.lag);
  if (!status.error.ok()) out.set_error(std::string(status.error.message()));
  if (status.rebuild.has_value()) {
    ProgressToProto(*status.rebuild, *out.mutable_rebuild());
  }
  if (status.row_cache.has_value()) {
    CacheStatsToProto(*status.row_cache, *out.mutable_row_cache());
  }
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::GetProjectionStatus(
    grpc::CallbackServerContext* context,
    const v1::GetProjectionStatusRequest* /*request: has no fields*/,
    v1::GetProjectionStatusResponse* response) {
  return Answer(
      env_, context, [=, this] { return DoGetProjectionStatus(*response); },
      CallKind::kQuery);
}

absl::Status AdminServiceImpl::DoGetProjectionStatus(
    v1::GetProjectionStatusResponse& response) {
  for (const projections::ProjectionStatus& status :
       options_.read_models->Status()) {
    StatusToProto(status, *response.add_projections());
  }
  for (const projections::ProjectionStatus& status :
       options_.scheduler->Status()) {
    StatusToProto(status, *response.add_projections());
  }
  if (options_.decoded_leads != nullptr) {
    CacheStatsToProto(options_.decoded_leads->GetStats(),
                      *response.mutable_decoded_lead_cache());
  }
  return absl::OkStatus();
}

// Runs one rebuild on a thread of its own (a rebuild of millions of events
// must not hold a worker) and streams its progress. A slow reader only ever
// gets the latest progress: reports that arrive while a write is under way
// replace each other.
class AdminServiceImpl::RebuildReactor final
    : public grpc::ServerWriteReactor<v1::RebuildProjectionResponse> {
 public:
  RebuildReactor(AdminServiceImpl* service, CallTracker::Scope scope,
                 std::vector<std::string> names)
      : service_(service), scope_(std::move(scope)) {
    thread_ = std::thread(
        [this, names = std::move(names)]() mutable { Run(std::move(names)); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
    WriteOrFinish();
  }

  void OnCancel() override { cancelled_ = true; }

  void OnDone() override {
    thread_.join();
    --service_->rebuilds_running_;
    delete this;
  }

 private:
  void Run(std::vector<std::string> names) {
    eventstore::DisableRocksDbPerfCountersOnThisThread();
    absl::Status status = service_->options_.read_models->Rebuild(
        std::move(names),
        [this](const projections::RebuildProgress& progress) {
          absl::MutexLock lock(&mu_);
          ProgressToProto(progress, *pending_.mutable_progress());
          has_pending_ = true;
          WriteOrFinish();
        },
        [this] { return cancelled_.load(); });
    absl::MutexLock lock(&mu_);
    result_ = std::move(status);
    done_ = true;
    WriteOrFinish();
  }

  // Writes the pending report if no write is under way; once the rebuild
  // has ended and every report is written, finishes the call.
  void WriteOrFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (has_pending_ && !cancelled_) {
      in_flight_ = pending_;
      has_pending_ = false;
      writing_ = true;
      StartWrite(&in_flight_);
      return;
    }
    if (done_) {
      finished_ = true;
      Finish(ToGrpcStatus(result_));
    }
  }

  AdminServiceImpl* const service_;
  CallTracker::Scope scope_;
  std::atomic<bool> cancelled_{false};
  absl::Mutex mu_;
  v1::RebuildProjectionResponse pending_ ABSL_GUARDED_BY(mu_);
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  v1::RebuildProjectionResponse in_flight_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

grpc::ServerWriteReactor<v1::RebuildProjectionResponse>*
AdminServiceImpl::RebuildProjection(
    grpc::CallbackServerContext* context,
    const v1::RebuildProjectionRequest* request) {
  // Refusals answer at once with a reactor that only finishes.
  class Refusal final
      : public grpc::ServerWriteReactor<v1::RebuildProjectionResponse> {
   public:
    explicit Refusal(const absl::Status& status) {
      Finish(ToGrpcStatus(status));
    }
    void OnDone() override { delete this; }
  };
  std::optional<CallTracker::Scope> scope = env_.calls->Enter();
  if (!scope.has_value()) {
    return new Refusal(
        absl::UnavailableError("server is shutting down; retry elsewhere"));
  }
  std::set<std::string> known;
  for (const projections::ProjectionStatus& status :
       options_.read_models->Status()) {
    known.insert(status.name);
  }
  std::vector<std::string> names;
  for (int i = 0; i < request->names_size(); ++i) {
    const std::string& name = request->names(i);
    if (!known.contains(name)) {
      return new Refusal(absl::InvalidArgumentError(absl::StrCat(
          "names[", i, "]: \"", name.substr(0, 64),
          "\" is not a read model; known: ", absl::StrJoin(known, ", "))));
    }
    names.push_back(name);
  }
  (void)context;
  if (++rebuilds_running_ > kMaxConcurrentRebuilds) {
    --rebuilds_running_;
    return new Refusal(absl::ResourceExhaustedError(absl::StrCat(
        "at most ", kMaxConcurrentRebuilds, " rebuilds run at once")));
  }
  return new RebuildReactor(this, *std::move(scope), std::move(names));
}

}  // namespace leadledger::services
