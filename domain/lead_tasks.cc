// The task rules of a lead (SPEC §3): scheduling follow-ups, user tasks,
// completing a task with an outcome, cancelling, falling due.
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "domain/classification.h"
#include "domain/lead_decider.h"
#include "domain/lead_rules.h"
#include "domain/status_macros.h"

namespace leadledger::domain {
namespace internal {
namespace {

constexpr size_t kMaxTaskIdLength = 128;
constexpr size_t kMaxTitleLength = 256;
constexpr size_t kMaxNoteLength = 64 * 1024;

absl::Status ValidTaskId(absl::string_view field, const std::string& id) {
  if (id.empty() || id.size() > kMaxTaskIdLength) {
    return Invalid(field,
                   absl::StrCat("must be 1 to ", kMaxTaskIdLength, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidDue(absl::string_view field, absl::Time due) {
  if (due == absl::InfinitePast() || due == absl::InfiniteFuture()) {
    return Invalid(field, "must be a point in time");
  }
  return absl::OkStatus();
}

// The open task `task_id`, or why there is none.
absl::StatusOr<const Task*> OpenTask(const Lead& lead,
                                     const std::string& task_id) {
  if (auto it = lead.open_tasks.find(task_id); it != lead.open_tasks.end()) {
    return &it->second;
  }
  if (lead.known_task_ids.contains(task_id)) return nullptr;
  return absl::NotFoundError(
      absl::StrCat("task ", task_id, " not found on lead ", lead.id));
}

}  // namespace

absl::StatusOr<Events> DecideScheduleFollowUp(const Lead& lead,
                                              const ScheduleFollowUp& command) {
  RETURN_IF_ERROR(RequireLive(lead));
  RETURN_IF_ERROR(ValidTaskId("task_id", command.task_id));
  RETURN_IF_ERROR(ValidDue("due_time", command.due_time));
  // Once per cause: a replayed or repeated schedule finds its task known.
  // A lead closed meanwhile needs no follow-up.
  if (lead.known_task_ids.contains(command.task_id) ||
      lead.status != LeadStatus::kActive) {
    return Events{};
  }
  std::string title = command.title;
  RETURN_IF_ERROR(RequiredText("title", title, kMaxTitleLength));
  Events events;
  // At most one open automatic follow-up: the new one replaces the old.
  if (const Task* previous = lead.OpenAutomaticFollowUp();
      previous != nullptr) {
    events.push_back(TaskCancelled{.task_id = previous->id,
                                   .reason = "replaced by a newer follow-up",
                                   .time = command.now});
  }
  events.push_back(TaskScheduled{
      .task = Task{.id = command.task_id,
                   .owner_id = command.owner_id.empty() ? lead.profile.owner_id
                                                        : command.owner_id,
                   .kind = TaskKind::kFollowUp,
                   .title = std::move(title),
                   .due_time = command.due_time,
                   .priority = command.priority,
                   .automatic = true,
                   .cause_event_id = command.cause_event_id},
      .time = command.now});
  return events;
}

absl::StatusOr<Events> DecideCreateTask(const Lead& lead,
                                        const CreateTask& command) {
  RETURN_IF_ERROR(RequireActive(lead, "add a task to"));
  RETURN_IF_ERROR(ValidTaskId("task_id", command.task_id));
  if (lead.known_task_ids.contains(command.task_id)) return Events{};
  std::string title = command.title;
  RETURN_IF_ERROR(RequiredText("title", title, kMaxTitleLength));
  RETURN_IF_ERROR(ValidDue("due_time", command.due_time));
  return Events{TaskScheduled{
      .task = Task{.id = command.task_id,
                   .owner_id = command.owner_id.empty() ? lead.profile.owner_id
                                                        : command.owner_id,
                   .kind = command.kind,
                   .title = std::move(title),
                   .due_time = command.due_time,
                   .priority = command.priority,
                   .automatic = false},
      .time = command.now}};
}

absl::StatusOr<Events> DecideCompleteTask(const Lead& lead,
                                          const CompleteTask& command) {
  RETURN_IF_ERROR(RequireActive(lead, "complete a task of"));
  ASSIGN_OR_RETURN(const Task* task, OpenTask(lead, command.task_id));
  if (task == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", command.task_id, " is already closed"));
  }
  const Catalogue& catalogue = command.settings.catalogue;
  const Outcome* outcome = nullptr;
  if (!command.outcome_id.empty()) {
    outcome = FindOutcome(catalogue, command.outcome_id);
    if (outcome == nullptr) {
      return Invalid("outcome", absl::StrCat("unknown outcome \"",
                                             command.outcome_id, "\""));
    }
  }
  std::string note = command.note;
  if (note.size() > kMaxNoteLength) {
    return Invalid("note",
                   absl::StrCat("longer than ", kMaxNoteLength, " bytes"));
  }
  std::set<std::string> added_tags;
  for (const std::string& typed : command.tags) {
    std::string tag(absl::StripAsciiWhitespace(typed));
    if (tag.empty()) continue;
    if (tag.size() > static_cast<size_t>(kMaxTagLength)) {
      return Invalid("tags",
                     absl::StrCat("tag longer than ", kMaxTagLength, " bytes"));
    }
    if (!lead.profile.tags.contains(tag)) added_tags.insert(std::move(tag));
  }
  if (lead.profile.tags.size() + added_tags.size() >
      static_cast<size_t>(kMaxTags)) {
    return Invalid("tags",
                   absl::StrCat("a lead holds at most ", kMaxTags, " tags"));
  }

  Events events;
  events.push_back(TaskCompleted{.task_id = command.task_id,
                                 .outcome_id = command.outcome_id,
                                 .note = std::move(note),
                                 .added_tags = std::move(added_tags),
                                 .time = command.now});
  // A classifying outcome classifies the lead, even with the classification
  // it already has: that LeadClassified is what schedules the next
  // follow-up. Non-classifying outcomes schedule theirs from TaskCompleted.
  if (outcome != nullptr && outcome->classifies) {
    const Outcome* previous = FindOutcome(catalogue, lead.classification);
    events.push_back(LeadClassified{
        .outcome_id = outcome->id,
        .tag = outcome->tag,
        .removed_tag = previous != nullptr && previous->tag != outcome->tag
                           ? previous->tag
                           : "",
        .time = command.now});
  }
  if (command.follow_up.has_value()) {
    const ManualFollowUp& manual = *command.follow_up;
    RETURN_IF_ERROR(ValidTaskId("follow_up.task_id", manual.task_id));
    if (lead.known_task_ids.contains(manual.task_id)) {
      return Invalid("follow_up.task_id",
                     absl::StrCat("task ", manual.task_id, " already exists"));
    }
    std::string title = manual.title;
    RETURN_IF_ERROR(RequiredText("follow_up.title", title, kMaxTitleLength));
    RETURN_IF_ERROR(ValidDue("follow_up.due_time", manual.due_time));
    const std::string& classification =
        outcome != nullptr && outcome->classifies ? outcome->id
                                                  : lead.classification;
    events.push_back(TaskScheduled{
        .task = Task{.id = manual.task_id,
                     .owner_id = task->owner_id,
                     .kind = TaskKind::kFollowUp,
                     .title = std::move(title),
                     .due_time = manual.due_time,
                     .priority = TaskPriority(catalogue, classification),
                     .automatic = false},
        .time = command.now});
  }
  return events;
}

absl::StatusOr<Events> DecideCancelTask(const Lead& lead,
                                        const CancelTask& command) {
  RETURN_IF_ERROR(RequireLive(lead));
  ASSIGN_OR_RETURN(const Task* task, OpenTask(lead, command.task_id));
  if (task == nullptr) return Events{};  // Closed already: nothing to do.
  std::string reason = command.reason;
  if (reason.size() > kMaxTitleLength) {
    return Invalid("reason",
                   absl::StrCat("longer than ", kMaxTitleLength, " bytes"));
  }
  return Events{TaskCancelled{.task_id = command.task_id,
                              .reason = std::move(reason),
                              .time = command.now}};
}

absl::StatusOr<Events> DecideMarkTaskDue(const Lead& lead,
                                         const MarkTaskDue& command) {
  RETURN_IF_ERROR(RequireLive(lead));
  ASSIGN_OR_RETURN(const Task* task, OpenTask(lead, command.task_id));
  if (task == nullptr || task->fell_due) return Events{};
  if (command.now < task->due_time) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", task->id, " is not due until ",
                     absl::FormatTime(task->due_time)));
  }
  return Events{TaskDue{.task_id = task->id, .time = command.now}};
}

}  // namespace internal

std::optional<ScheduleFollowUp> PlanFollowUp(
    const Lead& lead, absl::string_view outcome_id,
    absl::string_view cause_event_id, absl::Time cause_time,
    const absl::TimeZone& owner_zone, const WorkspaceSettings& settings) {
  const Outcome* outcome = FindOutcome(settings.catalogue, outcome_id);
  if (outcome == nullptr || !outcome->follow_up_days.has_value() ||
      !lead.exists || lead.status != LeadStatus::kActive) {
    return std::nullopt;
  }
  const FollowUpDue due = ComputeFollowUpDue(
      cause_time, owner_zone, *outcome->follow_up_days, settings.skip_weekends);
  return ScheduleFollowUp{
      .task_id = absl::StrCat("followup-", cause_event_id),
      .cause_event_id = std::string(cause_event_id),
      .owner_id = lead.profile.owner_id,
      .title = absl::StrCat("Follow up: ", outcome->label),
      .due_time = due.time,
      .priority = TaskPriority(settings.catalogue, lead.classification),
      .now = cause_time};
}

}  // namespace leadledger::domain
