#include "services/lead_command_handler.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/lead_decider.h"
#include "domain/status_macros.h"
#include "projections/event_codec.h"

namespace leadledger::services {
namespace {

// Events read per round trip while folding a stream.
constexpr int kFoldPageSize = 1000;

}  // namespace

std::string LeadStream(absl::string_view lead_id) {
  return absl::StrCat("lead-", lead_id);
}

LeadCommandHandler::LeadCommandHandler(eventstore::EventStore* store,
                                       IdGenerator* ids,
                                       LeadCommandHandlerOptions options)
    : store_(store), ids_(ids), options_(options) {}

absl::StatusOr<LeadSnapshot> LeadCommandHandler::Fold(
    absl::string_view stream, std::optional<int64_t> last_version) {
  LeadSnapshot snapshot;
  eventstore::StreamReadOptions page;
  page.max_count = kFoldPageSize;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                     store_->ReadStream(stream, page));
    for (const eventstore::RecordedEvent& recorded : events) {
      if (last_version.has_value() && recorded.stream_version > *last_version) {
        return snapshot;
      }
      ASSIGN_OR_RETURN(domain::LeadEvent event,
                       projections::DecodeLeadEvent(recorded));
      snapshot.lead = domain::Evolve(std::move(snapshot.lead), event);
      snapshot.version = recorded.stream_version;
      snapshot.log_position = recorded.position;
    }
    if (events.size() < static_cast<size_t>(kFoldPageSize)) return snapshot;
    page.from_version = snapshot.version + 1;
  }
}

absl::StatusOr<LeadSnapshot> LeadCommandHandler::Load(
    absl::string_view lead_id) {
  ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(LeadStream(lead_id)));
  if (!snapshot.lead.exists) {
    return absl::NotFoundError(absl::StrCat("lead ", lead_id, " not found"));
  }
  return snapshot;
}

void LeadCommandHandler::BackOff(int attempt) {
  absl::Duration pause;
  {
    absl::MutexLock lock(&jitter_mu_);
    pause = absl::Nanoseconds(absl::Uniform<int64_t>(
        jitter_, 0,
        absl::ToInt64Nanoseconds(options_.backoff_step * attempt) + 1));
  }
  absl::SleepFor(pause);
}

absl::StatusOr<LeadCommandHandler::MergeResult>
LeadCommandHandler::ExecuteMerge(const domain::MergeLeads& command,
                                 const CallContext& context,
                                 const MutationOptions& mutation) {
  const std::string key = mutation.request_id.empty()
                              ? ""
                              : absl::StrCat("request/", mutation.request_id);
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    std::vector<domain::Lead> leads;
    absl::flat_hash_map<std::string, int64_t> versions;
    for (const std::string& id : command.lead_ids) {
      ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(LeadStream(id)));
      versions[id] = snapshot.version;
      leads.push_back(std::move(snapshot.lead));
    }
    if (!key.empty()) {
      ASSIGN_OR_RETURN(std::optional<eventstore::CommittedAppend> committed,
                       store_->LookupIdempotencyKey(key));
      if (committed.has_value()) {
        if (committed->fingerprint != mutation.fingerprint) {
          return absl::AlreadyExistsError(
              absl::StrCat("request_id ", mutation.request_id,
                           " was already used for a different request"));
        }
        // Answered before: the head is the lead that is not merged away.
        for (const domain::Lead& lead : leads) {
          if (lead.status == domain::LeadStatus::kMerged) continue;
          MergeResult first;
          ASSIGN_OR_RETURN(first.head, Load(lead.id));
          for (const domain::Lead& other : leads) {
            if (other.merged_into == lead.id)
              first.merged_ids.push_back(other.id);
          }
          first.head.log_position = committed->result.last_position;
          return first;
        }
      }
    }
    ASSIGN_OR_RETURN(domain::MergeDecision decision,
                     domain::DecideMerge(leads, command));
    eventstore::AppendRequest request;
    request.metadata.actor = context.actor;
    request.metadata.correlation_id = context.correlation_id;
    request.metadata.causation_id = context.causation_id;
    request.idempotency_key = key;
    request.idempotency_fingerprint = mutation.fingerprint;
    for (const auto& [lead_id, events] : decision.events) {
      eventstore::StreamWrite write;
      write.stream = LeadStream(lead_id);
      write.expected_version =
          eventstore::ExpectedVersion::Exactly(versions[lead_id]);
      for (const domain::LeadEvent& event : events) {
        write.events.push_back(
            projections::EncodeLeadEvent(event, ids_->NewId()));
      }
      request.writes.push_back(std::move(write));
    }
    if (request.metadata.correlation_id.empty()) {
      request.metadata.correlation_id =
          request.writes.front().events.front().event_id;
    }
    absl::StatusOr<eventstore::AppendResult> appended =
        store_->Append(std::move(request));
    if (appended.ok()) {
      MergeResult result;
      ASSIGN_OR_RETURN(result.head, LoadAt(decision.head_id,
                                           appended->stream_versions.front()));
      result.head.log_position = appended->last_position;
      for (size_t i = 1; i < decision.events.size(); ++i) {
        result.merged_ids.push_back(decision.events[i].first);
      }
      return result;
    }
    if (!absl::IsAborted(appended.status())) return appended.status();
    BackOff(attempt);
  }
  return absl::AbortedError(absl::StrCat(
      "merge: the leads changed concurrently ", options_.max_attempts,
      " times in a row; retry the request"));
}

