#include "services/lead_command_handler.h"

#include <functional>
#include <limits>
#include <memory>
#include <optional>
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

// ABORTED for a mutation whose etag named a state another writer replaced.
absl::Status StaleEtagError(absl::string_view lead_id) {
  return absl::AbortedError(absl::StrCat(
      "etag: lead ", lead_id, " changed concurrently; read it again"));
}

// ABORTED once every attempt of a mutation lost its race.
absl::Status ContentionError(absl::string_view lead_id, int attempts) {
  return absl::AbortedError(absl::StrCat("lead ", lead_id,
                                         ": changed concurrently ", attempts,
                                         " times in a row; retry the request"));
}

// Events read per round trip while folding a stream.
constexpr int kFoldPageSize = 1000;

}  // namespace

std::string LeadStream(absl::string_view lead_id) {
  return absl::StrCat("lead-", lead_id);
}

std::string CustomerStream(absl::string_view customer_id) {
  return absl::StrCat("customer-", customer_id);
}

LeadCommandHandler::LeadCommandHandler(eventstore::EventStore* store,
                                       IdGenerator* ids,
                                       LeadCommandHandlerOptions options)
    : store_(store),
      ids_(ids),
      options_(options),
      cache_(options.cached_leads),
      backoff_(options.backoff_step) {}

absl::StatusOr<LeadSnapshot> LeadCommandHandler::Fold(
    absl::string_view lead_id, std::optional<int64_t> last_version) {
  const int64_t wanted =
      last_version.value_or(std::numeric_limits<int64_t>::max());
  std::shared_ptr<const LeadSnapshot> cached = cache_.Find(lead_id, wanted);
  if (cached != nullptr && cached->version == wanted) return *cached;
  const int64_t cached_version =
      cached == nullptr ? eventstore::kNoStreamVersion : cached->version;
  const std::string stream = LeadStream(lead_id);
  if (!last_version.has_value()) {
    // Most of the time nothing was appended since (or, for a lead being
    // created, ever): one point read of the stream's head settles it,
    // cheaper than positioning a stream read.
    ASSIGN_OR_RETURN(int64_t head, store_->StreamVersion(stream));
    if (head == cached_version) {
      return cached == nullptr ? LeadSnapshot{} : *cached;
    }
  }
  LeadSnapshot snapshot = cached == nullptr ? LeadSnapshot{} : *cached;
  cached.reset();
  eventstore::StreamReadOptions page;
  page.max_count = kFoldPageSize;
  page.from_version = snapshot.version + 1;
  bool done = false;
  while (!done) {
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                     store_->ReadStream(stream, page));
    for (const eventstore::RecordedEvent& recorded : events) {
      if (recorded.stream_version > wanted) break;
      ASSIGN_OR_RETURN(domain::LeadEvent event,
                       projections::DecodeLeadEvent(recorded));
      domain::EvolveInPlace(snapshot.lead, event);
      snapshot.version = recorded.stream_version;
      snapshot.log_position = recorded.position;
    }
    done = events.size() < static_cast<size_t>(kFoldPageSize) ||
           snapshot.version >= wanted;
    page.from_version = snapshot.version + 1;
  }
  if (snapshot.version > cached_version) {
    cache_.Store(lead_id, std::make_shared<const LeadSnapshot>(snapshot),
                 cached_version);
  }
  return snapshot;
}

absl::StatusOr<LeadSnapshot> LeadCommandHandler::Load(
    absl::string_view lead_id) {
  ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(lead_id));
  if (!snapshot.lead.exists) {
    return absl::NotFoundError(absl::StrCat("lead ", lead_id, " not found"));
  }
  return snapshot;
}

absl::StatusOr<LeadCommandHandler::MergeResult>
LeadCommandHandler::ExecuteMerge(const domain::MergeLeads& command,
                                 const CallContext& context,
                                 const MutationOptions& mutation) {
  return ExecuteMergeDecision(
      command.lead_ids,
      [&](const std::vector<domain::Lead>& leads) {
        return domain::DecideMerge(leads, command);
      },
      context, mutation);
}

