// Predictive probability (SPEC §7): a naive Bayes classifier over the
// outcomes of closed leads, computed as Odoo's CRM computes it.
//
// A FrequencyTable counts, per team and for all teams together, how many won
// and lost leads reached each pipeline stage and carried each value of each
// scoring field. AutomatedProbability scores an open lead against it:
//
//   S_won  = prior(won)  · p(stage | won)  · Π p(value | won)
//   S_lost = prior(lost) · p(stage | lost) · Π p(value | lost)
//   probability = 100 · S_won / (S_won + S_lost)
//
// Everything here is pure: no I/O, no clock, no randomness. Counting is exact
// integer arithmetic, so a table kept up to date by live won / lost / restore
// transitions equals the table rebuilt from the event log.
//
// FrequencyTable is a value type. Like a standard container, const methods
// may run concurrently; a mutation needs exclusive access.
#ifndef LEADLEDGER_DOMAIN_SCORING_H_
#define LEADLEDGER_DOMAIN_SCORING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace leadledger::domain {

// The optional scoring fields, as named in ScoringSettings::fields and
// ScoringLead::field_values. The stage is always used and is not among them.
inline constexpr char kScoringFieldPhoneState[] = "phone_state";
inline constexpr char kScoringFieldEmailState[] = "email_state";
inline constexpr char kScoringFieldCountry[] = "country";
inline constexpr char kScoringFieldState[] = "state";
inline constexpr char kScoringFieldSource[] = "source";
inline constexpr char kScoringFieldLanguage[] = "language";
inline constexpr char kScoringFieldTags[] = "tags";

// Added to every won and lost count when scoring, so that a value never seen
// with one outcome does not force the probability to 0 or 100. Odoo uses 0.1
// rather than Laplace's 1, which would swamp a small history.
inline constexpr double kScoringSmoothing = 0.1;
// A tag seen on fewer closed leads than this (won + lost) is ignored when
// scoring: a rare tag would otherwise weigh as much as a common one.
inline constexpr int64_t kMinTagCount = 50;
// Bounds of the automated probability of an open lead with a stage: only a
// closed lead is certain.
inline constexpr double kMinAutomatedProbability = 0.01;
inline constexpr double kMaxAutomatedProbability = 99.99;

// What the classifier knows about one lead, independent of how the lead is
// stored.
struct ScoringLead {
  // Empty for a lead without a team.
  std::string team_id;
  // Position of the lead's stage in the pipeline, from 0; -1 for no stage.
  int stage_index = -1;
  // Field name -> the lead's values for it: one for most fields, any number
  // for tags. Blank values and repeats are ignored, so a field the lead leaves
  // unset gives no evidence; to have "unset" count as a value (as Odoo does
  // for phone_state and email_state), pass it under a name such as "UNSET".
  absl::flat_hash_map<std::string, std::vector<std::string>> field_values;
  absl::Time create_time = absl::InfinitePast();
};

struct ScoringSettings {
  // Optional fields used besides the stage; see ValidateScoringSettings.
  std::vector<std::string> fields;
  // Closed leads created before this time are not counted.
  absl::Time start_date = absl::InfinitePast();

  bool operator==(const ScoringSettings&) const = default;
};

// Checks that every entry of `settings.fields` is one of the kScoringField*
// names and appears once.
// Errors: INVALID_ARGUMENT starting with "scoring_fields" for an unknown,
// repeated or "stage" entry.
[[nodiscard]] absl::Status ValidateScoringSettings(
    const ScoringSettings& settings);

enum class ClosedOutcome { kWon, kLost };

// How many closed leads were won and lost.
struct OutcomeCounts {
  int64_t won = 0;
  int64_t lost = 0;

  bool operator==(const OutcomeCounts&) const = default;
};

// Won and lost counts per (field, value) and per stage, for each team and for
// all teams together. Holds raw counts: smoothing is applied when scoring.
// Entries whose counts fall back to zero are removed, so uncounting every lead
// that was counted gives a table equal to an empty one.
class FrequencyTable {
 public:
  // Counts a closed lead, under its team and under all teams; a lead without
  // a team counts under all teams only. `settings` must have passed
  // ValidateScoringSettings and `pipeline_stages` is the pipeline's length.
  //
  // Stages are counted as "reached": a won lead counts as won on every stage
  // of the pipeline, a lost lead as lost on its own stage and every earlier
  // one. A stage index past the pipeline counts as its last stage. Each
  // configured field counts the lead's values for it.
  //
  // Not counted at all: a lead created before settings.start_date, and a lead
  // without a stage (or a pipeline of no stages), because the prior is read
  // from the first stage's counts and every counted lead must appear there.
  void CountClosed(const ScoringLead& lead, ClosedOutcome outcome,
                   const ScoringSettings& settings, int pipeline_stages);

  // Exactly undoes CountClosed with the same arguments, as when a lost lead is
  // restored: pass the lead as it was when counted. No count goes below zero.
  void UncountClosed(const ScoringLead& lead, ClosedOutcome outcome,
                     const ScoringSettings& settings, int pipeline_stages);

  // The raw counts of `stage`, or of `value` in `field`, for the leads of
  // `team_id`; an empty `team_id` reads all teams. Zero when never counted.
  OutcomeCounts StageCounts(absl::string_view team_id, int stage) const;
  OutcomeCounts ValueCounts(absl::string_view team_id, absl::string_view field,
                            absl::string_view value) const;

  bool operator==(const FrequencyTable&) const = default;

 private:
  struct FieldCounts {
    absl::flat_hash_map<std::string, OutcomeCounts> values;
    // Sums over the values that take part in scoring (all but the tags seen
    // fewer than kMinTagCount times), kept up to date so that scoring a lead
    // does not walk every value of a field.
    OutcomeCounts scored_total;
    int64_t scored_values = 0;

    bool operator==(const FieldCounts&) const = default;
  };

  // The counts of one team, or of all teams.
  struct Scope {
    absl::flat_hash_map<int, OutcomeCounts> stages;
    absl::flat_hash_map<std::string, FieldCounts> fields;

    bool operator==(const Scope&) const = default;
  };

  void Apply(const ScoringLead& lead, ClosedOutcome outcome,
             const ScoringSettings& settings, int pipeline_stages, int sign);
  const Scope* FindScope(absl::string_view team_id) const;

  friend std::optional<double> AutomatedProbability(
      const FrequencyTable& table, const ScoringLead& lead,
      const ScoringSettings& settings, int pipeline_stages);

  // Keyed by team id; never holds the empty id nor an empty Scope.
  absl::flat_hash_map<std::string, Scope> teams_;
  Scope all_teams_;
};

// The automated probability, in percent, that open `lead` will be won:
//   - 0 if the lead has no stage (or the pipeline has no stages);
//   - std::nullopt if neither the lead's team nor all teams together have a
//     counted lead: the caller keeps the lead's previous probability;
//   - else the naive Bayes estimate over the lead's team's counts, or over all
//     teams' counts when the team has none (or the lead has no team), rounded
//     to 2 decimals and clamped to [kMinAutomatedProbability,
//     kMaxAutomatedProbability].
// A value absent from the table (or a tag under kMinTagCount) gives no
// evidence either way and is skipped, as in Odoo. `settings` and
// `pipeline_stages` should be those the table was counted with.
std::optional<double> AutomatedProbability(const FrequencyTable& table,
                                           const ScoringLead& lead,
                                           const ScoringSettings& settings,
                                           int pipeline_stages);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_SCORING_H_
