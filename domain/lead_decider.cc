#include "domain/lead_decider.h"

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "domain/classification.h"
#include "domain/contact.h"
#include "domain/lead_rules.h"
#include "domain/overloaded.h"
#include "domain/phone.h"
#include "domain/status_macros.h"

namespace leadledger::domain {
namespace {

using internal::Events;
using internal::Invalid;

void ApplyContact(const DerivedContact& contact, Lead& lead) {
  lead.email_normalized = contact.email_normalized;
  lead.email_state = contact.email_state;
  lead.phone_e164 = contact.phone_e164;
  lead.phone_state = contact.phone_state;
  lead.mobile_e164 = contact.mobile_e164;
  lead.mobile_state = contact.mobile_state;
}

// Copies the fields named in `fields` from `from` into `to`.
void ApplyFields(const std::set<LeadField>& fields, const LeadProfile& from,
                 LeadProfile& to) {
  for (LeadField field : fields) {
    switch (field) {
      case LeadField::kDisplayName:
        to.display_name = from.display_name;
        break;
      case LeadField::kContactName:
        to.contact_name = from.contact_name;
        break;
      case LeadField::kCompanyName:
        to.company_name = from.company_name;
        break;
      case LeadField::kEmail:
        to.email = from.email;
        break;
      case LeadField::kPhone:
        to.phone = from.phone;
        break;
      case LeadField::kMobile:
        to.mobile = from.mobile;
        break;
      case LeadField::kWebsite:
        to.website = from.website;
        break;
      case LeadField::kJobTitle:
        to.job_title = from.job_title;
        break;
      case LeadField::kAddress:
        to.address = from.address;
        break;
      case LeadField::kLanguage:
        to.language = from.language;
        break;
      case LeadField::kSource:
        to.source = from.source;
        break;
      case LeadField::kTags:
        to.tags = from.tags;
        break;
      case LeadField::kDescription:
        to.description = from.description;
        break;
      case LeadField::kOwner:
        to.owner_id = from.owner_id;
        break;
      case LeadField::kTeam:
        to.team_id = from.team_id;
        break;
      case LeadField::kPriority:
        to.priority = from.priority;
        break;
      case LeadField::kExpectedRevenue:
        to.expected_revenue = from.expected_revenue;
        break;
      case LeadField::kStage:
        break;  // Not part of the profile.
    }
  }
}

void CloseTask(const std::string& task_id, Lead& lead) {
  lead.open_tasks.erase(task_id);
}

// Trims `value` in place and checks its length.
absl::Status CanonicalText(absl::string_view field, std::string& value,
                           size_t max_length) {
  value = std::string(absl::StripAsciiWhitespace(value));
  if (value.size() > max_length) {
    return Invalid(field, absl::StrCat("longer than ", max_length, " bytes (",
                                       value.size(), ")"));
  }
  return absl::OkStatus();
}

// Trims and upper-cases `code`; blank is allowed, else it must be `length`
// ASCII letters.
absl::Status CanonicalCode(absl::string_view field, std::string& code,
                           size_t length) {
  code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(code));
  if (code.empty()) return absl::OkStatus();
  bool letters = code.size() == length;
  for (char c : code) letters = letters && absl::ascii_isupper(c);
  if (!letters) {
    return Invalid(field, absl::StrCat("must be ", length,
                                       " ASCII letters, got \"", code, "\""));
  }
  return absl::OkStatus();
}

absl::Status ValidPercent(absl::string_view field, double value) {
  if (!(value >= 0 && value <= 100)) {
    return Invalid(field, absl::StrCat("must be 0 to 100, got ", value));
  }
  return absl::OkStatus();
}

absl::StatusOr<Events> DecideCreate(const Lead& state,
                                    const CreateLead& command) {
  if (command.lead_id.empty()) return Invalid("lead_id", "must not be empty");
  if (state.exists) {
    return absl::AlreadyExistsError(
        absl::StrCat("lead ", command.lead_id, " already exists"));
  }
  if (command.settings.pipeline_stages.empty()) {
    return absl::FailedPreconditionError(
        "workspace pipeline has no stages; configure one first");
  }
  ASSIGN_OR_RETURN(LeadProfile profile, CanonicalProfile(command.profile));
  if (profile.display_name.empty()) {
    return Invalid("display_name", "must not be empty");
  }
  LeadCreated created;
  created.lead_id = command.lead_id;
  if (command.settings.leads_enabled) {
    created.kind = LeadKind::kLead;
  } else {
    created.kind = LeadKind::kOpportunity;
    created.stage = command.settings.pipeline_stages.front();
  }
  created.contact = DeriveContact(profile, command.settings.default_country);
  created.profile = std::move(profile);
  created.time = command.now;
  return Events{std::move(created)};
}

// Whether `field` holds different values in `a` and `b`.
bool Differs(LeadField field, const LeadProfile& a, const LeadProfile& b) {
  LeadProfile only_a;
  LeadProfile only_b;
  ApplyFields({field}, a, only_a);
  ApplyFields({field}, b, only_b);
  return only_a != only_b;
}

absl::StatusOr<Events> DecideUpdate(const Lead& state,
                                    const UpdateLead& command) {
  RETURN_IF_ERROR(internal::RequireLive(state));
  if (command.fields.empty()) return Invalid("update_mask", "names no field");
  // Apply the masked fields, then validate the result as a whole.
  LeadProfile merged = state.profile;
  ApplyFields(command.fields, command.profile, merged);
  ASSIGN_OR_RETURN(LeadProfile profile, CanonicalProfile(std::move(merged)));
  if (profile.display_name.empty()) {
    return Invalid("display_name", "must not be empty");
  }
  LeadUpdated event;
  for (LeadField field : command.fields) {
    if (field == LeadField::kStage) continue;
    if (Differs(field, state.profile, profile)) event.fields.insert(field);
  }
  if (command.fields.contains(LeadField::kStage) &&
      command.stage != state.stage) {
    if (state.kind != LeadKind::kOpportunity) {
      return absl::FailedPreconditionError(
          absl::StrCat("lead ", state.id,
                       " is not an opportunity; convert it to set a stage"));
    }
    if (StageIndex(command.settings, command.stage) < 0) {
      return Invalid("stage", absl::StrCat("\"", command.stage,
                                           "\" is not a pipeline stage"));
    }
    event.fields.insert(LeadField::kStage);
    event.stage = command.stage;
  }
  if (event.fields.empty()) return Events{};
  event.contact = DeriveContact(profile, command.settings.default_country);
  event.profile = std::move(profile);
  event.time = command.now;
  return Events{std::move(event)};
}

absl::StatusOr<Events> DecideClassify(const Lead& state,
                                      const ClassifyLead& command) {
  RETURN_IF_ERROR(internal::RequireActive(state, "classify"));
  const Catalogue& catalogue = command.settings.catalogue;
  const Outcome* previous = FindOutcome(catalogue, state.classification);
  const std::string removed_tag = previous != nullptr ? previous->tag : "";
  if (command.outcome_id.empty()) {
    if (state.classification.empty()) return Events{};
    return Events{
        LeadClassificationCleared{.previous_outcome_id = state.classification,
                                  .removed_tag = removed_tag,
                                  .time = command.now}};
  }
  const Outcome* outcome = FindOutcome(catalogue, command.outcome_id);
  if (outcome == nullptr) {
    return Invalid("classification", absl::StrCat("unknown outcome \"",
                                                  command.outcome_id, "\""));
  }
  if (!outcome->classifies) {
    return Invalid("classification",
                   absl::StrCat(outcome->id,
                                " is an outcome of a task; it does not "
                                "classify a lead"));
  }
  if (outcome->id == state.classification) return Events{};
  return Events{LeadClassified{.outcome_id = outcome->id,
                               .tag = outcome->tag,
                               .removed_tag = removed_tag,
                               .time = command.now}};
}

absl::StatusOr<Events> DecideLost(const Lead& state,
                                  const MarkLeadLost& command) {
  RETURN_IF_ERROR(internal::RequireLive(state));
  if (state.status == LeadStatus::kLost) return Events{};
  RETURN_IF_ERROR(internal::RequireActive(state, "mark lost"));
  std::string reason(absl::StripAsciiWhitespace(command.reason));
  if (!reason.empty() &&
      std::find(command.settings.lost_reasons.begin(),
                command.settings.lost_reasons.end(),
                reason) == command.settings.lost_reasons.end()) {
    return Invalid(
        "lost_reason",
        absl::StrCat("\"", reason,
                     "\" is not one of the workspace's lost reasons"));
  }
  std::string feedback = command.feedback;
  RETURN_IF_ERROR(
      CanonicalText("lost_feedback", feedback, kMaxDescriptionLength));
  // A lost lead keeps no open task (SPEC §6).
  Events events;
  for (const auto& [id, task] : state.open_tasks) {
    events.push_back(TaskCancelled{
        .task_id = id, .reason = "lead lost", .time = command.now});
  }
  events.push_back(LeadLost{.reason = std::move(reason),
                            .feedback = std::move(feedback),
                            .time = command.now});
  return events;
}

absl::StatusOr<Events> DecideRestore(const Lead& state,
                                     const RestoreLead& command) {
  RETURN_IF_ERROR(internal::RequireLive(state));
  if (state.status == LeadStatus::kActive) return Events{};
  if (state.status != LeadStatus::kLost) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", state.id, " is won; only lost leads restore"));
  }
  return Events{LeadRestored{.time = command.now}};
}

