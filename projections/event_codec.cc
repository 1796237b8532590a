#include "projections/event_codec.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "domain/overloaded.h"
#include "domain/status_macros.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/message_lite.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "leadledger/events/v1/customer_events.pb.h"
#include "leadledger/events/v1/lead_events.pb.h"
#include "leadledger/events/v1/workspace_events.pb.h"
#include "leadledger/projections/v1/rows.pb.h"

namespace leadledger::projections {
namespace {

namespace pb = ::leadledger::events::v1;
using ::google::protobuf::Timestamp;
using ::google::protobuf::util::TimeUtil;

// How one event type is stored: the envelope's type and schema version.
struct StoredType {
  absl::string_view type;
  uint32_t schema_version;
};

constexpr StoredType kLeadCreated{"LeadCreated", 1};
constexpr StoredType kLeadUpdated{"LeadUpdated", 1};
constexpr StoredType kLeadClassified{"LeadClassified", 1};
constexpr StoredType kLeadClassificationCleared{"LeadClassificationCleared", 1};
constexpr StoredType kLeadConverted{"LeadConverted", 1};
constexpr StoredType kCustomerLinked{"CustomerLinked", 1};
constexpr StoredType kLeadsMerged{"LeadsMerged", 1};
constexpr StoredType kLeadMergedInto{"LeadMergedInto", 1};
constexpr StoredType kLeadLost{"LeadLost", 1};
constexpr StoredType kLeadRestored{"LeadRestored", 1};
constexpr StoredType kLeadWon{"LeadWon", 1};
constexpr StoredType kProbabilityOverridden{"ProbabilityOverridden", 1};
constexpr StoredType kProbabilityOverrideCleared{"ProbabilityOverrideCleared",
                                                 1};
constexpr StoredType kAutomatedProbabilityChanged{"AutomatedProbabilityChanged",
                                                  1};
constexpr StoredType kTaskScheduled{"TaskScheduled", 1};
constexpr StoredType kTaskCompleted{"TaskCompleted", 1};
constexpr StoredType kTaskCancelled{"TaskCancelled", 1};
constexpr StoredType kTaskDue{"TaskDue", 1};
constexpr StoredType kCustomerCreated{"CustomerCreated", 1};
constexpr StoredType kLeadsEnabledChanged{"LeadsEnabledChanged", 1};
constexpr StoredType kCatalogueChanged{"CatalogueChanged", 1};
constexpr StoredType kLostReasonsChanged{"LostReasonsChanged", 1};
constexpr StoredType kPipelineChanged{"PipelineChanged", 1};
constexpr StoredType kScoringChanged{"ScoringChanged", 1};
constexpr StoredType kWeekendRuleChanged{"WeekendRuleChanged", 1};
constexpr StoredType kDefaultCountryChanged{"DefaultCountryChanged", 1};

// Enums. The domain-to-proto direction switches without a default, so the
// compiler flags a new domain value; the other direction refuses any value
// this build never writes (UNSPECIFIED included) as corrupt.

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

// The one enum whose zero value is meaningful: an empty field is unset.
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

pb::LeadField ToProto(domain::LeadField field) {
  switch (field) {
    case domain::LeadField::kDisplayName:
      return pb::LEAD_FIELD_DISPLAY_NAME;
    case domain::LeadField::kContactName:
      return pb::LEAD_FIELD_CONTACT_NAME;
    case domain::LeadField::kCompanyName:
      return pb::LEAD_FIELD_COMPANY_NAME;
    case domain::LeadField::kEmail:
      return pb::LEAD_FIELD_EMAIL;
    case domain::LeadField::kPhone:
      return pb::LEAD_FIELD_PHONE;
    case domain::LeadField::kMobile:
      return pb::LEAD_FIELD_MOBILE;
    case domain::LeadField::kWebsite:
      return pb::LEAD_FIELD_WEBSITE;
    case domain::LeadField::kJobTitle:
      return pb::LEAD_FIELD_JOB_TITLE;
    case domain::LeadField::kAddress:
      return pb::LEAD_FIELD_ADDRESS;
    case domain::LeadField::kLanguage:
      return pb::LEAD_FIELD_LANGUAGE;
    case domain::LeadField::kSource:
      return pb::LEAD_FIELD_SOURCE;
    case domain::LeadField::kTags:
      return pb::LEAD_FIELD_TAGS;
    case domain::LeadField::kDescription:
      return pb::LEAD_FIELD_DESCRIPTION;
    case domain::LeadField::kOwner:
      return pb::LEAD_FIELD_OWNER;
    case domain::LeadField::kTeam:
      return pb::LEAD_FIELD_TEAM;
    case domain::LeadField::kPriority:
      return pb::LEAD_FIELD_PRIORITY;
    case domain::LeadField::kExpectedRevenue:
      return pb::LEAD_FIELD_EXPECTED_REVENUE;
    case domain::LeadField::kStage:
      return pb::LEAD_FIELD_STAGE;
  }
  return pb::LEAD_FIELD_UNSPECIFIED;
}

absl::StatusOr<domain::LeadField> FromProto(pb::LeadField field) {
  switch (field) {
    case pb::LEAD_FIELD_DISPLAY_NAME:
      return domain::LeadField::kDisplayName;
    case pb::LEAD_FIELD_CONTACT_NAME:
      return domain::LeadField::kContactName;
    case pb::LEAD_FIELD_COMPANY_NAME:
      return domain::LeadField::kCompanyName;
    case pb::LEAD_FIELD_EMAIL:
      return domain::LeadField::kEmail;
    case pb::LEAD_FIELD_PHONE:
      return domain::LeadField::kPhone;
    case pb::LEAD_FIELD_MOBILE:
      return domain::LeadField::kMobile;
    case pb::LEAD_FIELD_WEBSITE:
      return domain::LeadField::kWebsite;
    case pb::LEAD_FIELD_JOB_TITLE:
      return domain::LeadField::kJobTitle;
    case pb::LEAD_FIELD_ADDRESS:
      return domain::LeadField::kAddress;
    case pb::LEAD_FIELD_LANGUAGE:
      return domain::LeadField::kLanguage;
    case pb::LEAD_FIELD_SOURCE:
      return domain::LeadField::kSource;
    case pb::LEAD_FIELD_TAGS:
      return domain::LeadField::kTags;
    case pb::LEAD_FIELD_DESCRIPTION:
      return domain::LeadField::kDescription;
    case pb::LEAD_FIELD_OWNER:
      return domain::LeadField::kOwner;
    case pb::LEAD_FIELD_TEAM:
      return domain::LeadField::kTeam;
    case pb::LEAD_FIELD_PRIORITY:
      return domain::LeadField::kPriority;
    case pb::LEAD_FIELD_EXPECTED_REVENUE:
      return domain::LeadField::kExpectedRevenue;
    case pb::LEAD_FIELD_STAGE:
      return domain::LeadField::kStage;
    default:
      return absl::DataLossError(absl::StrCat("unknown lead field ", field));
  }
}

pb::TaskKind ToProto(domain::TaskKind kind) {
  switch (kind) {
    case domain::TaskKind::kContact:
      return pb::TASK_KIND_CONTACT;
    case domain::TaskKind::kFollowUp:
      return pb::TASK_KIND_FOLLOW_UP;
    case domain::TaskKind::kCustom:
      return pb::TASK_KIND_CUSTOM;
  }
  return pb::TASK_KIND_UNSPECIFIED;
}

absl::StatusOr<domain::TaskKind> FromProto(pb::TaskKind kind) {
  switch (kind) {
    case pb::TASK_KIND_CONTACT:
      return domain::TaskKind::kContact;
    case pb::TASK_KIND_FOLLOW_UP:
      return domain::TaskKind::kFollowUp;
    case pb::TASK_KIND_CUSTOM:
      return domain::TaskKind::kCustom;
    default:
      return absl::DataLossError(absl::StrCat("unknown task kind ", kind));
  }
}

pb::TaskStatus ToProto(domain::TaskStatus status) {
  switch (status) {
    case domain::TaskStatus::kOpen:
      return pb::TASK_STATUS_OPEN;
    case domain::TaskStatus::kDone:
      return pb::TASK_STATUS_DONE;
    case domain::TaskStatus::kCancelled:
      return pb::TASK_STATUS_CANCELLED;
  }
  return pb::TASK_STATUS_UNSPECIFIED;
}

absl::StatusOr<domain::TaskStatus> FromProto(pb::TaskStatus status) {
  switch (status) {
    case pb::TASK_STATUS_OPEN:
      return domain::TaskStatus::kOpen;
    case pb::TASK_STATUS_DONE:
      return domain::TaskStatus::kDone;
    case pb::TASK_STATUS_CANCELLED:
      return domain::TaskStatus::kCancelled;
    default:
      return absl::DataLossError(absl::StrCat("unknown task status ", status));
  }
}

pb::CustomerKind ToProto(domain::CustomerKind kind) {
  switch (kind) {
    case domain::CustomerKind::kCompany:
      return pb::CUSTOMER_KIND_COMPANY;
    case domain::CustomerKind::kPerson:
      return pb::CUSTOMER_KIND_PERSON;
  }
  return pb::CUSTOMER_KIND_UNSPECIFIED;
}

absl::StatusOr<domain::CustomerKind> FromProto(pb::CustomerKind kind) {
  switch (kind) {
    case pb::CUSTOMER_KIND_COMPANY:
      return domain::CustomerKind::kCompany;
    case pb::CUSTOMER_KIND_PERSON:
      return domain::CustomerKind::kPerson;
    default:
      return absl::DataLossError(absl::StrCat("unknown customer kind ", kind));
  }
}

// Times. A Timestamp holds years 1 to 9999 at nanosecond resolution: a time
// outside that range is stored as the nearest end of it (so
// absl::InfinitePast() comes back as the first instant of year 1), and
// sub-nanosecond parts are dropped. Where an infinite time means "none"
// (a task's due time) the field is left absent instead.

absl::Time MinTimestampTime() {
  return absl::FromUnixSeconds(TimeUtil::kTimestampMinSeconds);
}

absl::Time MaxTimestampTime() {
  return absl::FromUnixSeconds(TimeUtil::kTimestampMaxSeconds) +
         absl::Nanoseconds(999'999'999);
}

Timestamp ToProto(absl::Time time) {
  time = std::clamp(time, MinTimestampTime(), MaxTimestampTime());
  // Rounds toward the past, so the nanoseconds below are never negative.
  const int64_t seconds = absl::ToUnixSeconds(time);
  Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return out;
}

absl::StatusOr<absl::Time> FromProto(const Timestamp& time) {
  if (time.seconds() < TimeUtil::kTimestampMinSeconds ||
      time.seconds() > TimeUtil::kTimestampMaxSeconds || time.nanos() < 0 ||
      time.nanos() > 999'999'999) {
    return absl::DataLossError(
        absl::StrCat("timestamp out of range: ", time.seconds(), " s ",
                     time.nanos(), " ns"));
  }
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

// Address, money, profile and contact data.

pb::Address ToProto(const domain::PostalAddress& address) {
  pb::Address out;
  out.set_street(address.street);
  out.set_city(address.city);
  out.set_zip(address.zip);
  out.set_state(address.state);
  out.set_country_code(address.country_code);
  return out;
}

domain::PostalAddress FromProto(const pb::Address& in) {
  return domain::PostalAddress{.street = in.street(),
                               .city = in.city(),
                               .zip = in.zip(),
                               .state = in.state(),
                               .country_code = in.country_code()};
}

pb::Money ToProto(const domain::Money& money) {
  pb::Money out;
  out.set_amount_minor(money.amount_minor);
  out.set_currency_code(money.currency_code);
  return out;
}

domain::Money FromProto(const pb::Money& in) {
  return domain::Money{.amount_minor = in.amount_minor(),
                       .currency_code = in.currency_code()};
}

// `Message` is pb::LeadProfile, or pb::LeadCreated, which carries the same
// fields inline under the same names.
template <typename Message>
void ProfileToProto(const domain::LeadProfile& profile, Message* out) {
  out->set_display_name(profile.display_name);
  out->set_contact_name(profile.contact_name);
  out->set_company_name(profile.company_name);
  out->set_email(profile.email);
  out->set_phone(profile.phone);
  out->set_mobile(profile.mobile);
  out->set_website(profile.website);
  out->set_job_title(profile.job_title);
  *out->mutable_address() = ToProto(profile.address);
  out->set_language(profile.language);
  out->set_source(profile.source);
  for (const std::string& tag : profile.tags) out->add_tags(tag);
  out->set_description(profile.description);
  out->set_owner_id(profile.owner_id);
  out->set_team_id(profile.team_id);
  out->set_priority(profile.priority);
  // Presence carries the optional: an absent message is "no revenue", a
  // present one (even all zero) is that amount.
  if (profile.expected_revenue.has_value()) {
    *out->mutable_expected_revenue() = ToProto(*profile.expected_revenue);
  }
}

template <typename Message>
domain::LeadProfile ProfileFromProto(const Message& in) {
  domain::LeadProfile profile{
      .display_name = in.display_name(),
      .contact_name = in.contact_name(),
      .company_name = in.company_name(),
      .email = in.email(),
      .phone = in.phone(),
      .mobile = in.mobile(),
      .website = in.website(),
      .job_title = in.job_title(),
      .address = FromProto(in.address()),
      .language = in.language(),
      .source = in.source(),
      .tags = {in.tags().begin(), in.tags().end()},
      .description = in.description(),
      .owner_id = in.owner_id(),
      .team_id = in.team_id(),
      .priority = in.priority(),
  };
  if (in.has_expected_revenue()) {
    profile.expected_revenue = FromProto(in.expected_revenue());
  }
  return profile;
}

// `Message` is pb::DerivedContact, or pb::LeadCreated, which carries the
// same fields inline under the same names.
template <typename Message>
void ContactToProto(const domain::DerivedContact& contact, Message* out) {
  out->set_email_normalized(contact.email_normalized);
  out->set_email_state(ToProto(contact.email_state));
  out->set_phone_e164(contact.phone_e164);
  out->set_phone_state(ToProto(contact.phone_state));
  out->set_mobile_e164(contact.mobile_e164);
  out->set_mobile_state(ToProto(contact.mobile_state));
}

template <typename Message>
absl::StatusOr<domain::DerivedContact> ContactFromProto(const Message& in) {
  domain::DerivedContact contact{.email_normalized = in.email_normalized(),
                                 .phone_e164 = in.phone_e164(),
                                 .mobile_e164 = in.mobile_e164()};
  ASSIGN_OR_RETURN(contact.email_state, FromProto(in.email_state()));
  ASSIGN_OR_RETURN(contact.phone_state, FromProto(in.phone_state()));
  ASSIGN_OR_RETURN(contact.mobile_state, FromProto(in.mobile_state()));
  return contact;
}

// Tasks.

pb::Task ToProto(const domain::Task& task) {
  pb::Task out;
  out.set_id(task.id);
  out.set_owner_id(task.owner_id);
  out.set_kind(ToProto(task.kind));
  out.set_title(task.title);
  // InfinitePast is the domain's "no due time"; absent keeps it exact.
  if (task.due_time != absl::InfinitePast()) {
    *out.mutable_due_time() = ToProto(task.due_time);
  }
  out.set_priority(task.priority);
  out.set_status(ToProto(task.status));
  out.set_automatic(task.automatic);
  out.set_cause_event_id(task.cause_event_id);
  out.set_fell_due(task.fell_due);
  return out;
}

absl::StatusOr<domain::Task> FromProto(const pb::Task& in) {
  domain::Task task{.id = in.id(),
                    .owner_id = in.owner_id(),
                    .title = in.title(),
                    .priority = in.priority(),
                    .automatic = in.automatic(),
                    .cause_event_id = in.cause_event_id(),
                    .fell_due = in.fell_due()};
  ASSIGN_OR_RETURN(task.kind, FromProto(in.kind()));
  if (in.has_due_time()) {
    ASSIGN_OR_RETURN(task.due_time, FromProto(in.due_time()));
  }
  ASSIGN_OR_RETURN(task.status, FromProto(in.status()));
  return task;
}

// Lead events, in the order of domain::LeadEvent.

pb::LeadCreated ToProto(const domain::LeadCreated& e) {
  pb::LeadCreated out;
  out.set_lead_id(e.lead_id);
  out.set_kind(ToProto(e.kind));
  out.set_stage(e.stage);
  ProfileToProto(e.profile, &out);
  ContactToProto(e.contact, &out);
  *out.mutable_create_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadCreated> FromProto(const pb::LeadCreated& in) {
  domain::LeadCreated out{.lead_id = in.lead_id(),
                          .stage = in.stage(),
                          .profile = ProfileFromProto(in)};
  ASSIGN_OR_RETURN(out.kind, FromProto(in.kind()));
  ASSIGN_OR_RETURN(out.contact, ContactFromProto(in));
  ASSIGN_OR_RETURN(out.time, FromProto(in.create_time()));
  return out;
}

pb::LeadUpdated ToProto(const domain::LeadUpdated& e) {
  pb::LeadUpdated out;
  for (domain::LeadField field : e.fields) out.add_fields(ToProto(field));
  ProfileToProto(e.profile, out.mutable_profile());
  out.set_stage(e.stage);
  ContactToProto(e.contact, out.mutable_contact());
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadUpdated> FromProto(const pb::LeadUpdated& in) {
  domain::LeadUpdated out{.profile = ProfileFromProto(in.profile()),
                          .stage = in.stage()};
  // Proto3 enums are open: a repeated enum field keeps values unknown to
  // this build as plain integers.
  for (int value : in.fields()) {
    ASSIGN_OR_RETURN(domain::LeadField field,
                     FromProto(static_cast<pb::LeadField>(value)));
    out.fields.insert(field);
  }
  ASSIGN_OR_RETURN(out.contact, ContactFromProto(in.contact()));
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadClassified ToProto(const domain::LeadClassified& e) {
  pb::LeadClassified out;
  out.set_outcome_id(e.outcome_id);
  out.set_tag(e.tag);
  out.set_removed_tag(e.removed_tag);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadClassified> FromProto(const pb::LeadClassified& in) {
  domain::LeadClassified out{.outcome_id = in.outcome_id(),
                             .tag = in.tag(),
                             .removed_tag = in.removed_tag()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadClassificationCleared ToProto(
    const domain::LeadClassificationCleared& e) {
  pb::LeadClassificationCleared out;
  out.set_previous_outcome_id(e.previous_outcome_id);
  out.set_removed_tag(e.removed_tag);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadClassificationCleared> FromProto(
    const pb::LeadClassificationCleared& in) {
  domain::LeadClassificationCleared out{
      .previous_outcome_id = in.previous_outcome_id(),
      .removed_tag = in.removed_tag()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadConverted ToProto(const domain::LeadConverted& e) {
  pb::LeadConverted out;
  out.set_stage(e.stage);
  out.set_owner_id(e.owner_id);
  out.set_team_id(e.team_id);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadConverted> FromProto(const pb::LeadConverted& in) {
  domain::LeadConverted out{
      .stage = in.stage(), .owner_id = in.owner_id(), .team_id = in.team_id()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::CustomerLinked ToProto(const domain::CustomerLinked& e) {
  pb::CustomerLinked out;
  out.set_customer_id(e.customer_id);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::CustomerLinked> FromProto(const pb::CustomerLinked& in) {
  domain::CustomerLinked out{.customer_id = in.customer_id()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadsMerged ToProto(const domain::LeadsMerged& e) {
  pb::LeadsMerged out;
  for (const std::string& id : e.merged_ids) out.add_merged_ids(id);
  out.set_kind(ToProto(e.kind));
  out.set_stage(e.stage);
  ProfileToProto(e.profile, out.mutable_profile());
  ContactToProto(e.contact, out.mutable_contact());
  out.set_customer_id(e.customer_id);
  for (const domain::Task& task : e.moved_tasks) {
    *out.add_moved_tasks() = ToProto(task);
  }
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadsMerged> FromProto(const pb::LeadsMerged& in) {
  domain::LeadsMerged out{
      .merged_ids = {in.merged_ids().begin(), in.merged_ids().end()},
      .stage = in.stage(),
      .profile = ProfileFromProto(in.profile()),
      .customer_id = in.customer_id()};
  ASSIGN_OR_RETURN(out.kind, FromProto(in.kind()));
  ASSIGN_OR_RETURN(out.contact, ContactFromProto(in.contact()));
  for (const pb::Task& stored : in.moved_tasks()) {
    ASSIGN_OR_RETURN(domain::Task task, FromProto(stored));
    out.moved_tasks.push_back(std::move(task));
  }
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadMergedInto ToProto(const domain::LeadMergedInto& e) {
  pb::LeadMergedInto out;
  out.set_head_id(e.head_id);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadMergedInto> FromProto(const pb::LeadMergedInto& in) {
  domain::LeadMergedInto out{.head_id = in.head_id()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadLost ToProto(const domain::LeadLost& e) {
  pb::LeadLost out;
  out.set_reason(e.reason);
  out.set_feedback(e.feedback);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadLost> FromProto(const pb::LeadLost& in) {
  domain::LeadLost out{.reason = in.reason(), .feedback = in.feedback()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadRestored ToProto(const domain::LeadRestored& e) {
  pb::LeadRestored out;
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadRestored> FromProto(const pb::LeadRestored& in) {
  domain::LeadRestored out;
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LeadWon ToProto(const domain::LeadWon& e) {
  pb::LeadWon out;
  out.set_stage(e.stage);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadWon> FromProto(const pb::LeadWon& in) {
  domain::LeadWon out{.stage = in.stage()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::ProbabilityOverridden ToProto(const domain::ProbabilityOverridden& e) {
  pb::ProbabilityOverridden out;
  out.set_value(e.value);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::ProbabilityOverridden> FromProto(
    const pb::ProbabilityOverridden& in) {
  domain::ProbabilityOverridden out{.value = in.value()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::ProbabilityOverrideCleared ToProto(
    const domain::ProbabilityOverrideCleared& e) {
  pb::ProbabilityOverrideCleared out;
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::ProbabilityOverrideCleared> FromProto(
    const pb::ProbabilityOverrideCleared& in) {
  domain::ProbabilityOverrideCleared out;
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::AutomatedProbabilityChanged ToProto(
    const domain::AutomatedProbabilityChanged& e) {
  pb::AutomatedProbabilityChanged out;
  out.set_value(e.value);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::AutomatedProbabilityChanged> FromProto(
    const pb::AutomatedProbabilityChanged& in) {
  domain::AutomatedProbabilityChanged out{.value = in.value()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::TaskScheduled ToProto(const domain::TaskScheduled& e) {
  pb::TaskScheduled out;
  *out.mutable_task() = ToProto(e.task);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::TaskScheduled> FromProto(const pb::TaskScheduled& in) {
  domain::TaskScheduled out;
  ASSIGN_OR_RETURN(out.task, FromProto(in.task()));
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::TaskCompleted ToProto(const domain::TaskCompleted& e) {
  pb::TaskCompleted out;
  out.set_task_id(e.task_id);
  out.set_outcome_id(e.outcome_id);
  out.set_note(e.note);
  for (const std::string& tag : e.added_tags) out.add_added_tags(tag);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::TaskCompleted> FromProto(const pb::TaskCompleted& in) {
  domain::TaskCompleted out{
      .task_id = in.task_id(),
      .outcome_id = in.outcome_id(),
      .note = in.note(),
      .added_tags = {in.added_tags().begin(), in.added_tags().end()}};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::TaskCancelled ToProto(const domain::TaskCancelled& e) {
  pb::TaskCancelled out;
  out.set_task_id(e.task_id);
  out.set_reason(e.reason);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::TaskCancelled> FromProto(const pb::TaskCancelled& in) {
  domain::TaskCancelled out{.task_id = in.task_id(), .reason = in.reason()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::TaskDue ToProto(const domain::TaskDue& e) {
  pb::TaskDue out;
  out.set_task_id(e.task_id);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::TaskDue> FromProto(const pb::TaskDue& in) {
  domain::TaskDue out{.task_id = in.task_id()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

// Customer events.

pb::CustomerProfile ToProto(const domain::CustomerProfile& profile) {
  pb::CustomerProfile out;
  out.set_kind(ToProto(profile.kind));
  out.set_name(profile.name);
  out.set_email(profile.email);
  out.set_email_normalized(profile.email_normalized);
  out.set_phone(profile.phone);
  *out.mutable_address() = ToProto(profile.address);
  return out;
}

absl::StatusOr<domain::CustomerProfile> FromProto(
    const pb::CustomerProfile& in) {
  domain::CustomerProfile profile{.name = in.name(),
                                  .email = in.email(),
                                  .email_normalized = in.email_normalized(),
                                  .phone = in.phone(),
                                  .address = FromProto(in.address())};
  ASSIGN_OR_RETURN(profile.kind, FromProto(in.kind()));
  return profile;
}

pb::CustomerCreated ToProto(const domain::CustomerCreated& e) {
  pb::CustomerCreated out;
  out.set_customer_id(e.customer_id);
  *out.mutable_profile() = ToProto(e.profile);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::CustomerCreated> FromProto(
    const pb::CustomerCreated& in) {
  domain::CustomerCreated out{.customer_id = in.customer_id()};
  ASSIGN_OR_RETURN(out.profile, FromProto(in.profile()));
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

// Workspace events.

pb::ClassificationOutcome ToProto(const domain::Outcome& outcome) {
  pb::ClassificationOutcome out;
  out.set_id(outcome.id);
  out.set_label(outcome.label);
  out.set_classifies(outcome.classifies);
  out.set_tag(outcome.tag);
  // Presence carries the optional: absent is "no follow-up task", while 0 is
  // a task due the same day.
  if (outcome.follow_up_days.has_value()) {
    out.set_follow_up_days(*outcome.follow_up_days);
  }
  out.set_rank(outcome.rank);
  return out;
}

domain::Outcome FromProto(const pb::ClassificationOutcome& in) {
  domain::Outcome outcome{.id = in.id(),
                          .label = in.label(),
                          .classifies = in.classifies(),
                          .tag = in.tag(),
                          .rank = in.rank()};
  if (in.has_follow_up_days()) outcome.follow_up_days = in.follow_up_days();
  return outcome;
}

pb::LeadsEnabledChanged ToProto(const domain::LeadsEnabledChanged& e) {
  pb::LeadsEnabledChanged out;
  out.set_leads_enabled(e.leads_enabled);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LeadsEnabledChanged> FromProto(
    const pb::LeadsEnabledChanged& in) {
  domain::LeadsEnabledChanged out{.leads_enabled = in.leads_enabled()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::CatalogueChanged ToProto(const domain::CatalogueChanged& e) {
  pb::CatalogueChanged out;
  for (const domain::Outcome& outcome : e.catalogue) {
    *out.add_outcomes() = ToProto(outcome);
  }
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::CatalogueChanged> FromProto(
    const pb::CatalogueChanged& in) {
  domain::CatalogueChanged out;
  for (const pb::ClassificationOutcome& outcome : in.outcomes()) {
    out.catalogue.push_back(FromProto(outcome));
  }
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::LostReasonsChanged ToProto(const domain::LostReasonsChanged& e) {
  pb::LostReasonsChanged out;
  for (const std::string& reason : e.lost_reasons) out.add_lost_reasons(reason);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::LostReasonsChanged> FromProto(
    const pb::LostReasonsChanged& in) {
  domain::LostReasonsChanged out{
      .lost_reasons = {in.lost_reasons().begin(), in.lost_reasons().end()}};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::PipelineChanged ToProto(const domain::PipelineChanged& e) {
  pb::PipelineChanged out;
  for (const std::string& stage : e.pipeline_stages) {
    out.add_pipeline_stages(stage);
  }
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::PipelineChanged> FromProto(
    const pb::PipelineChanged& in) {
  domain::PipelineChanged out{.pipeline_stages = {in.pipeline_stages().begin(),
                                                  in.pipeline_stages().end()}};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::ScoringChanged ToProto(const domain::ScoringChanged& e) {
  pb::ScoringChanged out;
  for (const std::string& field : e.scoring.fields) out.add_fields(field);
  // InfinitePast is the domain's "no start date"; absent keeps it exact.
  if (e.scoring.start_date != absl::InfinitePast()) {
    *out.mutable_start_date() = ToProto(e.scoring.start_date);
  }
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::ScoringChanged> FromProto(const pb::ScoringChanged& in) {
  domain::ScoringChanged out;
  out.scoring.fields = {in.fields().begin(), in.fields().end()};
  if (in.has_start_date()) {
    ASSIGN_OR_RETURN(out.scoring.start_date, FromProto(in.start_date()));
  }
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::WeekendRuleChanged ToProto(const domain::WeekendRuleChanged& e) {
  pb::WeekendRuleChanged out;
  out.set_skip_weekends(e.skip_weekends);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::WeekendRuleChanged> FromProto(
    const pb::WeekendRuleChanged& in) {
  domain::WeekendRuleChanged out{.skip_weekends = in.skip_weekends()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

pb::DefaultCountryChanged ToProto(const domain::DefaultCountryChanged& e) {
  pb::DefaultCountryChanged out;
  out.set_default_country(e.default_country);
  *out.mutable_time() = ToProto(e.time);
  return out;
}

absl::StatusOr<domain::DefaultCountryChanged> FromProto(
    const pb::DefaultCountryChanged& in) {
  domain::DefaultCountryChanged out{.default_country = in.default_country()};
  ASSIGN_OR_RETURN(out.time, FromProto(in.time()));
  return out;
}

// Envelopes.

eventstore::NewEvent Encoded(StoredType stored,
                             const google::protobuf::MessageLite& payload) {
  eventstore::NewEvent out;
  out.type = std::string(stored.type);
  out.schema_version = stored.schema_version;
  out.payload = payload.SerializeAsString();
  return out;
}

// Reads one stored type into an alternative of `Event`.
template <typename Event>
struct Decoder {
  StoredType stored;
  absl::StatusOr<Event> (*decode)(const std::string& payload);
};

template <typename Event, typename Message>
absl::StatusOr<Event> DecodePayload(const std::string& payload) {
  Message message;
  if (!message.ParseFromString(payload)) {
    return absl::DataLossError("payload does not parse");
  }
  ASSIGN_OR_RETURN(auto event, FromProto(message));
  return Event(std::move(event));
}

template <typename Event>
absl::StatusOr<Event> Decode(absl::Span<const Decoder<Event>> decoders,
                             const eventstore::RecordedEvent& recorded) {
  for (const Decoder<Event>& decoder : decoders) {
    if (decoder.stored.type != recorded.type ||
        decoder.stored.schema_version != recorded.schema_version) {
      continue;
    }
    absl::StatusOr<Event> event = decoder.decode(recorded.payload);
    if (!event.ok()) {
      return absl::DataLossError(absl::StrCat(recorded.type, " at position ",
                                              recorded.position, ": ",
                                              event.status().message()));
    }
    return event;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("event at position ", recorded.position, " has type ",
                   recorded.type, " schema ", recorded.schema_version,
                   ", unknown to this build (written by a newer version?)"));
}

template <typename Message>
constexpr Decoder<domain::LeadEvent> LeadDecoder(StoredType stored) {
  return {stored, &DecodePayload<domain::LeadEvent, Message>};
}

constexpr Decoder<domain::LeadEvent> kLeadDecoders[] = {
    LeadDecoder<pb::LeadCreated>(kLeadCreated),
    LeadDecoder<pb::LeadUpdated>(kLeadUpdated),
    LeadDecoder<pb::LeadClassified>(kLeadClassified),
    LeadDecoder<pb::LeadClassificationCleared>(kLeadClassificationCleared),
    LeadDecoder<pb::LeadConverted>(kLeadConverted),
    LeadDecoder<pb::CustomerLinked>(kCustomerLinked),
    LeadDecoder<pb::LeadsMerged>(kLeadsMerged),
    LeadDecoder<pb::LeadMergedInto>(kLeadMergedInto),
    LeadDecoder<pb::LeadLost>(kLeadLost),
    LeadDecoder<pb::LeadRestored>(kLeadRestored),
    LeadDecoder<pb::LeadWon>(kLeadWon),
    LeadDecoder<pb::ProbabilityOverridden>(kProbabilityOverridden),
    LeadDecoder<pb::ProbabilityOverrideCleared>(kProbabilityOverrideCleared),
    LeadDecoder<pb::AutomatedProbabilityChanged>(kAutomatedProbabilityChanged),
    LeadDecoder<pb::TaskScheduled>(kTaskScheduled),
    LeadDecoder<pb::TaskCompleted>(kTaskCompleted),
    LeadDecoder<pb::TaskCancelled>(kTaskCancelled),
    LeadDecoder<pb::TaskDue>(kTaskDue),
};
// One stored type per alternative; the round-trip tests check the pairing.
static_assert(std::size(kLeadDecoders) ==
              std::variant_size_v<domain::LeadEvent>);

constexpr Decoder<domain::CustomerEvent> kCustomerDecoders[] = {
    {kCustomerCreated,
     &DecodePayload<domain::CustomerEvent, pb::CustomerCreated>},
};
static_assert(std::size(kCustomerDecoders) ==
              std::variant_size_v<domain::CustomerEvent>);

template <typename Message>
constexpr Decoder<domain::WorkspaceEvent> WorkspaceDecoder(StoredType stored) {
  return {stored, &DecodePayload<domain::WorkspaceEvent, Message>};
}

constexpr Decoder<domain::WorkspaceEvent> kWorkspaceDecoders[] = {
    WorkspaceDecoder<pb::LeadsEnabledChanged>(kLeadsEnabledChanged),
    WorkspaceDecoder<pb::CatalogueChanged>(kCatalogueChanged),
    WorkspaceDecoder<pb::LostReasonsChanged>(kLostReasonsChanged),
    WorkspaceDecoder<pb::PipelineChanged>(kPipelineChanged),
    WorkspaceDecoder<pb::ScoringChanged>(kScoringChanged),
    WorkspaceDecoder<pb::WeekendRuleChanged>(kWeekendRuleChanged),
    WorkspaceDecoder<pb::DefaultCountryChanged>(kDefaultCountryChanged),
};
static_assert(std::size(kWorkspaceDecoders) ==
              std::variant_size_v<domain::WorkspaceEvent>);

}  // namespace

const std::vector<std::string>& KnownEventTypes() {
  // Read off the decoder tables, so a type cannot be stored without being
  // listed here.
  static const std::vector<std::string>* const types = [] {
    auto* all = new std::vector<std::string>();
    for (const Decoder<domain::LeadEvent>& decoder : kLeadDecoders) {
      all->emplace_back(decoder.stored.type);
    }
    for (const Decoder<domain::CustomerEvent>& decoder : kCustomerDecoders) {
      all->emplace_back(decoder.stored.type);
    }
    for (const Decoder<domain::WorkspaceEvent>& decoder : kWorkspaceDecoders) {
      all->emplace_back(decoder.stored.type);
    }
    return all;
  }();
  return *types;
}

eventstore::NewEvent EncodeLeadEvent(const domain::LeadEvent& event,
                                     std::string event_id) {
  // One case per alternative and no catch-all: a new event type does not
  // compile until it has a stored form.
  const Overloaded encode{
      [](const domain::LeadCreated& e) {
        return Encoded(kLeadCreated, ToProto(e));
      },
      [](const domain::LeadUpdated& e) {
        return Encoded(kLeadUpdated, ToProto(e));
      },
      [](const domain::LeadClassified& e) {
        return Encoded(kLeadClassified, ToProto(e));
      },
      [](const domain::LeadClassificationCleared& e) {
        return Encoded(kLeadClassificationCleared, ToProto(e));
      },
      [](const domain::LeadConverted& e) {
        return Encoded(kLeadConverted, ToProto(e));
      },
      [](const domain::CustomerLinked& e) {
        return Encoded(kCustomerLinked, ToProto(e));
      },
      [](const domain::LeadsMerged& e) {
        return Encoded(kLeadsMerged, ToProto(e));
      },
      [](const domain::LeadMergedInto& e) {
        return Encoded(kLeadMergedInto, ToProto(e));
      },
      [](const domain::LeadLost& e) { return Encoded(kLeadLost, ToProto(e)); },
      [](const domain::LeadRestored& e) {
        return Encoded(kLeadRestored, ToProto(e));
      },
      [](const domain::LeadWon& e) { return Encoded(kLeadWon, ToProto(e)); },
      [](const domain::ProbabilityOverridden& e) {
        return Encoded(kProbabilityOverridden, ToProto(e));
      },
      [](const domain::ProbabilityOverrideCleared& e) {
        return Encoded(kProbabilityOverrideCleared, ToProto(e));
      },
      [](const domain::AutomatedProbabilityChanged& e) {
        return Encoded(kAutomatedProbabilityChanged, ToProto(e));
      },
      [](const domain::TaskScheduled& e) {
        return Encoded(kTaskScheduled, ToProto(e));
      },
      [](const domain::TaskCompleted& e) {
        return Encoded(kTaskCompleted, ToProto(e));
      },
      [](const domain::TaskCancelled& e) {
        return Encoded(kTaskCancelled, ToProto(e));
      },
      [](const domain::TaskDue& e) { return Encoded(kTaskDue, ToProto(e)); },
  };
  eventstore::NewEvent out = std::visit(encode, event);
  out.event_id = std::move(event_id);
  return out;
}

absl::StatusOr<domain::LeadEvent> DecodeLeadEvent(
    const eventstore::RecordedEvent& recorded) {
  return Decode<domain::LeadEvent>(kLeadDecoders, recorded);
}

eventstore::NewEvent EncodeCustomerEvent(const domain::CustomerEvent& event,
                                         std::string event_id) {
  const Overloaded encode{
      [](const domain::CustomerCreated& e) {
        return Encoded(kCustomerCreated, ToProto(e));
      },
  };
  eventstore::NewEvent out = std::visit(encode, event);
  out.event_id = std::move(event_id);
  return out;
}

absl::StatusOr<domain::CustomerEvent> DecodeCustomerEvent(
    const eventstore::RecordedEvent& recorded) {
  return Decode<domain::CustomerEvent>(kCustomerDecoders, recorded);
}

eventstore::NewEvent EncodeWorkspaceEvent(const domain::WorkspaceEvent& event,
                                          std::string event_id) {
  const Overloaded encode{
      [](const domain::LeadsEnabledChanged& e) {
        return Encoded(kLeadsEnabledChanged, ToProto(e));
      },
      [](const domain::CatalogueChanged& e) {
        return Encoded(kCatalogueChanged, ToProto(e));
      },
      [](const domain::LostReasonsChanged& e) {
        return Encoded(kLostReasonsChanged, ToProto(e));
      },
      [](const domain::PipelineChanged& e) {
        return Encoded(kPipelineChanged, ToProto(e));
      },
      [](const domain::ScoringChanged& e) {
        return Encoded(kScoringChanged, ToProto(e));
      },
      [](const domain::WeekendRuleChanged& e) {
        return Encoded(kWeekendRuleChanged, ToProto(e));
      },
      [](const domain::DefaultCountryChanged& e) {
        return Encoded(kDefaultCountryChanged, ToProto(e));
      },
  };
  eventstore::NewEvent out = std::visit(encode, event);
  out.event_id = std::move(event_id);
  return out;
}

absl::StatusOr<domain::WorkspaceEvent> DecodeWorkspaceEvent(
    const eventstore::RecordedEvent& recorded) {
  return Decode<domain::WorkspaceEvent>(kWorkspaceDecoders, recorded);
}

// Lead rows of the projection store.

namespace {

namespace rows = ::leadledger::projections::v1;

rows::LeadStatus ToRowStatus(domain::LeadStatus status) {
  switch (status) {
    case domain::LeadStatus::kActive:
      return rows::LEAD_STATUS_ACTIVE;
    case domain::LeadStatus::kLost:
      return rows::LEAD_STATUS_LOST;
    case domain::LeadStatus::kWon:
      return rows::LEAD_STATUS_WON;
    case domain::LeadStatus::kMerged:
      return rows::LEAD_STATUS_MERGED;
  }
  return rows::LEAD_STATUS_UNSPECIFIED;
}

absl::StatusOr<domain::LeadStatus> FromRowStatus(rows::LeadStatus status) {
  switch (status) {
    case rows::LEAD_STATUS_ACTIVE:
      return domain::LeadStatus::kActive;
    case rows::LEAD_STATUS_LOST:
      return domain::LeadStatus::kLost;
    case rows::LEAD_STATUS_WON:
      return domain::LeadStatus::kWon;
    case rows::LEAD_STATUS_MERGED:
      return domain::LeadStatus::kMerged;
    default:
      return absl::DataLossError(
          absl::StrCat("lead row: unknown status ", status));
  }
}

}  // namespace

namespace {

// An arena whose first block is `N` bytes inside the object: a row built or
// parsed on it, kept on the stack, costs no allocation for its messages and
// the objects of its strings, and nothing to free one by one.
template <size_t N>
class StackArena {
 public:
  StackArena() : arena_(Options(buffer_)) {}
  google::protobuf::Arena* get() { return &arena_; }

 private:
  static google::protobuf::ArenaOptions Options(char* buffer) {
    google::protobuf::ArenaOptions options;
    options.initial_block = buffer;
    options.initial_block_size = N;
    return options;
  }

  alignas(16) char buffer_[N];
  google::protobuf::Arena arena_;
};

constexpr size_t kRowArenaBytes = 4096;

}  // namespace

std::string EncodeLeadRow(const StoredLead& stored) {
  const domain::Lead& lead = stored.lead;
  StackArena<kRowArenaBytes> arena;
  rows::LeadRow& row =
      *google::protobuf::Arena::CreateMessage<rows::LeadRow>(arena.get());
  row.set_id(lead.id);
  row.set_kind(ToProto(lead.kind));
  row.set_status(ToRowStatus(lead.status));
  row.set_stage(lead.stage);
  ProfileToProto(lead.profile, row.mutable_profile());
  ContactToProto(
      domain::DerivedContact{.email_normalized = lead.email_normalized,
                             .email_state = lead.email_state,
                             .phone_e164 = lead.phone_e164,
                             .phone_state = lead.phone_state,
                             .mobile_e164 = lead.mobile_e164,
                             .mobile_state = lead.mobile_state},
      row.mutable_contact());
  row.set_classification(lead.classification);
  row.set_automated_probability(lead.probability.automated);
  if (lead.probability.override_value.has_value()) {
    row.set_probability_override(*lead.probability.override_value);
  }
  row.set_customer_id(lead.customer_id);
  row.set_lost_reason(lead.lost_reason);
  row.set_lost_feedback(lead.lost_feedback);
  row.set_merged_into(lead.merged_into);
  *row.mutable_create_time() = ToProto(lead.create_time);
  *row.mutable_update_time() = ToProto(lead.update_time);
  if (lead.conversion_time.has_value()) {
    *row.mutable_conversion_time() = ToProto(*lead.conversion_time);
  }
  if (lead.closed_time.has_value()) {
    *row.mutable_closed_time() = ToProto(*lead.closed_time);
  }
  for (const auto& [id, task] : lead.open_tasks) {
    *row.add_open_tasks() = ToProto(task);
  }
  row.set_version(stored.version);
  row.set_created_position(stored.created_position);
  row.set_last_position(stored.last_position);
  return row.SerializeAsString();
}

absl::StatusOr<StoredLead> DecodeLeadRow(absl::string_view bytes) {
  StoredLead stored;
  RETURN_IF_ERROR(DecodeLeadRow(bytes, stored));
  return stored;
}

absl::Status DecodeLeadRow(absl::string_view bytes, StoredLead& stored) {
  StackArena<kRowArenaBytes> arena;
  rows::LeadRow& row =
      *google::protobuf::Arena::CreateMessage<rows::LeadRow>(arena.get());
  if (!row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("lead row: cannot be parsed");
  }
  stored.version = row.version();
  stored.created_position = row.created_position();
  stored.last_position = row.last_position();
  domain::Lead& lead = stored.lead;
  lead.exists = true;
  lead.id = row.id();
  ASSIGN_OR_RETURN(lead.kind, FromProto(row.kind()));
  ASSIGN_OR_RETURN(lead.status, FromRowStatus(row.status()));
  lead.stage = row.stage();
  lead.profile = ProfileFromProto(row.profile());
  ASSIGN_OR_RETURN(domain::DerivedContact contact,
                   ContactFromProto(row.contact()));
  lead.email_normalized = std::move(contact.email_normalized);
  lead.email_state = contact.email_state;
  lead.phone_e164 = std::move(contact.phone_e164);
  lead.phone_state = contact.phone_state;
  lead.mobile_e164 = std::move(contact.mobile_e164);
  lead.mobile_state = contact.mobile_state;
  lead.classification = row.classification();
  lead.probability.automated = row.automated_probability();
  if (row.has_probability_override()) {
    lead.probability.override_value = row.probability_override();
  }
  lead.customer_id = row.customer_id();
  lead.lost_reason = row.lost_reason();
  lead.lost_feedback = row.lost_feedback();
  lead.merged_into = row.merged_into();
  ASSIGN_OR_RETURN(lead.create_time, FromProto(row.create_time()));
  ASSIGN_OR_RETURN(lead.update_time, FromProto(row.update_time()));
  if (row.has_conversion_time()) {
    ASSIGN_OR_RETURN(lead.conversion_time, FromProto(row.conversion_time()));
  }
  if (row.has_closed_time()) {
    ASSIGN_OR_RETURN(lead.closed_time, FromProto(row.closed_time()));
  }
  for (const pb::Task& task : row.open_tasks()) {
    ASSIGN_OR_RETURN(domain::Task decoded, FromProto(task));
    std::string id = decoded.id;
    lead.open_tasks.emplace(std::move(id), std::move(decoded));
  }
  return absl::OkStatus();
}

std::string EncodeAgendaRow(const StoredAgendaTask& stored) {
  rows::AgendaTask row;
  row.set_lead_id(stored.lead_id);
  *row.mutable_task() = ToProto(stored.task);
  row.set_scheduled_position(stored.scheduled_position);
  return row.SerializeAsString();
}

absl::StatusOr<StoredAgendaTask> DecodeAgendaRow(absl::string_view bytes) {
  rows::AgendaTask row;
  if (!row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("agenda row: cannot be parsed");
  }
  StoredAgendaTask stored{.lead_id = row.lead_id(),
                          .scheduled_position = row.scheduled_position()};
  ASSIGN_OR_RETURN(stored.task, FromProto(row.task()));
  return stored;
}

}  // namespace leadledger::projections