absl::StatusOr<LeadCommandHandler::MergeResult>
LeadCommandHandler::ExecuteConversionByMerge(const domain::MergeLeads& command,
                                             const CallContext& context,
                                             const MutationOptions& mutation) {
  return ExecuteMergeDecision(
      command.lead_ids,
      [&](const std::vector<domain::Lead>& leads)
          -> absl::StatusOr<domain::MergeDecision> {
        if (leads.empty()) {
          return absl::InvalidArgumentError("lead_ids: name the lead");
        }
        return domain::DecideConversionByMerge(
            leads.front(),
            std::vector<domain::Lead>(leads.begin() + 1, leads.end()), command);
      },
      context, mutation);
}

absl::StatusOr<LeadCommandHandler::MergeResult>
LeadCommandHandler::ExecuteMergeDecision(
    const std::vector<std::string>& lead_ids,
    const std::function<absl::StatusOr<domain::MergeDecision>(
        const std::vector<domain::Lead>&)>& decide,
    const CallContext& context, const MutationOptions& mutation) {
  const std::string key = mutation.request_id.empty()
                              ? ""
                              : absl::StrCat("request/", mutation.request_id);
  std::vector<LeadTurns::Turn> turns = turns_.TakeAll(lead_ids);
  for (LeadTurns::Turn& turn : turns) turn.AwaitSettled();
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    std::vector<domain::Lead> leads;
    absl::flat_hash_map<std::string, int64_t> versions;
    for (const std::string& id : lead_ids) {
      ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(id));
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
    if (mutation.expected_version.has_value() && !lead_ids.empty() &&
        versions[lead_ids.front()] != *mutation.expected_version) {
      return absl::AbortedError(
          absl::StrCat("etag: lead ", lead_ids.front(), " is at etag ",
                       versions[lead_ids.front()], ", not ",
                       *mutation.expected_version, "; read it again"));
    }
    ASSIGN_OR_RETURN(domain::MergeDecision decision, decide(leads));
    eventstore::AppendRequest request;
    request.metadata.actor = context.actor;
    request.metadata.correlation_id = context.correlation_id;
    request.metadata.causation_id = context.causation_id;
    request.idempotency_key = key;
    request.idempotency_fingerprint = mutation.fingerprint;
    request.max_sync_delay = mutation.max_sync_delay;
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
    if (mutation.expected_version.has_value()) {
      return absl::AbortedError(absl::StrCat("etag: lead ", lead_ids.front(),
                                             " changed concurrently; read it "
                                             "again"));
    }
    backoff_.Pause(attempt);
  }
  return absl::AbortedError(absl::StrCat(
      "merge: the leads changed concurrently ", options_.max_attempts,
      " times in a row; retry the request"));
}