absl::StatusOr<Events> DecideWon(const Lead& state,
                                 const MarkLeadWon& command) {
  RETURN_IF_ERROR(internal::RequireLive(state));
  if (state.status == LeadStatus::kWon) return Events{};
  RETURN_IF_ERROR(internal::RequireActive(state, "mark won"));
  if (state.kind != LeadKind::kOpportunity) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lead ", state.id, " is not an opportunity; convert it first"));
  }
  if (command.settings.pipeline_stages.empty()) {
    return absl::FailedPreconditionError(
        "workspace pipeline has no stages; configure one first");
  }
  return Events{LeadWon{.stage = command.settings.pipeline_stages.back(),
                        .time = command.now}};
}

absl::StatusOr<Events> DecideOverride(const Lead& state,
                                      const SetProbabilityOverride& command) {
  RETURN_IF_ERROR(internal::RequireActive(state, "override the probability"));
  RETURN_IF_ERROR(ValidPercent("probability", command.value));
  if (state.probability.override_value == command.value) return Events{};
  return Events{
      ProbabilityOverridden{.value = command.value, .time = command.now}};
}

absl::StatusOr<Events> DecideClearOverride(
    const Lead& state, const ClearProbabilityOverride& command) {
  RETURN_IF_ERROR(internal::RequireLive(state));
  if (!state.probability.override_value.has_value()) return Events{};
  return Events{ProbabilityOverrideCleared{.time = command.now}};
}

