#include "projections/decoded_event.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "projections/event_codec.h"
#include "projections/lead_event_types.h"

namespace leadledger::projections {

DecodedEvent::DecodedEvent(const eventstore::RecordedEvent& recorded)
    : recorded_(&recorded),
      lead_(IsLeadEventType(recorded.type)
                ? DecodeLeadEvent(recorded)
                : absl::StatusOr<domain::LeadEvent>(
                      absl::FailedPreconditionError(absl::StrCat(
                          "event at position ", recorded.position, " of type ",
                          recorded.type, " is not a lead event")))) {}

}  // namespace leadledger::projections