absl::StatusOr<LeadSnapshot> LeadCommandHandler::LoadAt(
    absl::string_view lead_id, int64_t version) {
  ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(lead_id, version));
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
  // A request with an id is answered as of its own append, which a retry
  // may have made first: it decides on the stored lead only.
  const bool pipelined = key.empty();
  std::optional<LeadTurns::Turn> turn;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (!turn.has_value()) turn.emplace(turns_.Take(lead_id));
    std::shared_ptr<const LeadSnapshot> ahead =
        pipelined ? turn->StateAhead() : nullptr;
    if (!pipelined) turn->AwaitSettled();
    LeadSnapshot snapshot;
    absl::StatusOr<std::vector<domain::LeadEvent>> events;
    while (true) {
      if (ahead != nullptr) {
        snapshot = *ahead;
      } else {
        ASSIGN_OR_RETURN(snapshot, Fold(lead_id));
      }
      if (mutation.expected_version.has_value() &&
          snapshot.version != *mutation.expected_version) {
        events = absl::AbortedError(absl::StrCat(
            "etag: lead ", lead_id, " is at etag ", snapshot.version, ", not ",
            *mutation.expected_version, "; read it again"));
      } else {
        events = domain::Decide(snapshot.lead, command);
      }
      if (ahead == nullptr || (events.ok() && !events->empty())) break;
      // A refusal or a no-op must hold for the stored lead, not for a state
      // that appends still in flight may fail to write.
      turn->AwaitSettled();
      ahead = nullptr;
    }
    if (!events.ok()) return events.status();
    if (events->empty()) return snapshot;

    eventstore::StreamWrite write;
    write.stream = stream;
    write.expected_version =
        eventstore::ExpectedVersion::Exactly(snapshot.version);
    const int64_t decided_from = snapshot.version;
    for (const domain::LeadEvent& event : *events) {
      write.events.push_back(
          projections::EncodeLeadEvent(event, ids_->NewId()));
      domain::EvolveInPlace(snapshot.lead, event);
    }
    snapshot.version = decided_from + static_cast<int64_t>(events->size());
    eventstore::AppendRequest request;
    request.metadata.actor = context.actor;
    request.metadata.causation_id = context.causation_id;
    request.metadata.correlation_id = context.correlation_id.empty()
                                          ? write.events.front().event_id
                                          : context.correlation_id;
    request.writes.push_back(std::move(write));
    request.idempotency_key = key;
    request.idempotency_fingerprint = mutation.fingerprint;
    request.max_sync_delay = mutation.max_sync_delay;

    // Once the append is queued, the next command on the lead decides on
    // the state it leaves instead of waiting for its fsync.
    std::optional<LeadTurns::InFlight> in_flight;
    absl::StatusOr<eventstore::AppendResult> appended =
        store_->AppendInOrder(std::move(request), [&] {
          if (!pipelined) return;
          in_flight.emplace(
              turns_.Pass(*std::move(turn),
                          std::make_shared<const LeadSnapshot>(snapshot)));
          turn.reset();
        });
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
      // The state the events were decided into is the state their fold
      // reads back (the codec round-trips them exactly): keep it, so the
      // next command and the scheduler, which wants the lead as of this
      // version, read nothing.
      cache_.Store(lead_id, std::make_shared<const LeadSnapshot>(snapshot),
                   decided_from);
      if (in_flight.has_value()) in_flight->Committed();
      return snapshot;
    }
    in_flight.reset();  // failed: the next turn decides on the stored lead
    if (!absl::IsAborted(appended.status())) return appended.status();
    // With an etag the caller decided on a state that is gone: say so.
    if (mutation.expected_version.has_value()) {
      return StaleEtagError(lead_id);
    }
    // Another writer moved the stream between our read and our append, or
    // an append this one was queued behind failed: decide again on the new
    // state after a short, jittered pause.
    backoff_.Pause(attempt);
  }
  return ContentionError(lead_id, options_.max_attempts);
}

absl::StatusOr<domain::Customer> LeadCommandHandler::LoadCustomer(
    absl::string_view customer_id) {
  domain::Customer customer;
  eventstore::StreamReadOptions page;
  page.max_count = kFoldPageSize;
  const std::string stream = CustomerStream(customer_id);
  while (true) {
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                     store_->ReadStream(stream, page));
    for (const eventstore::RecordedEvent& recorded : events) {
      ASSIGN_OR_RETURN(domain::CustomerEvent event,
                       projections::DecodeCustomerEvent(recorded));
      customer = domain::EvolveCustomer(std::move(customer), event);
      page.from_version = recorded.stream_version + 1;
    }
    if (events.size() < static_cast<size_t>(kFoldPageSize)) return customer;
  }
}

