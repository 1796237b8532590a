#include "domain/duplicates.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace leadledger::domain {

std::vector<std::pair<DuplicateCriterion, std::string>> CriteriaOf(
    const DuplicateKeys& keys) {
  std::vector<std::pair<DuplicateCriterion, std::string>> criteria;
  if (!keys.email_normalized.empty()) {
    criteria.emplace_back(DuplicateCriterion::kEmail, keys.email_normalized);
  }
  std::vector<std::string> phones;
  for (const std::string& phone : keys.phones_e164) {
    if (phone.empty() ||
        std::find(phones.begin(), phones.end(), phone) != phones.end()) {
      continue;
    }
    phones.push_back(phone);
    criteria.emplace_back(DuplicateCriterion::kPhone, phone);
  }
  if (!keys.customer_id.empty()) {
    criteria.emplace_back(DuplicateCriterion::kCustomer, keys.customer_id);
  }
  return criteria;
}

std::vector<std::string> SelectDuplicates(
    absl::string_view self_id, const std::vector<CriterionMatches>& matches) {
  std::vector<std::string> selected;
  for (const CriterionMatches& match : matches) {
    std::vector<std::string> others;
    for (const std::string& id : match.lead_ids) {
      if (id != self_id) others.push_back(id);
    }
    // Count distinct records: a repeated id is still one record.
    std::sort(others.begin(), others.end());
    others.erase(std::unique(others.begin(), others.end()), others.end());
    if (others.size() > kMaxMatchesPerCriterion) continue;
    selected.insert(selected.end(), others.begin(), others.end());
  }
  std::sort(selected.begin(), selected.end());
  selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
  return selected;
}

}  // namespace leadledger::domain
