#include "projections/event_codec.h"

#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "domain/overloaded.h"
#include "google/protobuf/util/time_util.h"
#include "leadledger/events/v1/lead_events.pb.h"

namespace leadledger::projections {
namespace {

namespace pb = ::leadledger::events::v1;
using ::google::protobuf::util::TimeUtil;

constexpr char kLeadCreated[] = "LeadCreated";

pb::LeadKind ToProto(domain::LeadKind kind) {
  switch (kind) {
    case domain::LeadKind::kLead:
      return pb::LEAD_KIND_LEAD;
    case domain::LeadKind::kOpportunity:
      return pb::LEAD_KIND_OPPORTUNITY;
  }
  return pb::LEAD_KIND_UNSPECIFIED;
}

absl::StatusOr<domain::LeadKind> FromProto(pb::LeadKind kind) {
  switch (kind) {
    case pb::LEAD_KIND_LEAD:
      return domain::LeadKind::kLead;
    case pb::LEAD_KIND_OPPORTUNITY:
      return domain::LeadKind::kOpportunity;
    default:
      return absl::DataLossError(absl::StrCat("unknown lead kind ", kind));
  }
}

pb::ContactState ToProto(domain::ContactState state) {
  switch (state) {
    case domain::ContactState::kUnset:
      return pb::CONTACT_STATE_UNSPECIFIED;
    case domain::ContactState::kCorrect:
      return pb::CONTACT_STATE_CORRECT;
    case domain::ContactState::kIncorrect:
      return pb::CONTACT_STATE_INCORRECT;
  }
  return pb::CONTACT_STATE_UNSPECIFIED;
}

absl::StatusOr<domain::ContactState> FromProto(pb::ContactState state) {
  switch (state) {
    case pb::CONTACT_STATE_UNSPECIFIED:
      return domain::ContactState::kUnset;
    case pb::CONTACT_STATE_CORRECT:
      return domain::ContactState::kCorrect;
    case pb::CONTACT_STATE_INCORRECT:
      return domain::ContactState::kIncorrect;
    default:
      return absl::DataLossError(absl::StrCat("unknown contact state ", state));
  }
}

google::protobuf::Timestamp ToProto(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

absl::Time FromProto(const google::protobuf::Timestamp& time) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(time));
}

pb::LeadCreated ToProto(const domain::LeadCreated& created) {
  pb::LeadCreated out;
  const domain::LeadProfile& profile = created.profile;
  out.set_lead_id(created.lead_id);
  out.set_kind(ToProto(created.kind));
  out.set_stage(created.stage);
  out.set_display_name(profile.display_name);
  out.set_contact_name(profile.contact_name);
  out.set_company_name(profile.company_name);
  out.set_email(profile.email);
  out.set_email_normalized(created.email_normalized);
  out.set_email_state(ToProto(created.email_state));
  out.set_phone(profile.phone);
  out.set_mobile(profile.mobile);
  out.set_website(profile.website);
  out.set_job_title(profile.job_title);
  pb::Address* address = out.mutable_address();
  address->set_street(profile.address.street);
  address->set_city(profile.address.city);
  address->set_zip(profile.address.zip);
  address->set_state(profile.address.state);
  address->set_country_code(profile.address.country_code);
  out.set_language(profile.language);
  out.set_source(profile.source);
  for (const std::string& tag : profile.tags) out.add_tags(tag);
  out.set_description(profile.description);
  out.set_owner_id(profile.owner_id);
  out.set_team_id(profile.team_id);
  out.set_priority(profile.priority);
  if (profile.expected_revenue.has_value()) {
    out.mutable_expected_revenue()->set_amount_minor(
        profile.expected_revenue->amount_minor);
    out.mutable_expected_revenue()->set_currency_code(
        profile.expected_revenue->currency_code);
  }
  *out.mutable_create_time() = ToProto(created.create_time);
  return out;
}

absl::StatusOr<domain::LeadCreated> FromProto(pb::LeadCreated in) {
  domain::LeadCreated created;
  created.lead_id = std::move(*in.mutable_lead_id());
  absl::StatusOr<domain::LeadKind> kind = FromProto(in.kind());
  if (!kind.ok()) return kind.status();
  created.kind = *kind;
  created.stage = std::move(*in.mutable_stage());
  domain::LeadProfile& profile = created.profile;
  profile.display_name = std::move(*in.mutable_display_name());
  profile.contact_name = std::move(*in.mutable_contact_name());
  profile.company_name = std::move(*in.mutable_company_name());
  profile.email = std::move(*in.mutable_email());
  created.email_normalized = std::move(*in.mutable_email_normalized());
  absl::StatusOr<domain::ContactState> email_state =
      FromProto(in.email_state());
  if (!email_state.ok()) return email_state.status();
  created.email_state = *email_state;
  profile.phone = std::move(*in.mutable_phone());
  profile.mobile = std::move(*in.mutable_mobile());
  profile.website = std::move(*in.mutable_website());
  profile.job_title = std::move(*in.mutable_job_title());
  pb::Address* address = in.mutable_address();
  profile.address.street = std::move(*address->mutable_street());
  profile.address.city = std::move(*address->mutable_city());
  profile.address.zip = std::move(*address->mutable_zip());
  profile.address.state = std::move(*address->mutable_state());
  profile.address.country_code = std::move(*address->mutable_country_code());
  profile.language = std::move(*in.mutable_language());
  profile.source = std::move(*in.mutable_source());
  for (std::string& tag : *in.mutable_tags()) {
    profile.tags.insert(std::move(tag));
  }
  profile.description = std::move(*in.mutable_description());
  profile.owner_id = std::move(*in.mutable_owner_id());
  profile.team_id = std::move(*in.mutable_team_id());
  profile.priority = in.priority();
  if (in.has_expected_revenue()) {
    profile.expected_revenue = domain::Money{
        .amount_minor = in.expected_revenue().amount_minor(),
        .currency_code =
            std::move(*in.mutable_expected_revenue()->mutable_currency_code())};
  }
  created.create_time = FromProto(in.create_time());
  return created;
}

}  // namespace

eventstore::NewEvent EncodeLeadEvent(const domain::LeadEvent& event,
                                     std::string event_id) {
  eventstore::NewEvent out;
  out.event_id = std::move(event_id);
  std::visit(
      Overloaded{
          [&](const domain::LeadCreated& created) {
            out.type = kLeadCreated;
            out.schema_version = 1;
            out.payload = ToProto(created).SerializeAsString();
          },
      },
      event);
  return out;
}

absl::StatusOr<domain::LeadEvent> DecodeLeadEvent(
    const eventstore::RecordedEvent& recorded) {
  auto unreadable = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(recorded.type, " at position ",
                                            recorded.position, ": ", why));
  };
  if (recorded.type == kLeadCreated && recorded.schema_version == 1) {
    pb::LeadCreated payload;
    if (!payload.ParseFromString(recorded.payload)) {
      return unreadable("payload does not parse");
    }
    absl::StatusOr<domain::LeadCreated> created = FromProto(std::move(payload));
    if (!created.ok()) return unreadable(created.status().message());
    return domain::LeadEvent(*std::move(created));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("event at position ", recorded.position, " has type ",
                   recorded.type, " schema ", recorded.schema_version,
                   ", unknown to this build (written by a newer version?)"));
}

}  // namespace leadledger::projections
