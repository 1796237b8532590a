// Events of a lead's stream: past-tense facts, as plain values. Their stored
// form (proto/leadledger/events/v1) is mapped by the codec in projections/.
#ifndef LEADLEDGER_DOMAIN_LEAD_EVENTS_H_
#define LEADLEDGER_DOMAIN_LEAD_EVENTS_H_

#include <string>
#include <variant>

#include "absl/time/time.h"
#include "domain/lead.h"

namespace leadledger::domain {

// A lead came into existence. Carries the decided, normalized values so that
// a replay never depends on how a later version would normalize.
struct LeadCreated {
  std::string lead_id;
  LeadKind kind = LeadKind::kLead;
  std::string stage;
  LeadProfile profile;
  std::string email_normalized;
  ContactState email_state = ContactState::kUnset;
  absl::Time create_time;

  bool operator==(const LeadCreated&) const = default;
};

using LeadEvent = std::variant<LeadCreated>;

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_EVENTS_H_
