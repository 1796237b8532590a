// Merging duplicates (SPEC §5) and conversion by merge (SPEC §4).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "domain/lead_decider.h"
#include "domain/lead_rules.h"
#include "domain/status_macros.h"

namespace leadledger::domain {
namespace {

using internal::Events;
using internal::Invalid;

int FilledAddressFields(const PostalAddress& address) {
  return !address.street.empty() + !address.city.empty() +
         !address.zip.empty() + !address.state.empty() +
         !address.country_code.empty();
}

// Whether `a` comes before `b` in the head order of SPEC §5.
bool BeforeInHeadOrder(const Lead& a, const Lead& b,
                       const WorkspaceSettings& settings) {
  auto key = [&](const Lead& lead) {
    // Smaller sorts first.
    return std::make_tuple(lead.kind == LeadKind::kOpportunity ? 0 : 1,
                           lead.status == LeadStatus::kActive ? 0 : 1,
                           -StageIndex(settings, lead.stage),
                           -EffectiveProbability(lead), lead.create_time,
                           lead.id);
  };
  return key(a) < key(b);
}

// The first non-empty value of `member` over `ordered`.
template <typename Member>
auto FirstNonEmpty(const std::vector<const Lead*>& ordered, Member member) {
  for (const Lead* lead : ordered) {
    const auto& value = lead->profile.*member;
    if (value != std::decay_t<decltype(value)>{}) return value;
  }
  return std::decay_t<decltype(ordered.front()->profile.*member)>{};
}

// The lead whose `member` is the first non-empty one (the head when none).
template <typename Member>
const Lead& SourceOf(const std::vector<const Lead*>& ordered, Member member) {
  for (const Lead* lead : ordered) {
    if (!(lead->profile.*member).empty()) return *lead;
  }
  return *ordered.front();
}

LeadsMerged Resolve(const std::vector<const Lead*>& ordered,
                    const MergeLeads& command) {
  const Lead& head = *ordered.front();
  LeadsMerged merged;
  LeadProfile& profile = merged.profile;
  profile.display_name = FirstNonEmpty(ordered, &LeadProfile::display_name);
  profile.contact_name = FirstNonEmpty(ordered, &LeadProfile::contact_name);
  profile.company_name = FirstNonEmpty(ordered, &LeadProfile::company_name);
  profile.email = FirstNonEmpty(ordered, &LeadProfile::email);
  profile.phone = FirstNonEmpty(ordered, &LeadProfile::phone);
  profile.mobile = FirstNonEmpty(ordered, &LeadProfile::mobile);
  profile.website = FirstNonEmpty(ordered, &LeadProfile::website);
  profile.job_title = FirstNonEmpty(ordered, &LeadProfile::job_title);
  profile.language = FirstNonEmpty(ordered, &LeadProfile::language);
  profile.source = FirstNonEmpty(ordered, &LeadProfile::source);
  profile.owner_id = command.owner_id.empty()
                         ? FirstNonEmpty(ordered, &LeadProfile::owner_id)
                         : command.owner_id;
  profile.team_id = command.team_id.empty()
                        ? FirstNonEmpty(ordered, &LeadProfile::team_id)
                        : command.team_id;
  profile.expected_revenue =
      FirstNonEmpty(ordered, &LeadProfile::expected_revenue);

  // The address moves as one block, from the most complete one.
  const Lead* fullest = ordered.front();
  for (const Lead* lead : ordered) {
    if (FilledAddressFields(lead->profile.address) >
        FilledAddressFields(fullest->profile.address)) {
      fullest = lead;
    }
  }
  profile.address = fullest->profile.address;

  std::vector<std::string> descriptions;
  for (const Lead* lead : ordered) {
    profile.tags.insert(lead->profile.tags.begin(), lead->profile.tags.end());
    profile.priority = std::max(profile.priority, lead->profile.priority);
    if (!lead->profile.description.empty()) {
      descriptions.push_back(absl::StrCat("[from ", lead->profile.display_name,
                                          " (leads/", lead->id, ")]\n",
                                          lead->profile.description));
    }
  }
  profile.description = absl::StrJoin(descriptions, "\n\n");

  // Derived contact data follows the record each value came from.
  const Lead& email_source = SourceOf(ordered, &LeadProfile::email);
  const Lead& phone_source = SourceOf(ordered, &LeadProfile::phone);
  const Lead& mobile_source = SourceOf(ordered, &LeadProfile::mobile);
  merged.contact =
      DerivedContact{.email_normalized = email_source.email_normalized,
                     .email_state = email_source.email_state,
                     .phone_e164 = phone_source.phone_e164,
                     .phone_state = phone_source.phone_state,
                     .mobile_e164 = mobile_source.mobile_e164,
                     .mobile_state = mobile_source.mobile_state};
  for (const Lead* lead : ordered) {
    if (merged.customer_id.empty()) merged.customer_id = lead->customer_id;
  }
  // The head is an opportunity whenever any record is (head order).
  merged.kind = head.kind;
  merged.stage = head.stage;
  merged.time = command.now;
  return merged;
}

}  // namespace

absl::StatusOr<MergeDecision> DecideMerge(const std::vector<Lead>& leads,
                                          const MergeLeads& command) {
  const std::vector<std::string>& ids = command.lead_ids;
  if (ids.size() < 2) return Invalid("lead_ids", "name two or more leads");
  if (ids.size() > kMaxMergeLeads) {
    return Invalid("lead_ids", absl::StrCat("at most ", kMaxMergeLeads,
                                            " leads merge at once"));
  }
  if (leads.size() != ids.size()) {
    return absl::InternalError("merge: one state per lead id is required");
  }
  absl::flat_hash_set<std::string> seen;
  for (const std::string& id : ids) {
    if (!seen.insert(id).second) {
      return Invalid("lead_ids", absl::StrCat("lead ", id,
                                              " is named twice; a lead cannot "
                                              "be merged into itself"));
    }
  }
  std::vector<const Lead*> ordered;
  for (size_t i = 0; i < leads.size(); ++i) {
    const Lead& lead = leads[i];
    if (!lead.exists) {
      return absl::NotFoundError(absl::StrCat("lead ", ids[i], " not found"));
    }
    RETURN_IF_ERROR(internal::RequireLive(lead));
    if (lead.status == LeadStatus::kWon) {
      return absl::FailedPreconditionError(absl::StrCat(
          "lead ", lead.id, " is won; won leads cannot be merged"));
    }
    ordered.push_back(&lead);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](const Lead* a, const Lead* b) {
                     return BeforeInHeadOrder(*a, *b, command.settings);
                   });
  const Lead& head = *ordered.front();
  LeadsMerged merged = Resolve(ordered, command);