absl::StatusOr<Events> DecideAutomated(
    const Lead& state, const UpdateAutomatedProbability& command) {
  RETURN_IF_ERROR(internal::RequireLive(state));
  RETURN_IF_ERROR(ValidPercent("automated_probability", command.value));
  // Rescoring runs over every lead; closed ones keep their final value.
  if (state.status != LeadStatus::kActive ||
      state.probability.automated == command.value) {
    return Events{};
  }
  return Events{
      AutomatedProbabilityChanged{.value = command.value, .time = command.now}};
}

}  // namespace

namespace internal {

absl::Status RequireLive(const Lead& lead) {
  if (!lead.exists) return absl::NotFoundError("lead not found");
  if (lead.status == LeadStatus::kMerged) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lead ", lead.id, " was merged into lead ", lead.merged_into));
  }
  return absl::OkStatus();
}

absl::Status RequireActive(const Lead& lead, absl::string_view action) {
  RETURN_IF_ERROR(RequireLive(lead));
  if (lead.status != LeadStatus::kActive) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot ", action, " lead ", lead.id, ": it is ",
        lead.status == LeadStatus::kLost ? "lost (restore it first)" : "won"));
  }
  return absl::OkStatus();
}

absl::Status RequiredText(absl::string_view field, std::string& value,
                          size_t max_length) {
  RETURN_IF_ERROR(CanonicalText(field, value, max_length));
  if (value.empty()) return Invalid(field, "must not be empty");
  return absl::OkStatus();
}

}  // namespace internal

DerivedContact DeriveContact(const LeadProfile& profile,
                             absl::string_view default_country) {
  const absl::string_view region = profile.address.country_code.empty()
                                       ? default_country
                                       : profile.address.country_code;
  NormalizedEmail email = NormalizeEmail(profile.email);
  NormalizedPhone phone = NormalizePhone(profile.phone, region);
  NormalizedPhone mobile = NormalizePhone(profile.mobile, region);
  return DerivedContact{.email_normalized = std::move(email.normalized),
                        .email_state = email.state,
                        .phone_e164 = std::move(phone.e164),
                        .phone_state = phone.state,
                        .mobile_e164 = std::move(mobile.e164),
                        .mobile_state = mobile.state};
}

double EffectiveProbability(const Lead& lead) {
  switch (lead.status) {
    case LeadStatus::kWon:
      return 100;
    case LeadStatus::kLost:
      return 0;
    case LeadStatus::kActive:
    case LeadStatus::kMerged:
      break;
  }
  return lead.probability.Effective();
}

