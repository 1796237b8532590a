// Mapping between the public API's lead messages (leadledger.v1) and domain
// values. Pure; no I/O.
#ifndef LEADLEDGER_SERVICES_LEAD_MAPPING_H_
#define LEADLEDGER_SERVICES_LEAD_MAPPING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "domain/lead.h"
#include "leadledger/v1/lead.pb.h"

namespace leadledger::services {

inline constexpr size_t kMaxLeadIdLength = 64;

// Returns the user-settable part of `lead`; output-only fields are ignored.
domain::LeadProfile ProfileFromProto(const v1::Lead& lead);

// Sets `out`, a new message, to `lead` at stream version `version` as the
// API shows it. Responses have it fill their own field in place: a lead
// built apart and copied in costs its every string twice.
void LeadToProto(const domain::Lead& lead, int64_t version, v1::Lead& out);

// Returns "leads/{lead_id}".
std::string LeadName(absl::string_view lead_id);

// Returns the lead id of resource name `name` ("leads/{lead_id}", the id
// made of 1 to 64 of [a-z0-9_-]). Errors: INVALID_ARGUMENT naming `field`.
[[nodiscard]] absl::StatusOr<std::string> LeadIdFromName(
    absl::string_view field, absl::string_view name);

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_LEAD_MAPPING_H_
