// Workspace settings (SPEC §2 and the configurable parts of §3-§8) as plain
// values. Commands carry the settings in force, so decisions stay pure.
#ifndef LEADLEDGER_DOMAIN_WORKSPACE_H_
#define LEADLEDGER_DOMAIN_WORKSPACE_H_

#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "domain/classification.h"
#include "domain/scoring.h"

namespace leadledger::domain {

struct WorkspaceSettings {
  // With leads enabled new records start as leads; otherwise as
  // opportunities (SPEC §2).
  bool leads_enabled = true;
  // The opportunity pipeline, in order; never empty. The last stage is the
  // one won opportunities take.
  std::vector<std::string> pipeline_stages = {"New", "Qualified", "Proposition",
                                              "Won"};
  // Classification and task outcomes (SPEC §3).
  Catalogue catalogue = DefaultCatalogue();
  // Reasons a lead may be marked lost with; empty allows none.
  std::vector<std::string> lost_reasons = {
      "Too expensive", "Not interested anymore", "Went with a competitor",
      "Unreachable"};
  // Region for phone numbers whose lead has no country (ISO 3166-1 alpha-2).
  std::string default_country;
  // Move follow-ups that fall on a Saturday or Sunday to the Monday after.
  bool skip_weekends = false;
  // Fields and start date of the predictive probability (SPEC §7).
  ScoringSettings scoring;

  bool operator==(const WorkspaceSettings&) const = default;
};

// --- The workspace decider: the stream "workspace" holds these events ---

enum class WorkspaceSetting {
  kLeadsEnabled,
  kCatalogue,
  kLostReasons,
  kPipeline,
  kScoring,
  kWeekendRule,
  kDefaultCountry,
};

struct LeadsEnabledChanged {
  bool leads_enabled = true;
  absl::Time time;
  bool operator==(const LeadsEnabledChanged&) const = default;
};
struct CatalogueChanged {
  Catalogue catalogue;
  absl::Time time;
  bool operator==(const CatalogueChanged&) const = default;
};
struct LostReasonsChanged {
  std::vector<std::string> lost_reasons;
  absl::Time time;
  bool operator==(const LostReasonsChanged&) const = default;
};
struct PipelineChanged {
  std::vector<std::string> pipeline_stages;
  absl::Time time;
  bool operator==(const PipelineChanged&) const = default;
};
struct ScoringChanged {
  ScoringSettings scoring;
  absl::Time time;
  bool operator==(const ScoringChanged&) const = default;
};
struct WeekendRuleChanged {
  bool skip_weekends = false;
  absl::Time time;
  bool operator==(const WeekendRuleChanged&) const = default;
};
struct DefaultCountryChanged {
  std::string default_country;
  absl::Time time;
  bool operator==(const DefaultCountryChanged&) const = default;
};

using WorkspaceEvent =
    std::variant<LeadsEnabledChanged, CatalogueChanged, LostReasonsChanged,
                 PipelineChanged, ScoringChanged, WeekendRuleChanged,
                 DefaultCountryChanged>;

// Set the settings named in `fields` to their values in `values`.
struct UpdateWorkspaceSettings {
  std::set<WorkspaceSetting> fields;
  WorkspaceSettings values;
  absl::Time now;
};

inline constexpr size_t kMaxPipelineStages = 20;
inline constexpr size_t kMaxLostReasons = 100;

// One event per named setting whose value changes; none when nothing does.
// Changing a setting never touches existing records (SPEC §2).
// Errors: INVALID_ARGUMENT naming the setting ("pipeline_stages[1]: ..."),
// among them a default_country that is not 2 letters or not a country of the
// phone numbering plan.
[[nodiscard]] absl::StatusOr<std::vector<WorkspaceEvent>> DecideWorkspace(
    const WorkspaceSettings& current, const UpdateWorkspaceSettings& command);

[[nodiscard]] WorkspaceSettings EvolveWorkspace(WorkspaceSettings settings,
                                                const WorkspaceEvent& event);

// Index of `stage` in the pipeline; -1 when it is not a stage of it.
int StageIndex(const WorkspaceSettings& settings, const std::string& stage);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_WORKSPACE_H_
