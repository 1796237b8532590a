// Mapping between the event log and HistoryService's messages: recorded
// events as API events (with their payload rendered as JSON), page sizes,
// event type filters and page tokens. Pure; no I/O; thread-safe.
#ifndef LEADLEDGER_SERVICES_HISTORY_MAPPING_H_
#define LEADLEDGER_SERVICES_HISTORY_MAPPING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "leadledger/v1/history_service.pb.h"

namespace leadledger::services {

// Page size of a list whose request leaves it 0, and the largest allowed.
inline constexpr int kDefaultHistoryPageSize = 50;
inline constexpr int kMaxHistoryPageSize = 1000;

// Returns the page size a request asks for: `page_size`, or the default for
// 0. Errors: INVALID_ARGUMENT naming "page_size" when negative or above
// kMaxHistoryPageSize.
[[nodiscard]] absl::StatusOr<int> PageSizeOf(int32_t page_size);

// Returns the type filter of a request, each name once.
// Errors: INVALID_ARGUMENT naming "event_types[i]" for a name that is not a
// type of the event codec.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> EventTypeFilter(
    const google::protobuf::RepeatedPtrField<std::string>& event_types);

// Page tokens. A token is opaque to callers: web-safe base64 of a versioned
// string that says where the next page starts and what it belongs to, so a
// token is refused when replayed against another lead or another filter.

// The token of the page of lead `lead_id`'s history from `next_version`.
std::string HistoryPageToken(absl::string_view lead_id, int64_t next_version);

// Returns the stream version a history page token starts at.
// Errors: INVALID_ARGUMENT naming "page_token" when `token` is malformed or
// was issued for another lead.
[[nodiscard]] absl::StatusOr<int64_t> ParseHistoryPageToken(
    absl::string_view token, absl::string_view lead_id);

// The token of the page of the log from `next_position`, filtered by
// `event_types` (as EventTypeFilter returns them).
std::string LogPageToken(uint64_t next_position,
                         const std::vector<std::string>& event_types);

// Returns the log position a log page token starts at.
// Errors: INVALID_ARGUMENT naming "page_token" when `token` is malformed or
// was issued for another type filter.
[[nodiscard]] absl::StatusOr<uint64_t> ParseLogPageToken(
    absl::string_view token, const std::vector<std::string>& event_types);

// Returns `time` as a Timestamp.
google::protobuf::Timestamp ToTimestamp(absl::Time time);

// Returns `timestamp` as an absl::Time.
// Errors: INVALID_ARGUMENT naming `field` when it lies outside the years
// 0001 to 9999 or its nanos are outside [0, 999999999].
[[nodiscard]] absl::StatusOr<absl::Time> FromTimestamp(
    absl::string_view field, const google::protobuf::Timestamp& timestamp);

// Returns `event` as an event of a lead's history / of the whole log.
// Errors: DATA_LOSS naming the position when the payload of a known type does
// not parse or cannot be rendered as JSON.
[[nodiscard]] absl::StatusOr<v1::LeadHistoryEvent> ToLeadHistoryEvent(
    const eventstore::RecordedEvent& event);
[[nodiscard]] absl::StatusOr<v1::LogEvent> ToLogEvent(
    const eventstore::RecordedEvent& event);

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_HISTORY_MAPPING_H_
