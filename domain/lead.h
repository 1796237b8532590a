// The lead record of SPEC §1 as plain values: what users type (LeadProfile)
// and the state folded from a lead's events (Lead).
#ifndef LEADLEDGER_DOMAIN_LEAD_H_
#define LEADLEDGER_DOMAIN_LEAD_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "absl/time/time.h"

namespace leadledger::domain {

enum class LeadKind { kLead, kOpportunity };
enum class LeadStatus { kActive, kLost, kWon, kMerged };
// Verdict of contact-data validation; kUnset when the field is empty.
enum class ContactState { kUnset, kCorrect, kIncorrect };

struct PostalAddress {
  std::string street;
  std::string city;
  std::string zip;
  std::string state;
  // ISO 3166-1 alpha-2, upper case.
  std::string country_code;

  bool operator==(const PostalAddress&) const = default;
};

// An amount in minor units (cents) of an ISO 4217 currency.
struct Money {
  int64_t amount_minor = 0;
  std::string currency_code;

  bool operator==(const Money&) const = default;
};

// What users type about a lead; derived and lifecycle fields live in Lead.
struct LeadProfile {
  std::string display_name;
  std::string contact_name;
  std::string company_name;
  std::string email;
  std::string phone;
  std::string mobile;
  std::string website;
  std::string job_title;
  PostalAddress address;
  std::string language;
  std::string source;
  std::set<std::string> tags;
  std::string description;
  std::string owner_id;
  std::string team_id;
  // 0 (none) to 3 (highest).
  int priority = 0;
  std::optional<Money> expected_revenue;

  bool operator==(const LeadProfile&) const = default;
};

// Limits on what a profile may hold; larger input is refused, never cut.
inline constexpr int kMaxNameLength = 256;
inline constexpr int kMaxFieldLength = 1024;
inline constexpr int kMaxDescriptionLength = 64 * 1024;
inline constexpr int kMaxTags = 100;
inline constexpr int kMaxTagLength = 64;
inline constexpr int kMaxPriority = 3;

// The state of one lead, folded from its stream. A default-constructed Lead is
// the state before the stream's first event (`exists` is false).
struct Lead {
  bool exists = false;
  std::string id;
  LeadKind kind = LeadKind::kLead;
  LeadStatus status = LeadStatus::kActive;
  // Pipeline stage; set for opportunities.
  std::string stage;
  LeadProfile profile;
  std::string email_normalized;
  ContactState email_state = ContactState::kUnset;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();

  bool operator==(const Lead&) const = default;
};

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_H_
