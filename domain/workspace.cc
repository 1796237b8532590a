#include "domain/workspace.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "domain/lead.h"
#include "domain/overloaded.h"
#include "domain/phone.h"
#include "domain/status_macros.h"

namespace leadledger::domain {
namespace {

// Trims every entry of `names` and checks it holds 1 to `max_entries`
// distinct, non-blank names of at most kMaxNameLength bytes.
absl::Status CanonicalNames(absl::string_view field,
                            std::vector<std::string>& names, size_t min_entries,
                            size_t max_entries) {
  if (names.size() < min_entries || names.size() > max_entries) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", min_entries, " to ", max_entries,
                     " entries, got ", names.size()));
  }
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    names[i] = std::string(absl::StripAsciiWhitespace(names[i]));
    const std::string entry = absl::StrCat(field, "[", i, "]");
    if (names[i].empty() || names[i].size() > kMaxNameLength) {
      return absl::InvalidArgumentError(
          absl::StrCat(entry, ": must be 1 to ", kMaxNameLength, " bytes"));
    }
    if (!seen.insert(names[i]).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(entry, ": \"", names[i], "\" appears twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int StageIndex(const WorkspaceSettings& settings, const std::string& stage) {
  for (size_t i = 0; i < settings.pipeline_stages.size(); ++i) {
    if (settings.pipeline_stages[i] == stage) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<std::vector<WorkspaceEvent>> DecideWorkspace(
    const WorkspaceSettings& current, const UpdateWorkspaceSettings& command) {
  if (command.fields.empty()) {
    return absl::InvalidArgumentError("update_mask: names no setting");
  }
  WorkspaceSettings next = command.values;
  std::vector<WorkspaceEvent> events;
  const absl::Time now = command.now;
  for (WorkspaceSetting field : command.fields) {
    switch (field) {
      case WorkspaceSetting::kLeadsEnabled:
        if (next.leads_enabled != current.leads_enabled) {
          events.push_back(LeadsEnabledChanged{next.leads_enabled, now});
        }
        break;
      case WorkspaceSetting::kCatalogue:
        RETURN_IF_ERROR(ValidateCatalogue(next.catalogue));
        if (next.catalogue != current.catalogue) {
          events.push_back(CatalogueChanged{next.catalogue, now});
        }
        break;
      case WorkspaceSetting::kLostReasons:
        RETURN_IF_ERROR(CanonicalNames("lost_reasons", next.lost_reasons, 0,
                                       kMaxLostReasons));
        if (next.lost_reasons != current.lost_reasons) {
          events.push_back(LostReasonsChanged{next.lost_reasons, now});
        }
        break;
      case WorkspaceSetting::kPipeline:
        RETURN_IF_ERROR(CanonicalNames("pipeline_stages", next.pipeline_stages,
                                       1, kMaxPipelineStages));
        if (next.pipeline_stages != current.pipeline_stages) {
          events.push_back(PipelineChanged{next.pipeline_stages, now});
        }
        break;
      case WorkspaceSetting::kScoring:
        RETURN_IF_ERROR(ValidateScoringSettings(next.scoring));
        if (next.scoring != current.scoring) {
          events.push_back(ScoringChanged{next.scoring, now});
        }
        break;
      case WorkspaceSetting::kWeekendRule:
        if (next.skip_weekends != current.skip_weekends) {
          events.push_back(WeekendRuleChanged{next.skip_weekends, now});
        }
        break;
      case WorkspaceSetting::kDefaultCountry: {
        std::string country = absl::AsciiStrToUpper(
            absl::StripAsciiWhitespace(next.default_country));
        if (!country.empty() &&
            (country.size() != 2 || !absl::ascii_isupper(country[0]) ||
             !absl::ascii_isupper(country[1]))) {
          return absl::InvalidArgumentError(
              absl::StrCat("default_country: must be 2 ASCII letters, got \"",
                           country, "\""));
        }
        // An unknown region would make every national number typed without
        // a country read as incorrect.
        if (!country.empty() && !IsPhoneRegion(country)) {
          return absl::InvalidArgumentError(
              absl::StrCat("default_country: \"", country,
                           "\" is not a country of the phone numbering plan"));
        }
        if (country != current.default_country) {
          events.push_back(DefaultCountryChanged{std::move(country), now});
        }
        break;
      }
    }
  }
  return events;
}

WorkspaceSettings EvolveWorkspace(WorkspaceSettings settings,
                                  const WorkspaceEvent& event) {
  std::visit(
      Overloaded{
          [&](const LeadsEnabledChanged& e) {
            settings.leads_enabled = e.leads_enabled;
          },
          [&](const CatalogueChanged& e) { settings.catalogue = e.catalogue; },
          [&](const LostReasonsChanged& e) {
            settings.lost_reasons = e.lost_reasons;
          },
          [&](const PipelineChanged& e) {
            settings.pipeline_stages = e.pipeline_stages;
          },
          [&](const ScoringChanged& e) { settings.scoring = e.scoring; },
          [&](const WeekendRuleChanged& e) {
            settings.skip_weekends = e.skip_weekends;
          },
          [&](const DefaultCountryChanged& e) {
            settings.default_country = e.default_country;
          },
      },
      event);
  return settings;
}

}  // namespace leadledger::domain