absl::StatusOr<LeadProfile> CanonicalProfile(LeadProfile profile) {
  RETURN_IF_ERROR(
      CanonicalText("display_name", profile.display_name, kMaxNameLength));
  RETURN_IF_ERROR(
      CanonicalText("contact_name", profile.contact_name, kMaxNameLength));
  RETURN_IF_ERROR(
      CanonicalText("company_name", profile.company_name, kMaxNameLength));
  RETURN_IF_ERROR(CanonicalText("email", profile.email, kMaxFieldLength));
  RETURN_IF_ERROR(CanonicalText("phone", profile.phone, kMaxNameLength));
  RETURN_IF_ERROR(CanonicalText("mobile", profile.mobile, kMaxNameLength));
  RETURN_IF_ERROR(CanonicalText("website", profile.website, kMaxFieldLength));
  RETURN_IF_ERROR(
      CanonicalText("job_title", profile.job_title, kMaxNameLength));
  PostalAddress& address = profile.address;
  RETURN_IF_ERROR(
      CanonicalText("address.street", address.street, kMaxFieldLength));
  RETURN_IF_ERROR(CanonicalText("address.city", address.city, kMaxNameLength));
  RETURN_IF_ERROR(CanonicalText("address.zip", address.zip, kMaxNameLength));
  RETURN_IF_ERROR(
      CanonicalText("address.state", address.state, kMaxNameLength));
  RETURN_IF_ERROR(
      CanonicalCode("address.country_code", address.country_code, 2));
  RETURN_IF_ERROR(CanonicalText("language", profile.language, kMaxNameLength));
  RETURN_IF_ERROR(CanonicalText("source", profile.source, kMaxNameLength));
  RETURN_IF_ERROR(
      CanonicalText("description", profile.description, kMaxDescriptionLength));
  RETURN_IF_ERROR(CanonicalText("owner_id", profile.owner_id, kMaxNameLength));
  RETURN_IF_ERROR(CanonicalText("team_id", profile.team_id, kMaxNameLength));

  std::set<std::string> tags;
  for (const std::string& typed : profile.tags) {
    std::string tag(absl::StripAsciiWhitespace(typed));
    if (tag.empty()) continue;
    if (tag.size() > kMaxTagLength) {
      return Invalid("tags", absl::StrCat("tag \"", tag.substr(0, 16),
                                          "...\" is longer than ",
                                          kMaxTagLength, " bytes"));
    }
    tags.insert(std::move(tag));
  }
  if (tags.size() > kMaxTags) {
    return Invalid(
        "tags", absl::StrCat("at most ", kMaxTags, " tags, got ", tags.size()));
  }
  profile.tags = std::move(tags);

  if (profile.priority < 0 || profile.priority > kMaxPriority) {
    return Invalid("priority", absl::StrCat("must be 0 to ", kMaxPriority,
                                            ", got ", profile.priority));
  }
  if (profile.expected_revenue.has_value()) {
    Money& revenue = *profile.expected_revenue;
    if (revenue.amount_minor < 0) {
      return Invalid("expected_revenue.amount_minor", "must not be negative");
    }
    RETURN_IF_ERROR(CanonicalCode("expected_revenue.currency_code",
                                  revenue.currency_code, 3));
    if (revenue.currency_code.empty()) {
      return Invalid("expected_revenue.currency_code",
                     "required when an amount is given");
    }
  }
  return profile;
}

absl::StatusOr<std::vector<LeadEvent>> Decide(const Lead& state,
                                              const LeadCommand& command) {
  return std::visit(
      Overloaded{
          [&](const CreateLead& c) { return DecideCreate(state, c); },
          [&](const UpdateLead& c) { return DecideUpdate(state, c); },
          [&](const ClassifyLead& c) { return DecideClassify(state, c); },
          [&](const MarkLeadLost& c) { return DecideLost(state, c); },
          [&](const RestoreLead& c) { return DecideRestore(state, c); },
          [&](const MarkLeadWon& c) { return DecideWon(state, c); },
          [&](const SetProbabilityOverride& c) {
            return DecideOverride(state, c);
          },
          [&](const ClearProbabilityOverride& c) {
            return DecideClearOverride(state, c);
          },
          [&](const UpdateAutomatedProbability& c) {
            return DecideAutomated(state, c);
          },
          [&](const ScheduleFollowUp& c) {
            return internal::DecideScheduleFollowUp(state, c);
          },
          [&](const CreateTask& c) {
            return internal::DecideCreateTask(state, c);
          },
          [&](const CompleteTask& c) {
            return internal::DecideCompleteTask(state, c);
          },
          [&](const CancelTask& c) {
            return internal::DecideCancelTask(state, c);
          },
          [&](const MarkTaskDue& c) {
            return internal::DecideMarkTaskDue(state, c);
          },
      },
      command);
}

