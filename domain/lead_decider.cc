#include "domain/lead_decider.h"

#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "domain/contact.h"
#include "domain/overloaded.h"
#include "domain/status_macros.h"

namespace leadledger::domain {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
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

absl::StatusOr<std::vector<LeadEvent>> DecideCreate(const Lead& state,
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
  NormalizedEmail email = NormalizeEmail(profile.email);

  LeadCreated created;
  created.lead_id = command.lead_id;
  if (command.settings.leads_enabled) {
    created.kind = LeadKind::kLead;
  } else {
    created.kind = LeadKind::kOpportunity;
    created.stage = command.settings.pipeline_stages.front();
  }
  created.profile = std::move(profile);
  created.email_normalized = std::move(email.normalized);
  created.email_state = email.state;
  created.create_time = command.now;
  return std::vector<LeadEvent>{std::move(created)};
}

}  // namespace

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
          [&](const CreateLead& create) { return DecideCreate(state, create); },
      },
      command);
}

Lead Evolve(Lead state, const LeadEvent& event) {
  std::visit(
      Overloaded{
          [&](const LeadCreated& created) {
            state.exists = true;
            state.id = created.lead_id;
            state.kind = created.kind;
            state.status = LeadStatus::kActive;
            state.stage = created.stage;
            state.profile = created.profile;
            state.email_normalized = created.email_normalized;
            state.email_state = created.email_state;
            state.create_time = created.create_time;
            state.update_time = created.create_time;
          },
      },
      event);
  return state;
}

}  // namespace leadledger::domain
