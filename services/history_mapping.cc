#include "services/history_mapping.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "domain/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "projections/event_codec.h"

namespace leadledger::services {
namespace {

// The package of the stored event messages (proto/leadledger/events/v1).
constexpr absl::string_view kEventPackage = "leadledger.events.v1";

// Versioned prefixes of the two kinds of page token.
constexpr absl::string_view kHistoryTokenPrefix = "h1";
constexpr absl::string_view kLogTokenPrefix = "l1";

// The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62'135'596'800;
constexpr int64_t kMaxTimestampSeconds = 253'402'300'799;

absl::Status BadPageToken() {
  return absl::InvalidArgumentError(
      "page_token: not a token this call returned; start again without one");
}

// Splits a token into its fields; empty when it is not web-safe base64 of
// "<prefix>/<a>/<b>".
std::vector<std::string> TokenFields(absl::string_view token,
                                     absl::string_view prefix) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded)) return {};
  std::vector<std::string> fields = absl::StrSplit(decoded, '/');
  if (fields.size() != 3 || fields[0] != prefix) return {};
  return fields;
}

// FNV-1a: a hash that stays the same across builds and processes, which
// tokens need and absl::Hash does not promise.
uint64_t StableHash(absl::string_view text) {
  uint64_t hash = 14'695'981'039'346'656'037u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1'099'511'628'211u;
  }
  return hash;
}

std::string FilterFingerprint(const std::vector<std::string>& event_types) {
  return absl::StrCat(absl::Hex(StableHash(absl::StrJoin(event_types, ","))));
}

// The stored payload of `event` in the proto3 JSON mapping; empty for a type
// this build does not know.
absl::StatusOr<std::string> PayloadJson(
    const eventstore::RecordedEvent& event) {
  const std::vector<std::string>& known = projections::KnownEventTypes();
  if (std::find(known.begin(), known.end(), event.type) == known.end()) {
    return std::string();
  }
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          absl::StrCat(kEventPackage, ".", event.type));
  if (descriptor == nullptr) {
    return absl::InternalError(
        absl::StrCat("no payload message for event type ", event.type));
  }
  std::unique_ptr<google::protobuf::Message> payload(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(descriptor)
          ->New());
  if (!payload->ParseFromString(event.payload)) {
    return absl::DataLossError(absl::StrCat(event.type, " at position ",
                                            event.position,
                                            ": payload does not parse"));
  }
  std::string json;
  if (const auto printed =
          google::protobuf::util::MessageToJsonString(*payload, &json);
      !printed.ok()) {
    return absl::DataLossError(absl::StrCat(
        event.type, " at position ", event.position, ": ", printed.ToString()));
  }
  return json;
}

// Fills the fields that LeadHistoryEvent and LogEvent share.
template <typename ApiEvent>
absl::StatusOr<ApiEvent> ToApiEvent(const eventstore::RecordedEvent& event) {
  ApiEvent out;
  out.set_event_id(event.event_id);
  out.set_type(event.type);
  out.set_schema_version(event.schema_version);
  out.set_stream_version(event.stream_version);
  out.set_log_position(event.position);
  *out.mutable_recorded_time() = ToTimestamp(event.recorded_time);
  out.set_actor(event.metadata.actor);
  out.set_correlation_id(event.metadata.correlation_id);
  out.set_causation_id(event.metadata.causation_id);
  out.set_payload(event.payload);
  ASSIGN_OR_RETURN(*out.mutable_payload_json(), PayloadJson(event));
  return out;
}

}  // namespace

absl::StatusOr<int> PageSizeOf(int32_t page_size) {
  if (page_size < 0 || page_size > kMaxHistoryPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size: must be between 0 (the default, ", kDefaultHistoryPageSize,
        ") and ", kMaxHistoryPageSize, ", got ", page_size));
  }
  return page_size == 0 ? kDefaultHistoryPageSize : page_size;
}

absl::StatusOr<std::vector<std::string>> EventTypeFilter(
    const google::protobuf::RepeatedPtrField<std::string>& event_types) {
  const std::vector<std::string>& known = projections::KnownEventTypes();
  std::vector<std::string> filter;
  for (int i = 0; i < event_types.size(); ++i) {
    const std::string& type = event_types.Get(i);
    if (std::find(known.begin(), known.end(), type) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("event_types[", i, "]: \"", type.substr(0, 64),
                       "\" is not an event type; known types: ",
                       absl::StrJoin(known, ", ")));
    }
    filter.push_back(type);
  }
  // Sorted, so that the same filter in another order has the same tokens.
  std::sort(filter.begin(), filter.end());
  filter.erase(std::unique(filter.begin(), filter.end()), filter.end());
  return filter;
}

std::string HistoryPageToken(absl::string_view lead_id, int64_t next_version) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kHistoryTokenPrefix, "/", lead_id, "/", next_version));
}

absl::StatusOr<int64_t> ParseHistoryPageToken(absl::string_view token,
                                              absl::string_view lead_id) {
  const std::vector<std::string> fields =
      TokenFields(token, kHistoryTokenPrefix);
  int64_t version = 0;
  if (fields.empty() || !absl::SimpleAtoi(fields[2], &version) || version < 0) {
    return BadPageToken();
  }
  if (fields[1] != lead_id) {
    return absl::InvalidArgumentError(
        "page_token: belongs to the history of another lead");
  }
  return version;
}

std::string LogPageToken(uint64_t next_position,
                         const std::vector<std::string>& event_types) {
  return absl::WebSafeBase64Escape(absl::StrCat(kLogTokenPrefix, "/",
                                                FilterFingerprint(event_types),
                                                "/", next_position));
}

absl::StatusOr<uint64_t> ParseLogPageToken(
    absl::string_view token, const std::vector<std::string>& event_types) {
  const std::vector<std::string> fields = TokenFields(token, kLogTokenPrefix);
  uint64_t position = 0;
  if (fields.empty() || !absl::SimpleAtoi(fields[2], &position) ||
      position == 0) {
    return BadPageToken();
  }
  if (fields[1] != FilterFingerprint(event_types)) {
    return absl::InvalidArgumentError(
        "page_token: was issued for other event_types; send the same filter "
        "or start again without a token");
  }
  return position;
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  google::protobuf::Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return out;
}

absl::StatusOr<absl::Time> FromTimestamp(
    absl::string_view field, const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() < kMinTimestampSeconds ||
      timestamp.seconds() > kMaxTimestampSeconds || timestamp.nanos() < 0 ||
      timestamp.nanos() > 999'999'999) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a time between the years 0001 and 9999"));
  }
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

absl::StatusOr<v1::LeadHistoryEvent> ToLeadHistoryEvent(
    const eventstore::RecordedEvent& event) {
  return ToApiEvent<v1::LeadHistoryEvent>(event);
}

absl::StatusOr<v1::LogEvent> ToLogEvent(
    const eventstore::RecordedEvent& event) {
  ASSIGN_OR_RETURN(v1::LogEvent out, ToApiEvent<v1::LogEvent>(event));
  out.set_stream(event.stream);
  return out;
}

}  // namespace leadledger::services