  // Open tasks move to the head, keeping at most one automatic follow-up:
  // the head's own, else the earliest due among the others.
  const Task* kept_follow_up = head.OpenAutomaticFollowUp();
  for (size_t i = 1; i < ordered.size(); ++i) {
    const Task* candidate = ordered[i]->OpenAutomaticFollowUp();
    if (candidate != nullptr &&
        (kept_follow_up == nullptr ||
         (kept_follow_up != head.OpenAutomaticFollowUp() &&
          candidate->due_time < kept_follow_up->due_time))) {
      kept_follow_up = candidate;
    }
  }
  MergeDecision decision;
  decision.head_id = head.id;
  decision.events.emplace_back(head.id, Events{});
  for (size_t i = 1; i < ordered.size(); ++i) {
    const Lead& away = *ordered[i];
    Events away_events;
    for (const auto& [id, task] : away.open_tasks) {
      if (task.automatic && &task != kept_follow_up) {
        away_events.push_back(TaskCancelled{
            .task_id = id,
            .reason = "merged: the lead keeps one automatic follow-up",
            .time = command.now});
      } else {
        merged.moved_tasks.push_back(task);
      }
    }
    away_events.push_back(
        LeadMergedInto{.head_id = head.id, .time = command.now});
    merged.merged_ids.push_back(away.id);
    decision.events.emplace_back(away.id, std::move(away_events));
  }
  decision.events.front().second.push_back(std::move(merged));
  return decision;
}

absl::StatusOr<MergeDecision> DecideConversionByMerge(
    const Lead& lead, const std::vector<Lead>& opportunities,
    const MergeLeads& command) {
  RETURN_IF_ERROR(internal::RequireActive(lead, "convert"));
  if (lead.kind != LeadKind::kLead) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", lead.id, " is already an opportunity"));
  }
  if (opportunities.empty()) {
    return Invalid("opportunities", "name the opportunities to merge into");
  }
  std::vector<Lead> all = {lead};
  for (const Lead& opportunity : opportunities) {
    if (opportunity.exists && opportunity.kind != LeadKind::kOpportunity) {
      return Invalid("opportunities", absl::StrCat("lead ", opportunity.id,
                                                   " is not an opportunity"));
    }
    all.push_back(opportunity);
  }
  return DecideMerge(all, command);
}

}  // namespace leadledger::domain
