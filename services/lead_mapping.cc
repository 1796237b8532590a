#include "services/lead_mapping.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain/lead_decider.h"
#include "google/protobuf/util/time_util.h"

namespace leadledger::services {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr absl::string_view kLeadsCollection = "leads/";

v1::LeadKind ToProto(domain::LeadKind kind) {
  switch (kind) {
    case domain::LeadKind::kLead:
      return v1::LEAD_KIND_LEAD;
    case domain::LeadKind::kOpportunity:
      return v1::LEAD_KIND_OPPORTUNITY;
  }
  return v1::LEAD_KIND_UNSPECIFIED;
}

v1::LeadStatus ToProto(domain::LeadStatus status) {
  switch (status) {
    case domain::LeadStatus::kActive:
      return v1::LEAD_STATUS_ACTIVE;
    case domain::LeadStatus::kLost:
      return v1::LEAD_STATUS_LOST;
    case domain::LeadStatus::kWon:
      return v1::LEAD_STATUS_WON;
    case domain::LeadStatus::kMerged:
      return v1::LEAD_STATUS_MERGED;
  }
  return v1::LEAD_STATUS_UNSPECIFIED;
}

v1::ContactState ToProto(domain::ContactState state) {
  switch (state) {
    case domain::ContactState::kUnset:
      return v1::CONTACT_STATE_UNSPECIFIED;
    case domain::ContactState::kCorrect:
      return v1::CONTACT_STATE_CORRECT;
    case domain::ContactState::kIncorrect:
      return v1::CONTACT_STATE_INCORRECT;
  }
  return v1::CONTACT_STATE_UNSPECIFIED;
}

bool IsIdChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
         c == '-';
}

}  // namespace

domain::LeadProfile ProfileFromProto(const v1::Lead& lead) {
  domain::LeadProfile profile;
  profile.display_name = lead.display_name();
  profile.contact_name = lead.contact_name();
  profile.company_name = lead.company_name();
  profile.email = lead.email();
  profile.phone = lead.phone();
  profile.mobile = lead.mobile();
  profile.website = lead.website();
  profile.job_title = lead.job_title();
  profile.address.street = lead.address().street();
  profile.address.city = lead.address().city();
  profile.address.zip = lead.address().zip();
  profile.address.state = lead.address().state();
  profile.address.country_code = lead.address().country_code();
  profile.language = lead.language();
  profile.source = lead.source();
  profile.tags.insert(lead.tags().begin(), lead.tags().end());
  profile.description = lead.description();
  profile.owner_id = lead.owner_id();
  profile.team_id = lead.team_id();
  profile.priority = lead.priority();
  if (lead.has_expected_revenue()) {
    profile.expected_revenue =
        domain::Money{.amount_minor = lead.expected_revenue().amount_minor(),
                      .currency_code = lead.expected_revenue().currency_code()};
  }
  return profile;
}

void LeadToProto(const domain::Lead& lead, int64_t version, v1::Lead& out) {
  const domain::LeadProfile& profile = lead.profile;
  out.set_name(LeadName(lead.id));
  out.set_kind(ToProto(lead.kind));
  out.set_status(ToProto(lead.status));
  out.set_display_name(profile.display_name);
  out.set_contact_name(profile.contact_name);
  out.set_company_name(profile.company_name);
  out.set_email(profile.email);
  out.set_email_normalized(lead.email_normalized);
  out.set_email_state(ToProto(lead.email_state));
  out.set_phone(profile.phone);
  out.set_mobile(profile.mobile);
  out.set_website(profile.website);
  out.set_job_title(profile.job_title);
  if (profile.address != domain::PostalAddress{}) {
    v1::PostalAddress* address = out.mutable_address();
    address->set_street(profile.address.street);
    address->set_city(profile.address.city);
    address->set_zip(profile.address.zip);
    address->set_state(profile.address.state);
    address->set_country_code(profile.address.country_code);
  }
  out.set_language(profile.language);
  out.set_source(profile.source);
  for (const std::string& tag : profile.tags) out.add_tags(tag);
  out.set_description(profile.description);
  out.set_owner_id(profile.owner_id);
  out.set_team_id(profile.team_id);
  out.set_stage(lead.stage);
  out.set_priority(profile.priority);
  if (profile.expected_revenue.has_value()) {
    out.mutable_expected_revenue()->set_amount_minor(
        profile.expected_revenue->amount_minor);
    out.mutable_expected_revenue()->set_currency_code(
        profile.expected_revenue->currency_code);
  }
  *out.mutable_create_time() =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(lead.create_time));
  *out.mutable_update_time() =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(lead.update_time));
  out.set_etag(absl::StrCat(version));
  out.set_classification(lead.classification);
  out.set_probability(domain::EffectiveProbability(lead));
  out.set_automated_probability(lead.probability.automated);
  if (lead.probability.override_value.has_value()) {
    out.set_probability_override(*lead.probability.override_value);
  }
  out.set_lost_reason(lead.lost_reason);
  out.set_lost_feedback(lead.lost_feedback);
  out.set_customer_id(lead.customer_id);
  if (!lead.merged_into.empty())
    out.set_merged_into(LeadName(lead.merged_into));
  out.set_phone_e164(lead.phone_e164);
  out.set_phone_state(ToProto(lead.phone_state));
  out.set_mobile_e164(lead.mobile_e164);
  out.set_mobile_state(ToProto(lead.mobile_state));
  if (lead.conversion_time.has_value()) {
    *out.mutable_conversion_time() = TimeUtil::NanosecondsToTimestamp(
        absl::ToUnixNanos(*lead.conversion_time));
  }
  if (lead.closed_time.has_value()) {
    *out.mutable_close_time() =
        TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(*lead.closed_time));
  }
}

std::string LeadName(absl::string_view lead_id) {
  return absl::StrCat(kLeadsCollection, lead_id);
}

absl::StatusOr<std::string> LeadIdFromName(absl::string_view field,
                                           absl::string_view name) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", why, "; expected leads/{lead_id}, got \"",
                     name.substr(0, 80), "\""));
  };
  if (name.empty()) return invalid("must not be empty");
  if (!absl::StartsWith(name, kLeadsCollection)) {
    return invalid("not a lead name");
  }
  absl::string_view id = name.substr(kLeadsCollection.size());
  if (id.empty() || id.size() > kMaxLeadIdLength) {
    return invalid(
        absl::StrCat("lead id must be 1 to ", kMaxLeadIdLength, " characters"));
  }
  for (char c : id) {
    if (!IsIdChar(c)) return invalid("lead id may hold only [a-z0-9_-]");
  }
  return std::string(id);
}

}  // namespace leadledger::services
