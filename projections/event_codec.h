// The one mapping between domain events and their stored form: payload
// messages of proto/leadledger/events/v1 inside event store envelopes. The
// command path encodes with it; the command path and every projection decode
// with it.
#ifndef LEADLEDGER_PROJECTIONS_EVENT_CODEC_H_
#define LEADLEDGER_PROJECTIONS_EVENT_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "domain/lead_events.h"
#include "eventstore/event_store.h"

namespace leadledger::projections {

// Returns the stored form of `event` with id `event_id`.
eventstore::NewEvent EncodeLeadEvent(const domain::LeadEvent& event,
                                     std::string event_id);

// Returns the domain event stored in `recorded`.
// Errors: DATA_LOSS naming the position when the payload cannot be parsed;
// FAILED_PRECONDITION when its type or schema version is unknown to this
// build (written by a newer version).
[[nodiscard]] absl::StatusOr<domain::LeadEvent> DecodeLeadEvent(
    const eventstore::RecordedEvent& recorded);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_EVENT_CODEC_H_
