// LeadCommandHandler: the one imperative shell of the lead write path.
//
//   read the lead's stream -> fold with Evolve -> Decide -> append with the
//   expected version -> on ABORTED (a concurrent writer won) start over,
//   a bounded number of times with jittered back-off.
//
// Commands on one lead take turns in the process (LeadTurns), so only
// writers outside it can make an append lose its race.
//
// Thread-safe. Folded lead states are kept between calls (LeadStateCache),
// so a command reads only the events its lead got since it was last read.
#ifndef LEADLEDGER_SERVICES_LEAD_COMMAND_HANDLER_H_
#define LEADLEDGER_SERVICES_LEAD_COMMAND_HANDLER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "domain/customer.h"
#include "domain/id_generator.h"
#include "domain/lead.h"
#include "domain/lead_commands.h"
#include "domain/lead_decider.h"
#include "eventstore/event_store.h"
#include "services/jittered_backoff.h"
#include "services/lead_state_cache.h"
#include "services/lead_turns.h"

namespace leadledger::services {

// Returns the name of the stream holding lead `lead_id`'s events.
std::string LeadStream(absl::string_view lead_id);

// Returns the name of the stream holding customer `customer_id`'s events.
std::string CustomerStream(absl::string_view customer_id);

// Who sent a command and which user action it belongs to; recorded on every
// event the command appends.
struct CallContext {
  std::string actor;
  std::string correlation_id;
  // The event that caused the command, for effects of process managers.
  std::string causation_id;
};

// How a mutation guards against stale reads and retries.
struct MutationOptions {
  // The lead's etag as the caller read it: when set, the lead must still be
  // at this version, else ABORTED.
  std::optional<int64_t> expected_version;
  // The request id of the call (AIP-155) and a fingerprint of the request:
  // a retry with the same id and fingerprint returns the first response and
  // writes nothing; the same id with another fingerprint is ALREADY_EXISTS.
  std::string request_id;
  std::string fingerprint;
  // How long the append may wait for another to share its fsync
  // (eventstore::AppendRequest::max_sync_delay): for commands nobody waits
  // on, the scheduler's.
  absl::Duration max_sync_delay = absl::ZeroDuration();
};

struct LeadCommandHandlerOptions {
  // Read-decide-append attempts before contention is reported as ABORTED.
  int max_attempts = 8;
  // Back-off before attempt n is uniform in [0, n * backoff_step).
  absl::Duration backoff_step = absl::Milliseconds(2);
  // Leads whose folded state is kept between commands (LeadStateCache); 0
  // folds every stream from its first event each time.
  size_t cached_leads = 50000;
};

class LeadCommandHandler {
 public:
  // `store` and `ids` must outlive the handler.
  LeadCommandHandler(eventstore::EventStore* store, IdGenerator* ids,
                     LeadCommandHandlerOptions options = {});

  // Returns the current state of lead `lead_id`.
  // Errors: NOT_FOUND if the lead has no events; DATA_LOSS or
  // FAILED_PRECONDITION when a stored event cannot be decoded; UNAVAILABLE
  // when the store cannot be read.
  [[nodiscard]] absl::StatusOr<LeadSnapshot> Load(absl::string_view lead_id);

  // Decides `command` on lead `lead_id` and appends the resulting events.
  // A command that changes nothing appends nothing and returns the current
  // snapshot. Errors: whatever Decide returns (INVALID_ARGUMENT,
  // FAILED_PRECONDITION, ALREADY_EXISTS, ...), ABORTED when every attempt
  // lost a race with another writer, and the errors of Load and Append.
  [[nodiscard]] absl::StatusOr<LeadSnapshot> Execute(
      absl::string_view lead_id, const domain::LeadCommand& command,
      const CallContext& context, const MutationOptions& mutation = {});

  // The outcome of a merge: the surviving lead and the merged-away ids.
  struct MergeResult {
    LeadSnapshot head;
    std::vector<std::string> merged_ids;
  };

  // Decides a merge over every lead of `command.lead_ids` and appends the
  // events of all of them atomically, each stream at the version it was
  // read at; retries from the read when another writer got in between.
  // Errors: those of DecideMerge, ABORTED after too many races, and the
  // errors of Load and Append.
  [[nodiscard]] absl::StatusOr<MergeResult> ExecuteMerge(
      const domain::MergeLeads& command, const CallContext& context,
      const MutationOptions& mutation = {});

  // Looks up the id of a customer whose normalized email is
  // `email_normalized`, reading a view that includes log position
  // `position`; nullopt when there is none.
  using CustomerEmailLookup =
      std::function<absl::StatusOr<std::optional<std::string>>(
          absl::string_view email_normalized, uint64_t position)>;