absl::StatusOr<LeadCommandHandler::ConversionResult>
LeadCommandHandler::ExecuteConversion(absl::string_view lead_id,
                                      const domain::ConvertLead& command,
                                      const CustomerEmailLookup& email_lookup,
                                      const CallContext& context,
                                      const MutationOptions& mutation) {
  const std::string stream = LeadStream(lead_id);
  const std::string key = mutation.request_id.empty()
                              ? ""
                              : absl::StrCat("request/", mutation.request_id);
  // The first answer of a retried request: the lead as that append left it;
  // a second stream in it was the created customer's.
  auto answered = [&](const eventstore::AppendResult& result)
      -> absl::StatusOr<ConversionResult> {
    ConversionResult first;
    ASSIGN_OR_RETURN(first.lead,
                     LoadAt(lead_id, result.stream_versions.front()));
    first.lead.log_position = result.last_position;
    first.customer_id = first.lead.lead.customer_id;
    first.customer_created = result.stream_versions.size() > 1;
    return first;
  };
  if (!key.empty()) {
    ASSIGN_OR_RETURN(std::optional<eventstore::CommittedAppend> committed,
                     store_->LookupIdempotencyKey(key));
    if (committed.has_value()) {
      if (committed->fingerprint != mutation.fingerprint) {
        return absl::AlreadyExistsError(
            absl::StrCat("request_id ", mutation.request_id,
                         " was already used for a different request"));
      }
      return answered(committed->result);
    }
  }
  LeadTurns::Turn turn = turns_.Take(lead_id);
  turn.AwaitSettled();
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    // The head before the lead is read: every customer created before the
    // conversion is decided is at or below it.
    const uint64_t head = store_->HeadPosition();
    ASSIGN_OR_RETURN(LeadSnapshot snapshot, Fold(lead_id));
    if (mutation.expected_version.has_value() &&
        snapshot.version != *mutation.expected_version) {
      return absl::AbortedError(absl::StrCat(
          "etag: lead ", lead_id, " is at etag ", snapshot.version, ", not ",
          *mutation.expected_version, "; read it again"));
    }
    const domain::Lead& lead = snapshot.lead;
    if (!lead.exists) {
      return absl::NotFoundError(absl::StrCat("lead ", lead_id, " not found"));
    }
    domain::ConversionContext conversion;
    if (command.customer_action == domain::CustomerAction::kLinkExisting &&
        !command.customer_id.empty()) {
      ASSIGN_OR_RETURN(conversion.linked_customer,
                       LoadCustomer(command.customer_id));
    }
    // Only a conversion that can go ahead and would link by email looks
    // for a customer with the lead's email.
    if (command.customer_action == domain::CustomerAction::kDefault &&
        lead.status == domain::LeadStatus::kActive &&
        lead.kind == domain::LeadKind::kLead && lead.customer_id.empty() &&
        !lead.email_normalized.empty()) {
      ASSIGN_OR_RETURN(std::optional<std::string> match,
                       email_lookup(lead.email_normalized, head));
      if (match.has_value()) {
        ASSIGN_OR_RETURN(conversion.email_match, LoadCustomer(*match));
      }
    }
    ASSIGN_OR_RETURN(domain::ConversionDecision decision,
                     domain::DecideConversion(lead, command, conversion));

    eventstore::AppendRequest request;
    eventstore::StreamWrite write{
        .stream = stream,
        .expected_version =
            eventstore::ExpectedVersion::Exactly(snapshot.version)};
    for (const domain::LeadEvent& event : decision.lead_events) {
      write.events.push_back(
          projections::EncodeLeadEvent(event, ids_->NewId()));
      domain::EvolveInPlace(snapshot.lead, event);
    }
    request.writes.push_back(std::move(write));
    if (!decision.created_customer_id.empty()) {
      eventstore::StreamWrite customer{
          .stream = CustomerStream(decision.created_customer_id),
          .expected_version = eventstore::ExpectedVersion::NoStream()};
      for (const domain::CustomerEvent& event : decision.customer_events) {
        customer.events.push_back(
            projections::EncodeCustomerEvent(event, ids_->NewId()));
      }
      request.writes.push_back(std::move(customer));
    }
    request.metadata.actor = context.actor;
    request.metadata.correlation_id =
        context.correlation_id.empty()
            ? request.writes.front().events.front().event_id
            : context.correlation_id;
    request.idempotency_key = key;
    request.idempotency_fingerprint = mutation.fingerprint;
    request.max_sync_delay = mutation.max_sync_delay;

    absl::StatusOr<eventstore::AppendResult> appended =
        store_->Append(std::move(request));
    if (appended.ok()) {
      // With a request id a concurrent retry may have committed first; the
      // store then answered with its result.
      if (!key.empty()) return answered(*appended);
      ConversionResult result;
      snapshot.version = appended->stream_versions.front();
      snapshot.log_position = appended->last_position;
      result.customer_id = snapshot.lead.customer_id;
      result.customer_created = !decision.created_customer_id.empty();
      result.lead = std::move(snapshot);
      return result;
    }
    if (!absl::IsAborted(appended.status())) return appended.status();
    if (mutation.expected_version.has_value()) {
      return StaleEtagError(lead_id);
    }
    backoff_.Pause(attempt);
  }
  return ContentionError(lead_id, options_.max_attempts);
}

