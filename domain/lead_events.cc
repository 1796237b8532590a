#include "domain/lead_events.h"

#include <array>
#include <utility>

#include "domain/overloaded.h"

namespace leadledger::domain {
namespace {

constexpr std::array<std::pair<LeadField, absl::string_view>, 18> kFieldNames =
    {{
        {LeadField::kDisplayName, "display_name"},
        {LeadField::kContactName, "contact_name"},
        {LeadField::kCompanyName, "company_name"},
        {LeadField::kEmail, "email"},
        {LeadField::kPhone, "phone"},
        {LeadField::kMobile, "mobile"},
        {LeadField::kWebsite, "website"},
        {LeadField::kJobTitle, "job_title"},
        {LeadField::kAddress, "address"},
        {LeadField::kLanguage, "language"},
        {LeadField::kSource, "source"},
        {LeadField::kTags, "tags"},
        {LeadField::kDescription, "description"},
        {LeadField::kOwner, "owner_id"},
        {LeadField::kTeam, "team_id"},
        {LeadField::kPriority, "priority"},
        {LeadField::kExpectedRevenue, "expected_revenue"},
        {LeadField::kStage, "stage"},
    }};

}  // namespace

absl::string_view LeadFieldName(LeadField field) {
  for (const auto& [candidate, name] : kFieldNames) {
    if (candidate == field) return name;
  }
  return "";
}

std::optional<LeadField> LeadFieldFromName(absl::string_view name) {
  for (const auto& [field, candidate] : kFieldNames) {
    if (candidate == name) return field;
  }
  return std::nullopt;
}

absl::Time TimeOf(const LeadEvent& event) {
  return std::visit([](const auto& e) { return e.time; }, event);
}

const Task* Lead::OpenAutomaticFollowUp() const {
  for (const auto& [id, task] : open_tasks) {
    if (task.automatic) return &task;
  }
  return nullptr;
}

}  // namespace leadledger::domain
