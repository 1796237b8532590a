// Events of a lead's stream ("lead-<id>"): past-tense facts, as plain values.
// Each carries the decided values (normalized contact data, resolved merge
// fields, computed due times) so that a replay never depends on how a later
// version would decide. Their stored form (proto/leadledger/events/v1) is
// mapped by the codec in projections/.
#ifndef LEADLEDGER_DOMAIN_LEAD_EVENTS_H_
#define LEADLEDGER_DOMAIN_LEAD_EVENTS_H_

#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "domain/lead.h"

namespace leadledger::domain {

// The user-settable fields of a lead, for updates with a field mask.
enum class LeadField {
  kDisplayName,
  kContactName,
  kCompanyName,
  kEmail,
  kPhone,
  kMobile,
  kWebsite,
  kJobTitle,
  kAddress,
  kLanguage,
  kSource,
  kTags,
  kDescription,
  kOwner,
  kTeam,
  kPriority,
  kExpectedRevenue,
  kStage,
};

// "display_name", "address", "expected_revenue", ... as in the API.
absl::string_view LeadFieldName(LeadField field);
// The field named `name`; nullopt for an unknown name.
std::optional<LeadField> LeadFieldFromName(absl::string_view name);

// Contact data derived from the typed email, phone and mobile (SPEC §8).
struct DerivedContact {
  std::string email_normalized;
  ContactState email_state = ContactState::kUnset;
  std::string phone_e164;
  ContactState phone_state = ContactState::kUnset;
  std::string mobile_e164;
  ContactState mobile_state = ContactState::kUnset;

  bool operator==(const DerivedContact&) const = default;
};

// A lead (or, with leads disabled, an opportunity) came into existence.
struct LeadCreated {
  std::string lead_id;
  LeadKind kind = LeadKind::kLead;
  // First stage of the pipeline when created as an opportunity.
  std::string stage;
  LeadProfile profile;
  DerivedContact contact;
  absl::Time time;

  bool operator==(const LeadCreated&) const = default;
};

// Some user-settable fields changed; `fields` names them and `profile` holds
// their new values (other members of `profile` are meaningless).
struct LeadUpdated {
  std::set<LeadField> fields;
  LeadProfile profile;
  // New stage, when `fields` holds kStage.
  std::string stage;
  // Recomputed when email, phone or mobile changed.
  DerivedContact contact;
  absl::Time time;

  bool operator==(const LeadUpdated&) const = default;
};

// The lead took classification `outcome_id`, attaching `tag` and removing
// `removed_tag` (the previous classification's tag, if any).
struct LeadClassified {
  std::string outcome_id;
  std::string tag;
  std::string removed_tag;
  absl::Time time;

  bool operator==(const LeadClassified&) const = default;
};

// The classification was cleared and its tag removed.
struct LeadClassificationCleared {
  std::string previous_outcome_id;
  std::string removed_tag;
  absl::Time time;

  bool operator==(const LeadClassificationCleared&) const = default;
};

// The lead became an opportunity in `stage`; owner and team are the assigned
// ones (empty: unchanged).
struct LeadConverted {
  std::string stage;
  std::string owner_id;
  std::string team_id;
  absl::Time time;

  bool operator==(const LeadConverted&) const = default;
};

// The lead now refers to customer `customer_id`.
struct CustomerLinked {
  std::string customer_id;
  absl::Time time;

  bool operator==(const CustomerLinked&) const = default;
};

// On the surviving lead of a merge: the resolved fields and the tasks moved
// in from the merged-away leads.
struct LeadsMerged {
  // The merged-away leads, in the order their fields were considered.
  std::vector<std::string> merged_ids;
  LeadKind kind = LeadKind::kLead;
  std::string stage;
  LeadProfile profile;
  DerivedContact contact;
  std::string customer_id;
  std::vector<Task> moved_tasks;
  absl::Time time;

  bool operator==(const LeadsMerged&) const = default;
};

// On each merged-away lead: it now lives on as `head_id`.
struct LeadMergedInto {
  std::string head_id;
  absl::Time time;

  bool operator==(const LeadMergedInto&) const = default;
};

struct LeadLost {
  std::string reason;
  std::string feedback;
  absl::Time time;

  bool operator==(const LeadLost&) const = default;
};

struct LeadRestored {
  absl::Time time;

  bool operator==(const LeadRestored&) const = default;
};

struct LeadWon {
  std::string stage;
  absl::Time time;

  bool operator==(const LeadWon&) const = default;
};

struct ProbabilityOverridden {
  double value = 0;
  absl::Time time;

  bool operator==(const ProbabilityOverridden&) const = default;
};

struct ProbabilityOverrideCleared {
  absl::Time time;

  bool operator==(const ProbabilityOverrideCleared&) const = default;
};

struct AutomatedProbabilityChanged {
  double value = 0;
  absl::Time time;

  bool operator==(const AutomatedProbabilityChanged&) const = default;
};

struct TaskScheduled {
  Task task;
  absl::Time time;

  bool operator==(const TaskScheduled&) const = default;
};

// A task was done; `outcome_id` (may be empty) is how it went, and
// `added_tags` were attached to the lead.
struct TaskCompleted {
  std::string task_id;
  std::string outcome_id;
  std::string note;
  std::set<std::string> added_tags;
  absl::Time time;

  bool operator==(const TaskCompleted&) const = default;
};

struct TaskCancelled {
  std::string task_id;
  std::string reason;
  absl::Time time;

  bool operator==(const TaskCancelled&) const = default;
};

// A task's due time passed (recorded once, for services that notify).
struct TaskDue {
  std::string task_id;
  absl::Time time;

  bool operator==(const TaskDue&) const = default;
};

using LeadEvent =
    std::variant<LeadCreated, LeadUpdated, LeadClassified,
                 LeadClassificationCleared, LeadConverted, CustomerLinked,
                 LeadsMerged, LeadMergedInto, LeadLost, LeadRestored, LeadWon,
                 ProbabilityOverridden, ProbabilityOverrideCleared,
                 AutomatedProbabilityChanged, TaskScheduled, TaskCompleted,
                 TaskCancelled, TaskDue>;

// The time every lead event carries: when the command that caused it ran.
absl::Time TimeOf(const LeadEvent& event);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_EVENTS_H_
