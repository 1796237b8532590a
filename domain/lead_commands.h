// Commands on a lead: imperative requests that Decide turns into events or
// refuses. Time, ids and the workspace settings in force arrive inside the
// command, so deciding stays pure.
#ifndef LEADLEDGER_DOMAIN_LEAD_COMMANDS_H_
#define LEADLEDGER_DOMAIN_LEAD_COMMANDS_H_

#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "domain/lead.h"
#include "domain/lead_events.h"
#include "domain/workspace.h"

namespace leadledger::domain {

// Create a lead with the id chosen by the caller.
struct CreateLead {
  std::string lead_id;
  LeadProfile profile;
  WorkspaceSettings settings;
  absl::Time now;
};

// Set the fields named in `fields` to their values in `profile` (and the
// stage, for kStage); other fields stay as they are.
struct UpdateLead {
  std::set<LeadField> fields;
  LeadProfile profile;
  std::string stage;
  WorkspaceSettings settings;
  absl::Time now;
};

// Classify from the lead's profile: `outcome_id` must be a classifying
// outcome of the catalogue; empty clears the classification.
struct ClassifyLead {
  std::string outcome_id;
  WorkspaceSettings settings;
  absl::Time now;
};

// Turn an active lead into an opportunity (SPEC §4, action CONVERT). The
// customer side is decided by DecideConversion, which also needs the
// customers involved.
enum class CustomerAction { kDefault, kLinkExisting, kCreateNew, kNone };

struct ConvertLead {
  // Assigned when not empty.
  std::string owner_id;
  std::string team_id;
  CustomerAction customer_action = CustomerAction::kDefault;
  // The customer to link, for kLinkExisting.
  std::string customer_id;
  // The id a created customer gets (kCreateNew, or kDefault when it creates).
  std::string new_customer_id;
  WorkspaceSettings settings;
  absl::Time now;
};

// Mark lost with an optional reason from the workspace's list and feedback.
struct MarkLeadLost {
  std::string reason;
  std::string feedback;
  WorkspaceSettings settings;
  absl::Time now;
};

struct RestoreLead {
  absl::Time now;
};

struct MarkLeadWon {
  WorkspaceSettings settings;
  absl::Time now;
};

// A manual probability in percent, 0 to 100.
struct SetProbabilityOverride {
  double value = 0;
  absl::Time now;
};

struct ClearProbabilityOverride {
  absl::Time now;
};

// The scorer's new automated probability (SPEC §7), 0 to 100.
struct UpdateAutomatedProbability {
  double value = 0;
  absl::Time now;
};

// Schedule the automatic follow-up a classification or task outcome calls
// for (see PlanFollowUp). Replaces the lead's open automatic follow-up.
struct ScheduleFollowUp {
  std::string task_id;
  std::string cause_event_id;
  std::string owner_id;
  std::string title;
  absl::Time due_time;
  int priority = 0;
  absl::Time now;
};

// A task a user creates (a contact task, a custom task).
struct CreateTask {
  std::string task_id;
  std::string owner_id;
  TaskKind kind = TaskKind::kCustom;
  std::string title;
  absl::Time due_time;
  int priority = 0;
  absl::Time now;
};

// A follow-up the user asks for by hand while completing a task.
struct ManualFollowUp {
  std::string task_id;
  std::string title;
  absl::Time due_time;
};

// Complete an open task (SPEC §3, the agenda): how it went (`outcome_id`,
// may be empty), a note, tags to add, and an optional manual follow-up.
struct CompleteTask {
  std::string task_id;
  std::string outcome_id;
  std::string note;
  std::set<std::string> tags;
  std::optional<ManualFollowUp> follow_up;
  WorkspaceSettings settings;
  absl::Time now;
};

struct CancelTask {
  std::string task_id;
  std::string reason;
  absl::Time now;
};

// Record that an open task's due time has passed.
struct MarkTaskDue {
  std::string task_id;
  absl::Time now;
};

using LeadCommand =
    std::variant<CreateLead, UpdateLead, ClassifyLead, MarkLeadLost,
                 RestoreLead, MarkLeadWon, SetProbabilityOverride,
                 ClearProbabilityOverride, UpdateAutomatedProbability,
                 ScheduleFollowUp, CreateTask, CompleteTask, CancelTask,
                 MarkTaskDue>;

// Merge two or more leads (SPEC §5); decided by DecideMerge over all of them.
struct MergeLeads {
  std::vector<std::string> lead_ids;
  // Assigned to the result when not empty.
  std::string owner_id;
  std::string team_id;
  WorkspaceSettings settings;
  absl::Time now;
};

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_COMMANDS_H_
