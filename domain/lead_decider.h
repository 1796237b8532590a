// The lead decider: the business rules of one lead as pure functions.
//
//   Decide(state, command) -> the events the command causes, or why not;
//   Evolve(state, event)   -> the state after the event.
//
// Neither does I/O or reads a clock; both are deterministic. A command that
// would change nothing yields no events.
#ifndef LEADLEDGER_DOMAIN_LEAD_DECIDER_H_
#define LEADLEDGER_DOMAIN_LEAD_DECIDER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "domain/lead.h"
#include "domain/lead_commands.h"
#include "domain/lead_events.h"

namespace leadledger::domain {

// Returns the events `command` causes on a lead in `state`.
// Errors:
//   INVALID_ARGUMENT    a field of the command is malformed; the message
//                       starts with the field's name;
//   ALREADY_EXISTS      CreateLead on a lead that exists.
[[nodiscard]] absl::StatusOr<std::vector<LeadEvent>> Decide(
    const Lead& state, const LeadCommand& command);

// Returns the state after `event`. Total: never fails on the events Decide
// produces, in the order it produces them.
[[nodiscard]] Lead Evolve(Lead state, const LeadEvent& event);

// Validates and canonicalizes what a user typed: trims every text field,
// removes blank and duplicate tags, upper-cases country and currency codes.
// Errors: INVALID_ARGUMENT naming the field ("display_name", "tags[2]", ...).
[[nodiscard]] absl::StatusOr<LeadProfile> CanonicalProfile(LeadProfile profile);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_DECIDER_H_
