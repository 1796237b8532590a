// The one mapping between domain events and their stored form: payload
// messages of proto/leadledger/events/v1 inside event store envelopes. The
// command path encodes with it; the command path and every projection decode
// with it.
//
// Each event is stored under a type string equal to its domain struct's name
// ("LeadCreated", "TaskDue", ...) and a schema version, currently 1 for every
// type. Decoding gives back exactly the encoded value, including whether
// optional values are present; times keep nanoseconds within the years 1 to
// 9999 and are clamped to that range. All functions are pure and thread-safe.
#ifndef LEADLEDGER_PROJECTIONS_EVENT_CODEC_H_
#define LEADLEDGER_PROJECTIONS_EVENT_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "domain/customer.h"
#include "domain/lead_events.h"
#include "domain/workspace.h"
#include "eventstore/event_store.h"

namespace leadledger::projections {

// Returns the stored form of `event` with id `event_id`.
eventstore::NewEvent EncodeLeadEvent(const domain::LeadEvent& event,
                                     std::string event_id);

// Returns the domain event stored in `recorded`.
// Errors: DATA_LOSS naming the type and the position when the payload cannot
// be parsed or holds a value this build cannot have written (an unknown enum
// value, a timestamp out of range); FAILED_PRECONDITION naming the position
// when its type or schema version is unknown to this build (written by a
// newer version, or not a lead event).
[[nodiscard]] absl::StatusOr<domain::LeadEvent> DecodeLeadEvent(
    const eventstore::RecordedEvent& recorded);

// Returns the stored form of `event` with id `event_id`.
eventstore::NewEvent EncodeCustomerEvent(const domain::CustomerEvent& event,
                                         std::string event_id);

// Returns the domain event stored in `recorded`, with the errors of
// DecodeLeadEvent.
[[nodiscard]] absl::StatusOr<domain::CustomerEvent> DecodeCustomerEvent(
    const eventstore::RecordedEvent& recorded);

// Every type this build stores events under, lead, customer and workspace
// events alike, each once. Each is also the name of its payload message in
// package leadledger.events.v1.
const std::vector<std::string>& KnownEventTypes();
// Returns the stored form of `event` with id `event_id`.
eventstore::NewEvent EncodeWorkspaceEvent(const domain::WorkspaceEvent& event,
                                          std::string event_id);

// Returns the domain event stored in `recorded`, with the errors of
// DecodeLeadEvent.
[[nodiscard]] absl::StatusOr<domain::WorkspaceEvent> DecodeWorkspaceEvent(
    const eventstore::RecordedEvent& recorded);

// A lead as the lead list stores it: its folded state (see EncodeLeadRow)
// and where its stream stands.
struct StoredLead {
  domain::Lead lead;
  // Stream version of its last event (its etag).
  int64_t version = 0;
  // Log positions of its first and last event.
  uint64_t created_position = 0;
  uint64_t last_position = 0;

  bool operator==(const StoredLead&) const = default;
};

// Returns the row bytes of `stored`; a lead row keeps every field of
// domain::Lead exactly but two: `exists` (a row is always of a lead that
// exists) and `known_task_ids`. The ids of every task a lead ever had only
// matter to commands, which fold the log; in a row they would grow with
// every follow-up of a busy lead, and every read and write of it with them.
std::string EncodeLeadRow(const StoredLead& stored);

// Returns the lead in a row written by EncodeLeadRow.
// Errors: DATA_LOSS when the bytes are not such a row.
[[nodiscard]] absl::StatusOr<StoredLead> DecodeLeadRow(absl::string_view bytes);
// DecodeLeadRow into `stored`, a default-constructed StoredLead: a page of
// leads decodes each in its place, rather than moving large leads about.
[[nodiscard]] absl::Status DecodeLeadRow(absl::string_view bytes,
                                         StoredLead& stored);

// An open task as the agenda stores it.
struct StoredAgendaTask {
  std::string lead_id;
  domain::Task task;
  uint64_t scheduled_position = 0;

  bool operator==(const StoredAgendaTask&) const = default;
};

std::string EncodeAgendaRow(const StoredAgendaTask& stored);
// Errors: DATA_LOSS when the bytes are not such a row.
[[nodiscard]] absl::StatusOr<StoredAgendaTask> DecodeAgendaRow(
    absl::string_view bytes);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_EVENT_CODEC_H_
