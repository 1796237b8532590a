// The lead decider: the business rules of SPEC §1-§6 as pure functions.
//
//   Decide(state, command) -> the events the command causes, or why not;
//   Evolve(state, event)   -> the state after the event.
//
// Decisions that span several records are pure too: DecideConversion (a
// lead and the customer it links), DecideMerge (every lead of a merge).
// Nothing here does I/O or reads a clock; time, ids and the workspace
// settings arrive inside commands. A command that would change nothing
// yields no events; a repeated command is a no-op where that is what the user
// meant (classifying again with the same outcome, scheduling a follow-up
// whose task already exists, ...).
//
// Errors, by what the caller should do:
//   INVALID_ARGUMENT    fix the request; the message starts with the field;
//   FAILED_PRECONDITION fix the state first (restore a lost lead, convert a
//                       lead before winning it, ...); a merged-away lead
//                       names the lead it was merged into;
//   NOT_FOUND           a lead, task or customer the command names does not
//                       exist;
//   ALREADY_EXISTS      CreateLead on a lead that exists.
#ifndef LEADLEDGER_DOMAIN_LEAD_DECIDER_H_
#define LEADLEDGER_DOMAIN_LEAD_DECIDER_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "domain/customer.h"
#include "domain/lead.h"
#include "domain/lead_commands.h"
#include "domain/lead_events.h"
#include "domain/workspace.h"

namespace leadledger::domain {

// Returns the events `command` causes on a lead in `state`.
[[nodiscard]] absl::StatusOr<std::vector<LeadEvent>> Decide(
    const Lead& state, const LeadCommand& command);

// Returns the state after `event`. Total: never fails on the events Decide
// produces, in the order it produces them.
[[nodiscard]] Lead Evolve(Lead state, const LeadEvent& event);

// Evolve on `state` itself: a fold over a long stream keeps one Lead instead
// of moving it in and out at every event.
void EvolveInPlace(Lead& state, const LeadEvent& event);

// The probability users see (SPEC §6): 100 when won, 0 when lost, else the
// override when set, else the automated value.
double EffectiveProbability(const Lead& lead);

// Validates and canonicalizes what a user typed: trims every text field,
// removes blank and duplicate tags, upper-cases country and currency codes.
// Errors: INVALID_ARGUMENT naming the field ("display_name", "tags", ...).
[[nodiscard]] absl::StatusOr<LeadProfile> CanonicalProfile(LeadProfile profile);

// Normalized email, phone and mobile of `profile` (SPEC §8). Phones are read
// in the lead's country, else in `default_country`.
DerivedContact DeriveContact(const LeadProfile& profile,
                             absl::string_view default_country);

// --- Conversion (SPEC §4) ---

// The customers a conversion may touch, read by the caller beforehand.
struct ConversionContext {
  // The customer named by ConvertLead::customer_id (kLinkExisting).
  Customer linked_customer;
  // A customer whose normalized email equals the lead's, if any (kDefault).
  std::optional<Customer> email_match;
};

struct ConversionDecision {
  std::vector<LeadEvent> lead_events;
  // The customer the conversion creates (empty when it creates none) and its
  // events, for the customer's own stream.
  std::string created_customer_id;
  std::vector<CustomerEvent> customer_events;
};

// Converts an active lead into an opportunity and settles its customer.
[[nodiscard]] absl::StatusOr<ConversionDecision> DecideConversion(
    const Lead& lead, const ConvertLead& command,
    const ConversionContext& context);

// --- Merge (SPEC §5) ---

struct MergeDecision {
  // The surviving lead.
  std::string head_id;
  // The events of every lead involved, the head first.
  std::vector<std::pair<std::string, std::vector<LeadEvent>>> events;
};

// Upper bound on the leads of one merge.
inline constexpr size_t kMaxMergeLeads = 50;

// Merges `leads` (the states of command.lead_ids, in that order) into one.
// The head is chosen by: opportunity before lead; active before lost; later
// pipeline stage; higher probability; then the oldest record (then the
// smaller id, so the choice is total).
[[nodiscard]] absl::StatusOr<MergeDecision> DecideMerge(
    const std::vector<Lead>& leads, const MergeLeads& command);

// Conversion with action MERGE: the active lead `lead` merged into the
// existing `opportunities`.
[[nodiscard]] absl::StatusOr<MergeDecision> DecideConversionByMerge(
    const Lead& lead, const std::vector<Lead>& opportunities,
    const MergeLeads& command);

// --- Follow-ups (SPEC §3) ---

// The automatic follow-up that outcome `outcome_id` calls for on `lead` (its
// state after the causing event, so priority follows the new classification),
// caused by event `cause_event_id` at `cause_time`; nullopt when the outcome
// schedules none or the lead is not active. The task id derives from the
// cause, so a replay plans the same task.
std::optional<ScheduleFollowUp> PlanFollowUp(const Lead& lead,
                                             absl::string_view outcome_id,
                                             absl::string_view cause_event_id,
                                             absl::Time cause_time,
                                             const absl::TimeZone& owner_zone,
                                             const WorkspaceSettings& settings);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_DECIDER_H_
