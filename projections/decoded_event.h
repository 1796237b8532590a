// DecodedEvent: an event of the log together with its domain form, decoded
// once and shared by every projection that folds it.
//
// Immutable once built, so projections folding on several threads may read
// one instance at the same time.
#ifndef LEADLEDGER_PROJECTIONS_DECODED_EVENT_H_
#define LEADLEDGER_PROJECTIONS_DECODED_EVENT_H_

#include "absl/status/statusor.h"
#include "domain/lead_events.h"
#include "eventstore/event_store.h"

namespace leadledger::projections {

class DecodedEvent {
 public:
  // Decodes `recorded`, which must outlive this object, when its type is a
  // lead event's (IsLeadEventType); other events are not decoded.
  explicit DecodedEvent(const eventstore::RecordedEvent& recorded);

  const eventstore::RecordedEvent& recorded() const { return *recorded_; }

  // The lead event stored in recorded(); the errors of DecodeLeadEvent, and
  // FAILED_PRECONDITION naming the position for an event of another type.
  const absl::StatusOr<domain::LeadEvent>& lead() const { return lead_; }

 private:
  const eventstore::RecordedEvent* recorded_;
  absl::StatusOr<domain::LeadEvent> lead_;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_DECODED_EVENT_H_