absl::StatusOr<LeadCommandHandler::BatchResult>
LeadCommandHandler::ExecuteCreateBatch(
    const std::vector<domain::CreateLead>& commands, const CallContext& context,
    const MutationOptions& mutation) {
  if (commands.empty()) {
    return absl::InvalidArgumentError("requests: name at least one lead");
  }
  const std::string key = mutation.request_id.empty()
                              ? ""
                              : absl::StrCat("request/", mutation.request_id);
  if (!key.empty()) {
    ASSIGN_OR_RETURN(std::optional<eventstore::CommittedAppend> committed,
                     store_->LookupIdempotencyKey(key));
    if (committed.has_value()) {
      if (committed->fingerprint != mutation.fingerprint) {
        return absl::AlreadyExistsError(
            absl::StrCat("request_id ", mutation.request_id,
                         " was already used for a different request"));
      }
      // The same request derives the same lead ids.
      if (committed->result.stream_versions.size() != commands.size()) {
        return absl::DataLossError(absl::StrCat(
            "request_id ", mutation.request_id,
            ": the first answer does not match this request's leads"));
      }
      BatchResult first{.log_position = committed->result.last_position};
      for (size_t i = 0; i < commands.size(); ++i) {
        ASSIGN_OR_RETURN(
            LeadSnapshot lead,
            LoadAt(commands[i].lead_id, committed->result.stream_versions[i]));
        first.leads.push_back(std::move(lead));
      }
      return first;
    }
  }
  std::vector<std::string> lead_ids;
  for (const domain::CreateLead& command : commands) {
    lead_ids.push_back(command.lead_id);
  }
  std::vector<LeadTurns::Turn> turns = turns_.TakeAll(std::move(lead_ids));
  for (LeadTurns::Turn& turn : turns) turn.AwaitSettled();
  eventstore::AppendRequest request;
  std::vector<LeadSnapshot> leads;
  for (const domain::CreateLead& command : commands) {
    ASSIGN_OR_RETURN(std::vector<domain::LeadEvent> events,
                     domain::Decide(domain::Lead{}, command));
    LeadSnapshot snapshot;
    eventstore::StreamWrite write{
        .stream = LeadStream(command.lead_id),
        .expected_version = eventstore::ExpectedVersion::NoStream()};
    for (const domain::LeadEvent& event : events) {
      write.events.push_back(
          projections::EncodeLeadEvent(event, ids_->NewId()));
      domain::EvolveInPlace(snapshot.lead, event);
    }
    request.writes.push_back(std::move(write));
    leads.push_back(std::move(snapshot));
  }
  request.metadata.actor = context.actor;
  request.metadata.correlation_id =
      context.correlation_id.empty()
          ? request.writes.front().events.front().event_id
          : context.correlation_id;
  request.idempotency_key = key;
  request.idempotency_fingerprint = mutation.fingerprint;
  request.max_sync_delay = mutation.max_sync_delay;
  const std::string first_id = request.writes.front().events.front().event_id;
  std::vector<size_t> event_counts;
  for (const eventstore::StreamWrite& write : request.writes) {
    event_counts.push_back(write.events.size());
  }
  absl::StatusOr<eventstore::AppendResult> appended =
      store_->Append(std::move(request));
  if (absl::IsAborted(appended.status())) {
    // Every stream was expected empty: some lead exists already. Creating
    // it again would not help, so say which.
    for (size_t i = 0; i < commands.size(); ++i) {
      ASSIGN_OR_RETURN(int64_t version,
                       store_->StreamVersion(LeadStream(commands[i].lead_id)));
      if (version != eventstore::kNoStreamVersion) {
        return absl::AlreadyExistsError(
            absl::StrCat("item ", i, ": lead ", commands[i].lead_id,
                         " already exists; nothing was created"));
      }
    }
  }
  if (!appended.ok()) return appended.status();
  bool ours = true;
  if (!key.empty()) {
    // A concurrent retry may have committed first, with other event ids:
    // then the store answered with that append's result.
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> first_event,
                     store_->ReadAll({.from_position = appended->first_position,
                                      .max_count = 1}));
    ours = !first_event.empty() && first_event.front().event_id == first_id;
  }
  if (!ours) {
    BatchResult first{.log_position = appended->last_position};
    for (size_t i = 0; i < commands.size(); ++i) {
      ASSIGN_OR_RETURN(LeadSnapshot lead, LoadAt(commands[i].lead_id,
                                                 appended->stream_versions[i]));
      first.leads.push_back(std::move(lead));
    }
    return first;
  }
  // Positions follow the order of the writes, each write's events in turn.
  BatchResult result{.log_position = appended->last_position};
  uint64_t position = appended->first_position;
  for (size_t i = 0; i < leads.size(); ++i) {
    position += event_counts[i];
    leads[i].version = appended->stream_versions[i];
    leads[i].log_position = position - 1;
  }
  result.leads = std::move(leads);
  return result;
}

}  // namespace leadledger::services
