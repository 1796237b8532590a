// Which stored event types are lead events, as the codec names them, so that
// a projection's Wants() skips other events before decoding anything.
// Thread-safe.
#ifndef LEADLEDGER_PROJECTIONS_LEAD_EVENT_TYPES_H_
#define LEADLEDGER_PROJECTIONS_LEAD_EVENT_TYPES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "domain/lead_events.h"

namespace leadledger::projections {

// Whether `type` is the stored type of some domain::LeadEvent alternative.
bool IsLeadEventType(absl::string_view type);

// The stored type of lead event alternative `Event` ("LeadCreated", ...).
template <typename Event>
const std::string& LeadEventType();

// The stored type of domain::CustomerCreated.
const std::string& CustomerCreatedType();

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_LEAD_EVENT_TYPES_H_
