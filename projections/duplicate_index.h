// The "duplicates" read model (SPEC §9): which records share a normalized
// email, an E.164 phone or mobile, or a customer, and which customers have
// an email, for the default customer of a conversion (SPEC §4).
//
// Keys of its keyspace:
//   e/<email_normalized>\0<lead id>     a lead with that email
//   p/<e164>\0<lead id>                 a lead with that phone or mobile
//   c/<customer id>\0<lead id>          a lead linked to that customer
//   m/<lead id>                         the lead's keys as last folded, so a
//                                       change removes the stale ones
//   ce/<email_normalized>\0<BE64 position> -> customer id, from
//                                       CustomerCreated (oldest first)
// Only records a duplicate may be are indexed: active or lost, leads or
// opportunities; won and merged-away ones are not.
//
// Functions here are thread-safe; a Projection instance is used by one
// thread at a time (the runner's).
#ifndef LEADLEDGER_PROJECTIONS_DUPLICATE_INDEX_H_
#define LEADLEDGER_PROJECTIONS_DUPLICATE_INDEX_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "domain/duplicates.h"
#include "domain/lead.h"
#include "projections/projection.h"
#include "projections/projection_db.h"

namespace leadledger::projections {

// Name of the projection and its keyspaces.
inline constexpr absl::string_view kDuplicateIndexProjection = "duplicates";

ProjectionSpec DuplicateIndexSpec();

// The keys `lead` may share with other records.
domain::DuplicateKeys DuplicateKeysOf(const domain::Lead& lead);

// Whether a record in `status` is suggested as a duplicate (SPEC §9).
bool MayBeDuplicate(domain::LeadStatus status);

// Returns, for each criterion of `lead` (domain::CriteriaOf), the ids of the
// indexed records that share it, for domain::SelectDuplicates: at most
// kMaxMatchesPerCriterion + 2 per criterion (the lead itself and one too
// many), which is enough to tell a criterion too generic.
// Errors: UNAVAILABLE when the store cannot be read.
[[nodiscard]] absl::StatusOr<std::vector<domain::CriterionMatches>>
FindDuplicates(ProjectionReader& reader, const Keyspace& keyspace,
               const domain::Lead& lead);

// Returns the id of the oldest customer whose normalized email is
// `email_normalized`, or nullopt (always for an empty email).
// Errors: UNAVAILABLE when the store cannot be read.
[[nodiscard]] absl::StatusOr<std::optional<std::string>> CustomerWithEmail(
    ProjectionReader& reader, const Keyspace& keyspace,
    absl::string_view email_normalized);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_DUPLICATE_INDEX_H_
