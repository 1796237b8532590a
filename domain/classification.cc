#include "domain/classification.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/lead.h"

namespace leadledger::domain {
namespace {

Outcome Classifying(std::string id, std::string label, int days, int rank) {
  std::string tag = label;
  return Outcome{.id = std::move(id),
                 .label = std::move(label),
                 .classifies = true,
                 .tag = std::move(tag),
                 .follow_up_days = days,
                 .rank = rank};
}

Outcome NonClassifying(std::string id, std::string label,
                       std::optional<int> days) {
  return Outcome{
      .id = std::move(id), .label = std::move(label), .follow_up_days = days};
}

absl::Status Invalid(size_t index, absl::string_view field,
                     absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(
      "classification_catalogue[", index, "].", field, ": ", problem));
}

bool IsOutcomeId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxOutcomeIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

bool IsBlank(absl::string_view text) {
  return absl::StripAsciiWhitespace(text).empty();
}

absl::Status ValidateTag(size_t index, const Outcome& outcome) {
  if (!outcome.classifies) {
    if (!outcome.tag.empty()) {
      return Invalid(index, "tag",
                     "must be empty for an outcome that does not classify");
    }
    return absl::OkStatus();
  }
  if (IsBlank(outcome.tag)) {
    return Invalid(index, "tag", "required for a classifying outcome");
  }
  if (absl::StripAsciiWhitespace(outcome.tag).size() != outcome.tag.size()) {
    return Invalid(index, "tag", "must not start or end with blanks");
  }
  if (outcome.tag.size() > kMaxTagLength) {
    return Invalid(index, "tag",
                   absl::StrCat("longer than ", kMaxTagLength, " bytes (",
                                outcome.tag.size(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateOutcome(size_t index, const Outcome& outcome) {
  if (!IsOutcomeId(outcome.id)) {
    return Invalid(
        index, "id",
        absl::StrCat("must be 1 to ", kMaxOutcomeIdLength,
                     " characters of [A-Z0-9_], got \"",
                     outcome.id.substr(0, kMaxOutcomeIdLength), "\""));
  }
  if (IsBlank(outcome.label)) {
    return Invalid(index, "label", "must not be empty");
  }
  if (outcome.label.size() > kMaxNameLength) {
    return Invalid(index, "label",
                   absl::StrCat("longer than ", kMaxNameLength, " bytes (",
                                outcome.label.size(), ")"));
  }
  if (absl::Status status = ValidateTag(index, outcome); !status.ok()) {
    return status;
  }
  if (outcome.follow_up_days.has_value() &&
      (*outcome.follow_up_days < 0 ||
       *outcome.follow_up_days > kMaxFollowUpDays)) {
    return Invalid(index, "follow_up_days",
                   absl::StrCat("must be 0 to ", kMaxFollowUpDays, ", got ",
                                *outcome.follow_up_days));
  }
  return absl::OkStatus();
}

// The first instant whose civil day in `zone` is `day`. Midnight itself may
// not exist: where clocks jump forward at midnight (America/Santiago), the
// day begins at the transition, and the pre-transition reading of a skipped
// time lands after it whenever the gap does not start exactly at midnight.
absl::Time StartOfDay(absl::CivilDay day, const absl::TimeZone& zone) {
  const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(day));
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) return info.trans;
  // Unique or repeated: the earlier reading, so the day starts at its first
  // midnight.
  return info.pre;
}

}  // namespace

Catalogue DefaultCatalogue() {
  return {
      Classifying("POTENTIAL_CONSULTANT", "Potential consultant", 7, 0),
      Classifying("HOT_PROSPECT", "Hot prospect", 14, 1),
      Classifying("THERE_IS_A_CHANCE", "There's a chance", 30, 2),
      Classifying("ON_THE_FENCE", "On the fence", 60, 3),
      NonClassifying("NOT_SURE_YET", "Not sure yet", 14),
      NonClassifying("NOT_INTERESTED", "Not interested", std::nullopt),
  };
}

absl::Status ValidateCatalogue(const Catalogue& catalogue) {
  if (catalogue.empty()) {
    return absl::InvalidArgumentError(
        "classification_catalogue: must have at least one outcome");
  }
  if (catalogue.size() > kMaxOutcomes) {
    return absl::InvalidArgumentError(
        absl::StrCat("classification_catalogue: at most ", kMaxOutcomes,
                     " outcomes, got ", catalogue.size()));
  }
  // Where each id and tag was first seen, to name both entries of a clash.
  absl::flat_hash_map<absl::string_view, size_t> ids;
  absl::flat_hash_map<absl::string_view, size_t> tags;
  for (size_t i = 0; i < catalogue.size(); ++i) {
    const Outcome& outcome = catalogue[i];
    if (absl::Status status = ValidateOutcome(i, outcome); !status.ok()) {
      return status;
    }
    if (auto [it, inserted] = ids.try_emplace(outcome.id, i); !inserted) {
      return Invalid(
          i, "id",
          absl::StrCat("\"", outcome.id, "\" repeats entry ", it->second));
    }
    if (!outcome.classifies) continue;
    if (auto [it, inserted] = tags.try_emplace(outcome.tag, i); !inserted) {
      return Invalid(
          i, "tag",
          absl::StrCat("\"", outcome.tag, "\" repeats entry ", it->second));
    }
  }
  return absl::OkStatus();
}

const Outcome* FindOutcome(const Catalogue& catalogue, absl::string_view id) {
  for (const Outcome& outcome : catalogue) {
    if (outcome.id == id) return &outcome;
  }
  return nullptr;
}

int TaskPriority(const Catalogue& catalogue,
                 absl::string_view classification_id) {
  const Outcome* classification = FindOutcome(catalogue, classification_id);
  if (classification == nullptr || !classification->classifies) return 0;
  // Counting the less urgent outcomes, rather than using the rank itself,
  // keeps the scale dense and positive whatever ranks a workspace picks.
  int priority = 1;
  for (const Outcome& outcome : catalogue) {
    if (outcome.classifies && outcome.rank > classification->rank) ++priority;
  }
  return priority;
}

FollowUpDue ComputeFollowUpDue(absl::Time now, const absl::TimeZone& owner_zone,
                               int days, bool skip_weekends) {
  absl::CivilDay day = absl::ToCivilDay(now, owner_zone) + days;
  if (skip_weekends) {
    switch (absl::GetWeekday(day)) {
      case absl::Weekday::saturday:
        day += 2;
        break;
      case absl::Weekday::sunday:
        day += 1;
        break;
      default:
        break;
    }
  }
  return FollowUpDue{.day = day, .time = StartOfDay(day, owner_zone)};
}

}  // namespace leadledger::domain
