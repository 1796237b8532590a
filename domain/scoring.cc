#include "domain/scoring.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace leadledger::domain {
namespace {

// Not constexpr: UBSan builds cannot fold a string_view over an array.
const absl::string_view kKnownFields[] = {
    kScoringFieldPhoneState, kScoringFieldEmailState, kScoringFieldCountry,
    kScoringFieldState,      kScoringFieldSource,     kScoringFieldLanguage,
    kScoringFieldTags,
};

// The stage the lead is counted and scored on, or -1 for none.
int EffectiveStage(int stage_index, int pipeline_stages) {
  if (stage_index < 0 || pipeline_stages <= 0) return -1;
  return std::min(stage_index, pipeline_stages - 1);
}

bool IsScored(absl::string_view field, const OutcomeCounts& counts) {
  return field != kScoringFieldTags || counts.won + counts.lost >= kMinTagCount;
}

// The lead's values for `field` without blanks and repeats: each must count
// once, whatever the caller passed.
std::vector<absl::string_view> DistinctValues(const ScoringLead& lead,
                                              absl::string_view field) {
  std::vector<absl::string_view> values;
  auto it = lead.field_values.find(field);
  if (it == lead.field_values.end()) return values;
  for (const std::string& value : it->second) {
    if (!value.empty()) values.push_back(value);
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// Adds `sign` to the won or the lost count, never going below zero.
void Add(OutcomeCounts& counts, ClosedOutcome outcome, int sign) {
  int64_t& count = outcome == ClosedOutcome::kWon ? counts.won : counts.lost;
  count = std::max<int64_t>(0, count + sign);
}

bool IsZero(const OutcomeCounts& counts) {
  return counts.won == 0 && counts.lost == 0;
}

// log(count + smoothing) - log(total): the smoothed log-likelihood of a value.
double LogShare(int64_t count, double total) {
  return std::log(static_cast<double>(count) + kScoringSmoothing) -
         std::log(total);
}

}  // namespace

absl::Status ValidateScoringSettings(const ScoringSettings& settings) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& field : settings.fields) {
    if (field == "stage") {
      return absl::InvalidArgumentError(
          "scoring_fields: \"stage\" is always used; do not list it");
    }
    if (std::find(std::begin(kKnownFields), std::end(kKnownFields), field) ==
        std::end(kKnownFields)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scoring_fields: unknown field \"", field, "\"; expected one of ",
          absl::StrJoin(kKnownFields, ", ")));
    }
    if (!seen.insert(field).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("scoring_fields: \"", field, "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

void FrequencyTable::CountClosed(const ScoringLead& lead, ClosedOutcome outcome,
                                 const ScoringSettings& settings,
                                 int pipeline_stages) {
  Apply(lead, outcome, settings, pipeline_stages, +1);
}

void FrequencyTable::UncountClosed(const ScoringLead& lead,
                                   ClosedOutcome outcome,
                                   const ScoringSettings& settings,
                                   int pipeline_stages) {
  Apply(lead, outcome, settings, pipeline_stages, -1);
}

void FrequencyTable::Apply(const ScoringLead& lead, ClosedOutcome outcome,
                           const ScoringSettings& settings, int pipeline_stages,
                           int sign) {
  if (lead.create_time < settings.start_date) return;
  const int stage = EffectiveStage(lead.stage_index, pipeline_stages);
  if (stage < 0) return;
  const int last_stage =
      outcome == ClosedOutcome::kWon ? pipeline_stages - 1 : stage;

  auto apply_to = [&](Scope& scope) {
    for (int s = 0; s <= last_stage; ++s) {
      OutcomeCounts& counts = scope.stages[s];
      Add(counts, outcome, sign);
      if (IsZero(counts)) scope.stages.erase(s);
    }
    for (const std::string& field : settings.fields) {
      std::vector<absl::string_view> values = DistinctValues(lead, field);
      if (values.empty()) continue;
      FieldCounts& field_counts = scope.fields[field];
      for (absl::string_view value : values) {
        auto [it, inserted] = field_counts.values.try_emplace(value);
        OutcomeCounts& counts = it->second;
        // Take the value out of the totals, change it, and put it back only if
        // it still takes part in scoring: a tag may cross kMinTagCount.
        if (!inserted && IsScored(field, counts)) {
          field_counts.scored_total.won -= counts.won;
          field_counts.scored_total.lost -= counts.lost;
          --field_counts.scored_values;
        }
        Add(counts, outcome, sign);
        if (IsZero(counts)) {
          field_counts.values.erase(it);
        } else if (IsScored(field, counts)) {
          field_counts.scored_total.won += counts.won;
          field_counts.scored_total.lost += counts.lost;
          ++field_counts.scored_values;
        }
      }
      if (field_counts.values.empty()) scope.fields.erase(field);
    }
  };

  apply_to(all_teams_);
  if (lead.team_id.empty()) return;
  Scope& team = teams_[lead.team_id];
  apply_to(team);
  if (team.stages.empty() && team.fields.empty()) teams_.erase(lead.team_id);
}

const FrequencyTable::Scope* FrequencyTable::FindScope(
    absl::string_view team_id) const {
  if (team_id.empty()) return &all_teams_;
  auto it = teams_.find(team_id);
  return it == teams_.end() ? nullptr : &it->second;
}

OutcomeCounts FrequencyTable::StageCounts(absl::string_view team_id,
                                          int stage) const {
  const Scope* scope = FindScope(team_id);
  if (scope == nullptr) return {};
  auto it = scope->stages.find(stage);
  return it == scope->stages.end() ? OutcomeCounts{} : it->second;
}

OutcomeCounts FrequencyTable::ValueCounts(absl::string_view team_id,
                                          absl::string_view field,
                                          absl::string_view value) const {
  const Scope* scope = FindScope(team_id);
  if (scope == nullptr) return {};
  auto field_it = scope->fields.find(field);
  if (field_it == scope->fields.end()) return {};
  auto value_it = field_it->second.values.find(value);
  return value_it == field_it->second.values.end() ? OutcomeCounts{}
                                                   : value_it->second;
}

std::optional<double> AutomatedProbability(const FrequencyTable& table,
                                           const ScoringLead& lead,
                                           const ScoringSettings& settings,
                                           int pipeline_stages) {
  const int stage = EffectiveStage(lead.stage_index, pipeline_stages);
  if (stage < 0) return 0.0;

  // Every counted lead is counted on the first stage, so a scope has data
  // exactly when its first stage has counts.
  const FrequencyTable::Scope* scope = table.FindScope(lead.team_id);
  if (scope == nullptr || !scope->stages.contains(0)) scope = &table.all_teams_;
  auto first = scope->stages.find(0);
  if (first == scope->stages.end()) return std::nullopt;

  // The first stage's counts are the numbers of won and lost leads (each
  // counted lead appears there exactly once), so, as in Odoo, they give both
  // the prior and the stage likelihoods' denominators:
  //   prior(won) = W0 / (W0 + L0),  p(stage s | won) = W_s / W0,
  // where W_s is the smoothed won count of stage s, and the same for lost.
  // p(stage | won) is thus the share of won leads that reached the stage.
  const double won_total =
      static_cast<double>(first->second.won) + kScoringSmoothing;
  const double lost_total =
      static_cast<double>(first->second.lost) + kScoringSmoothing;

  // log(S_won / S_lost), summed in log space: a product of many small
  // likelihoods underflows to 0 long before the ratio is extreme.
  double log_odds = std::log(won_total) - std::log(lost_total);
  if (auto it = scope->stages.find(stage); it != scope->stages.end()) {
    log_odds += LogShare(it->second.won, won_total) -
                LogShare(it->second.lost, lost_total);
  }
  for (const std::string& field : settings.fields) {
    auto field_it = scope->fields.find(field);
    if (field_it == scope->fields.end()) continue;
    const FrequencyTable::FieldCounts& counts = field_it->second;
    // Each field's likelihoods are shares of its own totals: a lead leaving
    // the field blank is not counted in it.
    const double smoothing =
        kScoringSmoothing * static_cast<double>(counts.scored_values);
    const double field_won =
        static_cast<double>(counts.scored_total.won) + smoothing;
    const double field_lost =
        static_cast<double>(counts.scored_total.lost) + smoothing;
    for (absl::string_view value : DistinctValues(lead, field)) {
      auto value_it = counts.values.find(value);
      if (value_it == counts.values.end() ||
          !IsScored(field, value_it->second)) {
        continue;
      }
      log_odds += LogShare(value_it->second.won, field_won) -
                  LogShare(value_it->second.lost, field_lost);
    }
  }

  // S_won / (S_won + S_lost) = 1 / (1 + e^-log_odds); for extreme odds e^x
  // overflows to infinity and the quotient to 0, never to NaN.
  const double percent = 100.0 / (1.0 + std::exp(-log_odds));
  const double rounded = std::round(percent * 100.0) / 100.0;
  return std::clamp(rounded, kMinAutomatedProbability,
                    kMaxAutomatedProbability);
}

}  // namespace leadledger::domain