absl::StatusOr<LeadSnapshot> LeadCommandHandler::LoadAt(
    absl::string_view lead_id, int64_t version) {
  ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(LeadStream(lead_id), version));
  if (!snapshot.lead.exists || snapshot.version != version) {
    return absl::NotFoundError(
        absl::StrCat("lead ", lead_id, " has no version ", version));
  }
  return snapshot;
}

absl::StatusOr<std::optional<LeadSnapshot>> LeadCommandHandler::Replayed(
    absl::string_view lead_id, const std::string& key,
    const MutationOptions& mutation) {
  ASSIGN_OR_RETURN(std::optional<eventstore::CommittedAppend> committed,
                   store_->LookupIdempotencyKey(key));
  if (!committed.has_value()) return std::nullopt;
  if (committed->fingerprint != mutation.fingerprint) {
    return absl::AlreadyExistsError(
        absl::StrCat("request_id ", mutation.request_id,
                     " was already used for a different request"));
  }
  ASSIGN_OR_RETURN(LeadSnapshot first,
                   LoadAt(lead_id, committed->result.stream_versions.front()));
  first.log_position = committed->result.last_position;
  return first;
}

absl::StatusOr<LeadSnapshot> LeadCommandHandler::Execute(
    absl::string_view lead_id, const domain::LeadCommand& command,
    const CallContext& context, const MutationOptions& mutation) {
  const std::string stream = LeadStream(lead_id);
  const std::string key = mutation.request_id.empty()
                              ? ""
                              : absl::StrCat("request/", mutation.request_id);
  if (!key.empty()) {
    // A retry of an answered request gets the first answer, undecided.
    ASSIGN_OR_RETURN(std::optional<LeadSnapshot> first,
                     Replayed(lead_id, key, mutation));
    if (first.has_value()) return *std::move(first);
  }
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(stream));
    if (mutation.expected_version.has_value() &&
        snapshot.version != *mutation.expected_version) {
      return absl::AbortedError(absl::StrCat(
          "etag: lead ", lead_id, " is at etag ", snapshot.version, ", not ",
          *mutation.expected_version, "; read it again"));
    }
    ASSIGN_OR_RETURN(std::vector<domain::LeadEvent> events,
                     domain::Decide(snapshot.lead, command));
    if (events.empty()) return snapshot;

    eventstore::StreamWrite write;
    write.stream = stream;
    write.expected_version =
        eventstore::ExpectedVersion::Exactly(snapshot.version);
    for (const domain::LeadEvent& event : events) {
      write.events.push_back(
          projections::EncodeLeadEvent(event, ids_->NewId()));
      snapshot.lead = domain::Evolve(std::move(snapshot.lead), event);
    }
    eventstore::AppendRequest request;
    request.metadata.actor = context.actor;
    request.metadata.causation_id = context.causation_id;
    request.metadata.correlation_id = context.correlation_id.empty()
                                          ? write.events.front().event_id
                                          : context.correlation_id;
    request.writes.push_back(std::move(write));
    request.idempotency_key = key;
    request.idempotency_fingerprint = mutation.fingerprint;

    absl::StatusOr<eventstore::AppendResult> appended =
        store_->Append(std::move(request));
    if (appended.ok()) {
      if (!key.empty()) {
        // A concurrent retry may have committed first, in which case the
        // store answered with its result: show the lead as of that append.
        ASSIGN_OR_RETURN(LeadSnapshot committed,
                         LoadAt(lead_id, appended->stream_versions.front()));
        committed.log_position = appended->last_position;
        return committed;
      }
      snapshot.version = appended->stream_versions.front();
      snapshot.log_position = appended->last_position;
      return snapshot;
    }
    if (!absl::IsAborted(appended.status())) return appended.status();
    // With an etag the caller decided on a state that is gone: say so.
    if (mutation.expected_version.has_value()) {
      return absl::AbortedError(absl::StrCat(
          "etag: lead ", lead_id, " changed concurrently; read it again"));
    }
    // Another writer moved the stream between our read and our append:
    // decide again on the new state after a short, jittered pause.
    BackOff(attempt);
  }
  return absl::AbortedError(absl::StrCat(
      "lead ", lead_id, ": changed concurrently ", options_.max_attempts,
      " times in a row; retry the request"));
}

}  // namespace leadledger::services