void EvolveInPlace(Lead& state, const LeadEvent& event) {
  std::visit(
      Overloaded{
          [&](const LeadCreated& e) {
            state.exists = true;
            state.id = e.lead_id;
            state.kind = e.kind;
            state.status = LeadStatus::kActive;
            state.stage = e.stage;
            state.profile = e.profile;
            ApplyContact(e.contact, state);
            state.create_time = e.time;
          },
          [&](const LeadUpdated& e) {
            ApplyFields(e.fields, e.profile, state.profile);
            if (e.fields.contains(LeadField::kStage)) state.stage = e.stage;
            if (e.fields.contains(LeadField::kEmail) ||
                e.fields.contains(LeadField::kPhone) ||
                e.fields.contains(LeadField::kMobile)) {
              ApplyContact(e.contact, state);
            }
          },
          [&](const LeadClassified& e) {
            if (!e.removed_tag.empty()) state.profile.tags.erase(e.removed_tag);
            if (!e.tag.empty()) state.profile.tags.insert(e.tag);
            state.classification = e.outcome_id;
          },
          [&](const LeadClassificationCleared& e) {
            if (!e.removed_tag.empty()) state.profile.tags.erase(e.removed_tag);
            state.classification.clear();
          },
          [&](const LeadConverted& e) {
            state.kind = LeadKind::kOpportunity;
            state.stage = e.stage;
            if (!e.owner_id.empty()) state.profile.owner_id = e.owner_id;
            if (!e.team_id.empty()) state.profile.team_id = e.team_id;
            state.conversion_time = e.time;
          },
          [&](const CustomerLinked& e) { state.customer_id = e.customer_id; },
          [&](const LeadsMerged& e) {
            state.kind = e.kind;
            state.stage = e.stage;
            state.profile = e.profile;
            ApplyContact(e.contact, state);
            state.customer_id = e.customer_id;
            // A merge revives a lost head (SPEC §5: the result is active).
            state.status = LeadStatus::kActive;
            state.lost_reason.clear();
            state.lost_feedback.clear();
            state.closed_time.reset();
            for (const Task& task : e.moved_tasks) {
              state.open_tasks[task.id] = task;
              state.known_task_ids.insert(task.id);
            }
          },
          [&](const LeadMergedInto& e) {
            state.status = LeadStatus::kMerged;
            state.merged_into = e.head_id;
            // Its open tasks now belong to the head.
            state.open_tasks.clear();
          },
          [&](const LeadLost& e) {
            state.status = LeadStatus::kLost;
            state.lost_reason = e.reason;
            state.lost_feedback = e.feedback;
            state.closed_time = e.time;
          },
          [&](const LeadRestored&) {
            state.status = LeadStatus::kActive;
            state.lost_reason.clear();
            state.lost_feedback.clear();
            state.closed_time.reset();
          },
          [&](const LeadWon& e) {
            state.status = LeadStatus::kWon;
            state.stage = e.stage;
            state.closed_time = e.time;
          },
          [&](const ProbabilityOverridden& e) {
            state.probability.override_value = e.value;
          },
          [&](const ProbabilityOverrideCleared&) {
            state.probability.override_value.reset();
          },
          [&](const AutomatedProbabilityChanged& e) {
            state.probability.automated = e.value;
          },
          [&](const TaskScheduled& e) {
            state.open_tasks[e.task.id] = e.task;
            state.known_task_ids.insert(e.task.id);
          },
          [&](const TaskCompleted& e) {
            CloseTask(e.task_id, state);
            state.profile.tags.insert(e.added_tags.begin(), e.added_tags.end());
          },
          [&](const TaskCancelled& e) { CloseTask(e.task_id, state); },
          [&](const TaskDue& e) {
            if (auto it = state.open_tasks.find(e.task_id);
                it != state.open_tasks.end()) {
              it->second.fell_due = true;
            }
          },
      },
      event);
  state.update_time = TimeOf(event);
}

Lead Evolve(Lead state, const LeadEvent& event) {
  EvolveInPlace(state, event);
  return state;
}

}  // namespace leadledger::domain
