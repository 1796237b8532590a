// The lead record of SPEC §1 as plain values: what users type (LeadProfile)
// and the state folded from a lead's events (Lead).
#ifndef LEADLEDGER_DOMAIN_LEAD_H_
#define LEADLEDGER_DOMAIN_LEAD_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "domain/task_id_set.h"

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

enum class TaskKind { kContact, kFollowUp, kCustom };
enum class TaskStatus { kOpen, kDone, kCancelled };

// A task of a lead's agenda (SPEC §1, §3).
struct Task {
  std::string id;
  std::string owner_id;
  TaskKind kind = TaskKind::kFollowUp;
  std::string title;
  absl::Time due_time = absl::InfinitePast();
  // Higher is more urgent; see TaskPriority().
  int priority = 0;
  TaskStatus status = TaskStatus::kOpen;
  // Scheduled by the classification rules (at most one open per lead), as
  // opposed to typed by a user.
  bool automatic = false;
  // Id of the event that caused the task; empty for tasks users created.
  std::string cause_event_id;
  // Whether TaskDue was recorded for it.
  bool fell_due = false;

  bool operator==(const Task&) const = default;
};

// Probability in percent (SPEC §6): the automated value and an optional
// manual override; the override wins while it is set.
struct Probability {
  double automated = 0;
  std::optional<double> override_value;

  double Effective() const { return override_value.value_or(automated); }
  bool operator==(const Probability&) const = default;
};

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
  // Derived contact data (SPEC §8).
  std::string email_normalized;
  ContactState email_state = ContactState::kUnset;
  std::string phone_e164;
  ContactState phone_state = ContactState::kUnset;
  std::string mobile_e164;
  ContactState mobile_state = ContactState::kUnset;
  // Id of the current classification outcome; empty when unclassified.
  std::string classification;
  Probability probability;
  std::string customer_id;
  std::string lost_reason;
  std::string lost_feedback;
  // The lead this one was merged into (status kMerged).
  std::string merged_into;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  // Set while converted / closed (lost or won).
  std::optional<absl::Time> conversion_time;
  std::optional<absl::Time> closed_time;
  // Open tasks by id.
  std::map<std::string, Task> open_tasks;
  // Ids of every task the lead ever had, so a replayed schedule is a no-op.
  TaskIdSet known_task_ids;

  // The open automatic follow-up, if any (there is at most one).
  const Task* OpenAutomaticFollowUp() const;
  bool operator==(const Lead&) const = default;
};

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_H_