  // The outcome of a conversion.
  struct ConversionResult {
    LeadSnapshot lead;
    // The customer the lead refers to afterwards; empty when none.
    std::string customer_id;
    // Whether the conversion created that customer.
    bool customer_created = false;
  };

  // Decides a conversion (domain::DecideConversion) of lead `lead_id` and
  // appends the lead's events together with the created customer's stream
  // ("customer-<id>", which must not exist) in one atomic append. The
  // customers the decision needs are read from their streams: the one
  // command.customer_id names, and for the default action the one
  // `email_lookup` finds for the lead's email as of the head of the log.
  // Retries, etags and request ids work as in Execute.
  // Errors: those of DecideConversion (FAILED_PRECONDITION for a lead that
  // is not an active lead, NOT_FOUND for a missing customer, ...), of
  // `email_lookup`, ABORTED for a stale etag or too many races, and the
  // errors of Load and Append.
  [[nodiscard]] absl::StatusOr<ConversionResult> ExecuteConversion(
      absl::string_view lead_id, const domain::ConvertLead& command,
      const CustomerEmailLookup& email_lookup, const CallContext& context,
      const MutationOptions& mutation = {});

  // Conversion with action MERGE: the lead command.lead_ids[0] merged with
  // the opportunities that follow it (domain::DecideConversionByMerge),
  // appended as ExecuteMerge does. `mutation.expected_version` applies to
  // the lead. Errors: those of DecideConversionByMerge and ExecuteMerge.
  [[nodiscard]] absl::StatusOr<MergeResult> ExecuteConversionByMerge(
      const domain::MergeLeads& command, const CallContext& context,
      const MutationOptions& mutation = {});

  // The outcome of a batch of creations.
  struct BatchResult {
    // The created leads, in the order of the commands; each snapshot's
    // log_position is that of its own last event.
    std::vector<LeadSnapshot> leads;
    // Position of the batch's last event.
    uint64_t log_position = 0;
  };

  // Decides every CreateLead of `commands` on an empty state and appends
  // all the leads in one atomic append: all are created or none is. Request
  // ids work as in Execute, over the whole batch.
  // Errors: those of Decide (INVALID_ARGUMENT naming the field, prefixed by
  // nothing: callers validate items first to say which one is wrong);
  // ALREADY_EXISTS naming the first item whose lead exists; the errors of
  // Append.
  [[nodiscard]] absl::StatusOr<BatchResult> ExecuteCreateBatch(
      const std::vector<domain::CreateLead>& commands,
      const CallContext& context, const MutationOptions& mutation = {});

  // Returns customer `customer_id` as folded from its stream; `exists` is
  // false when it has no events.
  // Errors: DATA_LOSS or FAILED_PRECONDITION when an event cannot be
  // decoded; UNAVAILABLE when the store cannot be read.
  [[nodiscard]] absl::StatusOr<domain::Customer> LoadCustomer(
      absl::string_view customer_id);

  // Returns lead `lead_id` as of stream version `version`.
  // Errors: as Load; NOT_FOUND when the stream has no such version.
  [[nodiscard]] absl::StatusOr<LeadSnapshot> LoadAt(absl::string_view lead_id,
                                                    int64_t version);

 private:
  // Like Load, but a lead without events is an empty snapshot. Stops after
  // `last_version` when given. Starts from the cached snapshot closest below
  // and caches what it folded.
  absl::StatusOr<LeadSnapshot> Fold(
      absl::string_view lead_id,
      std::optional<int64_t> last_version = std::nullopt);
  // Decides with `decide` over the leads of `lead_ids` (read in that order)
  // and appends every stream of the decision atomically: the body of
  // ExecuteMerge and ExecuteConversionByMerge. `mutation.expected_version`
  // applies to the first lead.
  absl::StatusOr<MergeResult> ExecuteMergeDecision(
      const std::vector<std::string>& lead_ids,
      const std::function<absl::StatusOr<domain::MergeDecision>(
          const std::vector<domain::Lead>&)>& decide,
      const CallContext& context, const MutationOptions& mutation);
  // The first response to request `key`, if it was already answered.
  absl::StatusOr<std::optional<LeadSnapshot>> Replayed(
      absl::string_view lead_id, const std::string& key,
      const MutationOptions& mutation);

  eventstore::EventStore* const store_;
  IdGenerator* const ids_;
  const LeadCommandHandlerOptions options_;
  LeadStateCache cache_;
  LeadTurns turns_;
  JitteredBackOff backoff_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_LEAD_COMMAND_HANDLER_H_
