// Duplicate suggestions (SPEC §9) as pure functions. A lead's keys are its
// normalized email, its E.164 phone and mobile, and its customer; the shell
// looks up which records share each key and SelectDuplicates decides which of
// them to suggest.
#ifndef LEADLEDGER_DOMAIN_DUPLICATES_H_
#define LEADLEDGER_DOMAIN_DUPLICATES_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace leadledger::domain {

enum class DuplicateCriterion { kEmail, kPhone, kCustomer };

// The keys of one lead that other records may share. Empty strings are
// absent keys.
struct DuplicateKeys {
  std::string email_normalized;
  // The lead's phone_e164 and mobile_e164, in that order.
  std::vector<std::string> phones_e164;
  std::string customer_id;
};

// Returns the criteria to look up for `keys`: each non-empty key once, in the
// order email, phones (first occurrence kept, so a mobile equal to the phone
// is looked up once), customer.
[[nodiscard]] std::vector<std::pair<DuplicateCriterion, std::string>>
CriteriaOf(const DuplicateKeys& keys);

// The records that share one key.
struct CriterionMatches {
  DuplicateCriterion criterion;
  std::string value;
  // Ids of every record, active or lost, lead or opportunity, with that key.
  // May include the lead itself and may repeat.
  std::vector<std::string> lead_ids;
};

// A criterion shared by more records than this (not counting the lead itself)
// is too generic to suggest anything: a switchboard number, a catch-all email.
inline constexpr size_t kMaxMatchesPerCriterion = 20;

// Returns the ids to suggest as duplicates of `self_id`: the union of the ids
// of every criterion with at most kMaxMatchesPerCriterion distinct other ids,
// without `self_id` and without repeats, sorted ascending so that the same
// data always gives the same answer.
[[nodiscard]] std::vector<std::string> SelectDuplicates(
    absl::string_view self_id, const std::vector<CriterionMatches>& matches);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_DUPLICATES_H_
