#include "projections/event_codec.h"

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "leadledger/events/v1/customer_events.pb.h"
#include "leadledger/events/v1/lead_events.pb.h"
#include "leadledger/events/v1/workspace_events.pb.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::projections {
namespace {

namespace pb = ::leadledger::events::v1;
using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The stored type of each alternative of domain::LeadEvent, in its order.
constexpr std::array<const char*, 18> kLeadEventTypes = {
    "LeadCreated",
    "LeadUpdated",
    "LeadClassified",
    "LeadClassificationCleared",
    "LeadConverted",
    "CustomerLinked",
    "LeadsMerged",
    "LeadMergedInto",
    "LeadLost",
    "LeadRestored",
    "LeadWon",
    "ProbabilityOverridden",
    "ProbabilityOverrideCleared",
    "AutomatedProbabilityChanged",
    "TaskScheduled",
    "TaskCompleted",
    "TaskCancelled",
    "TaskDue",
};
static_assert(kLeadEventTypes.size() == std::variant_size_v<domain::LeadEvent>);

// The stored type of each alternative of domain::WorkspaceEvent, in its order.
constexpr std::array<const char*, 7> kWorkspaceEventTypes = {
    "LeadsEnabledChanged",   "CatalogueChanged", "LostReasonsChanged",
    "PipelineChanged",       "ScoringChanged",   "WeekendRuleChanged",
    "DefaultCountryChanged",
};
static_assert(kWorkspaceEventTypes.size() ==
              std::variant_size_v<domain::WorkspaceEvent>);

// What the store would hand back for `encoded` at `position`.
eventstore::RecordedEvent Recorded(eventstore::NewEvent encoded,
                                   uint64_t position) {
  eventstore::RecordedEvent recorded;
  recorded.event_id = encoded.event_id;
  recorded.type = encoded.type;
  recorded.schema_version = encoded.schema_version;
  recorded.payload = encoded.payload;
  recorded.position = position;
  return recorded;
}

eventstore::RecordedEvent Stored(const domain::LeadEvent& event,
                                 uint64_t position = 1) {
  return Recorded(EncodeLeadEvent(event, "ev-1"), position);
}

eventstore::RecordedEvent Stored(const domain::CustomerEvent& event,
                                 uint64_t position = 1) {
  return Recorded(EncodeCustomerEvent(event, "ev-1"), position);
}

eventstore::RecordedEvent Stored(const domain::WorkspaceEvent& event,
                                 uint64_t position = 1) {
  return Recorded(EncodeWorkspaceEvent(event, "ev-1"), position);
}

// The payload of `recorded` parsed as the message its type names, or null.
std::unique_ptr<google::protobuf::Message> Payload(
    const eventstore::RecordedEvent& recorded) {
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          absl::StrCat("leadledger.events.v1.", recorded.type));
  if (descriptor == nullptr) return nullptr;
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(descriptor)
          ->New());
  if (!message->ParseFromString(recorded.payload)) return nullptr;
  return message;
}

// The payload of `recorded` as text, to explain a failed comparison.
std::string PayloadText(const eventstore::RecordedEvent& recorded) {
  std::unique_ptr<google::protobuf::Message> message = Payload(recorded);
  return message == nullptr ? "(unparsable)" : message->DebugString();
}

// Appends the paths of the fields of `message` left at their default,
// recursing into set messages.
void CollectUnsetFields(const google::protobuf::Message& message,
                        const std::string& prefix,
                        std::vector<std::string>& unset) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    const std::string path = prefix + field->name();
    const bool is_message =
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE;
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      if (size == 0) unset.push_back(path);
      for (int j = 0; is_message && j < size; ++j) {
        CollectUnsetFields(reflection->GetRepeatedMessage(message, field, j),
                           absl::StrCat(path, "[", j, "]."), unset);
      }
    } else if (!reflection->HasField(message, field)) {
      unset.push_back(path);
    } else if (is_message) {
      CollectUnsetFields(reflection->GetMessage(message, field), path + ".",
                         unset);
    }
  }
}

// Fields of the stored payload of `recorded` left at their default: a sample
// that leaves one unset would not show that the codec maps it.
std::vector<std::string> UnsetFields(
    const eventstore::RecordedEvent& recorded) {
  std::unique_ptr<google::protobuf::Message> message = Payload(recorded);
  if (message == nullptr) return {"(no payload message " + recorded.type + ")"};
  std::vector<std::string> unset;
  CollectUnsetFields(*message, "", unset);
  return unset;
}

// Distinct times with sub-second parts, so a lost nanosecond shows.
absl::Time At(int i) {
  return absl::FromUnixMicros(1'790'000'000'123'456 + i * 1'000'001);
}

domain::LeadProfile FullProfile() {
  return domain::LeadProfile{
      .display_name = "Roof",
      .contact_name = "Ana",
      .company_name = "Ruiz SL",
      .email = "Ana@x.es",
      .phone = "+34 600 000 000",
      .mobile = "600000001",
      .website = "https://x.es",
      .job_title = "CEO",
      .address = {.street = "Calle 1",
                  .city = "Sevilla",
                  .zip = "41001",
                  .state = "SE",
                  .country_code = "ES"},
      .language = "es_ES",
      .source = "referral",
      .tags = {"a", "b"},
      .description = "multi\nline",
      .owner_id = "u-1",
      .team_id = "t-1",
      .priority = 3,
      .expected_revenue =
          domain::Money{.amount_minor = 12345, .currency_code = "EUR"},
  };
}

domain::DerivedContact FullContact() {
  return domain::DerivedContact{
      .email_normalized = "ana@x.es",
      .email_state = domain::ContactState::kCorrect,
      .phone_e164 = "+34600000000",
      .phone_state = domain::ContactState::kCorrect,
      .mobile_e164 = "+34600000001",
      .mobile_state = domain::ContactState::kIncorrect,
  };
}

domain::Task FullTask(std::string id, domain::TaskKind kind,
                      domain::TaskStatus status) {
  return domain::Task{.id = std::move(id),
                      .owner_id = "u-2",
                      .kind = kind,
                      .title = "Call back",
                      .due_time = At(100),
                      .priority = 4,
                      .status = status,
                      .automatic = true,
                      .cause_event_id = "ev-0",
                      .fell_due = true};
}

// One sample of every alternative, each field set to a non-default value.
std::vector<domain::LeadEvent> FullLeadEvents() {
  return {
      domain::LeadCreated{.lead_id = "l-1",
                          .kind = domain::LeadKind::kOpportunity,
                          .stage = "New",
                          .profile = FullProfile(),
                          .contact = FullContact(),
                          .time = At(1)},
      domain::LeadUpdated{
          .fields = {domain::LeadField::kDisplayName,
                     domain::LeadField::kContactName,
                     domain::LeadField::kCompanyName, domain::LeadField::kEmail,
                     domain::LeadField::kPhone, domain::LeadField::kMobile,
                     domain::LeadField::kWebsite, domain::LeadField::kJobTitle,
                     domain::LeadField::kAddress, domain::LeadField::kLanguage,
                     domain::LeadField::kSource, domain::LeadField::kTags,
                     domain::LeadField::kDescription, domain::LeadField::kOwner,
                     domain::LeadField::kTeam, domain::LeadField::kPriority,
                     domain::LeadField::kExpectedRevenue,
                     domain::LeadField::kStage},
          .profile = FullProfile(),
          .stage = "Qualified",
          .contact = FullContact(),
          .time = At(2)},
      domain::LeadClassified{.outcome_id = "HOT_PROSPECT",
                             .tag = "Hot prospect",
                             .removed_tag = "On the fence",
                             .time = At(3)},
      domain::LeadClassificationCleared{.previous_outcome_id = "HOT_PROSPECT",
                                        .removed_tag = "Hot prospect",
                                        .time = At(4)},
      domain::LeadConverted{
          .stage = "New", .owner_id = "u-3", .team_id = "t-3", .time = At(5)},
      domain::CustomerLinked{.customer_id = "c-1", .time = At(6)},
      domain::LeadsMerged{
          .merged_ids = {"l-9", "l-3"},
          .kind = domain::LeadKind::kOpportunity,
          .stage = "Proposition",
          .profile = FullProfile(),
          .contact = FullContact(),
          .customer_id = "c-1",
          .moved_tasks = {FullTask("k-1", domain::TaskKind::kContact,
                                   domain::TaskStatus::kOpen),
                          FullTask("k-2", domain::TaskKind::kCustom,
                                   domain::TaskStatus::kDone)},
          .time = At(7)},
      domain::LeadMergedInto{.head_id = "l-1", .time = At(8)},
      domain::LeadLost{
          .reason = "too expensive", .feedback = "maybe later", .time = At(9)},
      domain::LeadRestored{.time = At(10)},
      domain::LeadWon{.stage = "Won", .time = At(11)},
      domain::ProbabilityOverridden{.value = 37.25, .time = At(12)},
      domain::ProbabilityOverrideCleared{.time = At(13)},
      domain::AutomatedProbabilityChanged{.value = 12.345678901234567,
                                          .time = At(14)},
      domain::TaskScheduled{.task = FullTask("k-3", domain::TaskKind::kFollowUp,
                                             domain::TaskStatus::kCancelled),
                            .time = At(15)},
      domain::TaskCompleted{.task_id = "k-3",
                            .outcome_id = "NOT_SURE_YET",
                            .note = "called",
                            .added_tags = {"x", "y"},
                            .time = At(16)},
      domain::TaskCancelled{
          .task_id = "k-3", .reason = "lead lost", .time = At(17)},
      domain::TaskDue{.task_id = "k-3", .time = At(18)},
  };
}

// Values whose presence or range the stored form must keep exactly.
std::vector<domain::LeadEvent> EdgeLeadEvents() {
  domain::LeadProfile no_revenue = FullProfile();
  no_revenue.expected_revenue.reset();
  domain::LeadProfile zero_revenue = FullProfile();
  zero_revenue.expected_revenue = domain::Money{};
  domain::Task undated =
      FullTask("k-4", domain::TaskKind::kFollowUp, domain::TaskStatus::kOpen);
  undated.due_time = absl::InfinitePast();
  domain::Task far = undated;
  far.due_time = absl::FromCivil(absl::CivilSecond(3000, 1, 2, 3, 4, 5),
                                 absl::UTCTimeZone()) +
                 absl::Nanoseconds(7);
  return {
      // Everything at its default: an empty record at the epoch.
      domain::LeadCreated{},
      domain::LeadCreated{.lead_id = "l-2", .profile = no_revenue},
      domain::LeadCreated{.lead_id = "l-3", .profile = zero_revenue},
      // Revenue cleared by an update.
      domain::LeadUpdated{.fields = {domain::LeadField::kExpectedRevenue},
                          .profile = no_revenue,
                          .time = At(20)},
      domain::LeadsMerged{.merged_ids = {"l-4"},
                          .profile = no_revenue,
                          .moved_tasks = {undated, far},
                          .time = At(21)},
      domain::TaskScheduled{.task = undated, .time = At(22)},
      // An override to zero is still an override.
      domain::ProbabilityOverridden{.value = 0, .time = At(23)},
      domain::AutomatedProbabilityChanged{.value = -0.5, .time = At(24)},
      // Before the epoch, with a fractional second.
      domain::LeadRestored{.time = absl::FromUnixNanos(-1'234'567'891)},
  };
}

domain::CustomerCreated FullCustomerCreated() {
  return domain::CustomerCreated{
      .customer_id = "c-1",
      .profile = {.kind = domain::CustomerKind::kCompany,
                  .name = "Ruiz SL",
                  .email = "Ana@x.es",
                  .email_normalized = "ana@x.es",
                  .phone = "+34 600 000 000",
                  .address = {.street = "Calle 1",
                              .city = "Sevilla",
                              .zip = "41001",
                              .state = "SE",
                              .country_code = "ES"}},
      .time = At(30)};
}

// One sample of every workspace event, each field set to a non-default value.
std::vector<domain::WorkspaceEvent> FullWorkspaceEvents() {
  return {
      domain::LeadsEnabledChanged{.leads_enabled = true, .time = At(40)},
      domain::CatalogueChanged{
          .catalogue = {domain::Outcome{.id = "WARM",
                                        .label = "Warm lead",
                                        .classifies = true,
                                        .tag = "Warm",
                                        .follow_up_days = 3,
                                        .rank = 2},
                        domain::Outcome{.id = "COLD",
                                        .label = "Cold lead",
                                        .classifies = true,
                                        .tag = "Cold",
                                        .follow_up_days = 90,
                                        .rank = 5}},
          .time = At(41)},
      domain::LostReasonsChanged{.lost_reasons = {"Price", "Timing"},
                                 .time = At(42)},
      domain::PipelineChanged{.pipeline_stages = {"Lead", "Offer", "Won"},
                              .time = At(43)},
      domain::ScoringChanged{
          .scoring = {.fields = {"country", "tags"}, .start_date = At(-100)},
          .time = At(44)},
      domain::WeekendRuleChanged{.skip_weekends = true, .time = At(45)},
      domain::DefaultCountryChanged{.default_country = "ES", .time = At(46)},
  };
}

// Workspace values whose presence the stored form must keep exactly.
std::vector<domain::WorkspaceEvent> EdgeWorkspaceEvents() {
  return {
      domain::LeadsEnabledChanged{.leads_enabled = false, .time = At(50)},
      // A follow-up due the same day is not the absence of one.
      domain::CatalogueChanged{
          .catalogue = {domain::Outcome{.id = "TODAY",
                                        .label = "Call today",
                                        .follow_up_days = 0},
                        domain::Outcome{.id = "NEVER", .label = "Never"}},
          .time = At(51)},
      domain::CatalogueChanged{.catalogue = domain::DefaultCatalogue(),
                               .time = At(52)},
      domain::LostReasonsChanged{.time = At(53)},
      // No start date: every closed lead counts.
      domain::ScoringChanged{.time = At(54)},
      domain::ScoringChanged{.scoring = {.start_date = absl::UnixEpoch()},
                             .time = At(55)},
      domain::WeekendRuleChanged{.skip_weekends = false, .time = At(56)},
      domain::DefaultCountryChanged{.time = At(57)},
  };
}

TEST(EventCodecTest, SamplesCoverEveryAlternative) {
  std::set<size_t> alternatives;
  for (const domain::LeadEvent& event : FullLeadEvents()) {
    alternatives.insert(event.index());
  }
  EXPECT_EQ(alternatives.size(), std::variant_size_v<domain::LeadEvent>);
}

TEST(EventCodecTest, EachAlternativeHasItsTypeAndSchemaVersion) {
  for (const domain::LeadEvent& event : FullLeadEvents()) {
    const eventstore::NewEvent encoded = EncodeLeadEvent(event, "ev-7");
    EXPECT_EQ(encoded.type, kLeadEventTypes[event.index()]);
    EXPECT_EQ(encoded.schema_version, 1u) << encoded.type;
    EXPECT_EQ(encoded.event_id, "ev-7") << encoded.type;
  }
  const eventstore::NewEvent customer =
      EncodeCustomerEvent(FullCustomerCreated(), "ev-8");
  EXPECT_EQ(customer.type, "CustomerCreated");
  EXPECT_EQ(customer.schema_version, 1u);
  EXPECT_EQ(customer.event_id, "ev-8");
}

TEST(EventCodecTest, SamplesSetEveryStoredField) {
  for (const domain::LeadEvent& event : FullLeadEvents()) {
    const eventstore::RecordedEvent recorded = Stored(event);
    EXPECT_THAT(UnsetFields(recorded), IsEmpty()) << recorded.type;
  }
  EXPECT_THAT(UnsetFields(Stored(FullCustomerCreated())), IsEmpty());
}

TEST(EventCodecTest, EveryLeadEventRoundTrips) {
  std::vector<domain::LeadEvent> events = FullLeadEvents();
  for (domain::LeadEvent& edge : EdgeLeadEvents()) events.push_back(edge);
  for (const domain::LeadEvent& event : events) {
    const eventstore::RecordedEvent recorded = Stored(event);
    SCOPED_TRACE(recorded.type);
    absl::StatusOr<domain::LeadEvent> decoded = DecodeLeadEvent(recorded);
    ASSERT_THAT(decoded, IsOk());
    EXPECT_TRUE(*decoded == event) << PayloadText(recorded);
  }
}

TEST(EventCodecTest, CustomerCreatedRoundTrips) {
  domain::CustomerCreated person = FullCustomerCreated();
  person.profile.kind = domain::CustomerKind::kPerson;
  for (const domain::CustomerCreated& created :
       {FullCustomerCreated(), person, domain::CustomerCreated{}}) {
    absl::StatusOr<domain::CustomerEvent> decoded =
        DecodeCustomerEvent(Stored(created));
    ASSERT_THAT(decoded, IsOk());
    EXPECT_TRUE(std::get<domain::CustomerCreated>(*decoded) == created)
        << PayloadText(Stored(created));
  }
}

TEST(EventCodecTest, WorkspaceSamplesCoverEveryAlternative) {
  std::set<size_t> alternatives;
  for (const domain::WorkspaceEvent& event : FullWorkspaceEvents()) {
    alternatives.insert(event.index());
  }
  EXPECT_EQ(alternatives.size(), std::variant_size_v<domain::WorkspaceEvent>);
}

TEST(EventCodecTest, EachWorkspaceEventHasItsTypeAndSchemaVersion) {
  for (const domain::WorkspaceEvent& event : FullWorkspaceEvents()) {
    const eventstore::NewEvent encoded = EncodeWorkspaceEvent(event, "ev-9");
    EXPECT_EQ(encoded.type, kWorkspaceEventTypes[event.index()]);
    EXPECT_EQ(encoded.schema_version, 1u) << encoded.type;
    EXPECT_EQ(encoded.event_id, "ev-9") << encoded.type;
  }
}

TEST(EventCodecTest, WorkspaceSamplesSetEveryStoredField) {
  for (const domain::WorkspaceEvent& event : FullWorkspaceEvents()) {
    const eventstore::RecordedEvent recorded = Stored(event);
    EXPECT_THAT(UnsetFields(recorded), IsEmpty()) << recorded.type;
  }
}

TEST(EventCodecTest, EveryWorkspaceEventRoundTrips) {
  std::vector<domain::WorkspaceEvent> events = FullWorkspaceEvents();
  for (domain::WorkspaceEvent& edge : EdgeWorkspaceEvents()) {
    events.push_back(edge);
  }
  for (const domain::WorkspaceEvent& event : events) {
    const eventstore::RecordedEvent recorded = Stored(event);
    SCOPED_TRACE(recorded.type);
    absl::StatusOr<domain::WorkspaceEvent> decoded =
        DecodeWorkspaceEvent(recorded);
    ASSERT_THAT(decoded, IsOk());
    EXPECT_TRUE(*decoded == event) << PayloadText(recorded);
  }
}

TEST(EventCodecTest, CatalogueChangedKeepsItsWireForm) {
  // Written by every build since the first: field numbers never change.
  const std::string golden(
      "\x0a\x0d"                   // 1 outcomes, 13 bytes
      "\x0a\x01\x41"               //   1 id "A"
      "\x12\x01\x61"               //   2 label "a"
      "\x18\x01"                   //   3 classifies
      "\x22\x01\x74"               //   4 tag "t"
      "\x28\x00"                   //   5 follow_up_days: 0, present
      "\x12\x04\x08\x01\x10\x02",  // 2 time {1 s, 2 ns}
      21);
  const domain::CatalogueChanged changed{
      .catalogue = {domain::Outcome{.id = "A",
                                    .label = "a",
                                    .classifies = true,
                                    .tag = "t",
                                    .follow_up_days = 0}},
      .time = absl::FromUnixSeconds(1) + absl::Nanoseconds(2)};
  eventstore::RecordedEvent recorded = Stored(changed);
  EXPECT_EQ(recorded.payload, golden);

  recorded.payload = golden;
  absl::StatusOr<domain::WorkspaceEvent> decoded =
      DecodeWorkspaceEvent(recorded);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_TRUE(std::get<domain::CatalogueChanged>(*decoded) == changed);
}

TEST(EventCodecTest, InfiniteTimesAreClampedToTheTimestampRange) {
  absl::StatusOr<domain::LeadEvent> decoded = DecodeLeadEvent(
      Stored(domain::LeadRestored{.time = absl::InfiniteFuture()}));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(std::get<domain::LeadRestored>(*decoded).time,
            absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                            absl::UTCTimeZone()) +
                absl::Nanoseconds(999'999'999));

  decoded = DecodeLeadEvent(
      Stored(domain::LeadRestored{.time = absl::InfinitePast()}));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(std::get<domain::LeadRestored>(*decoded).time,
            absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0),
                            absl::UTCTimeZone()));
}

TEST(EventCodecTest, LeadCreatedKeepsItsWireForm) {
  // Written by every build since the first: field numbers never change.
  const std::string golden(
      "\x0a\x01l"                      // 1 lead_id
      "\x10\x02"                       // 2 kind: opportunity
      "\x22\x01x"                      // 4 display_name
      "\x72\x00"                       // 14 address, empty
      "\xba\x01\x04\x08\x01\x10\x02",  // 23 create_time {1 s, 2 ns}
      17);
  const domain::LeadCreated created{
      .lead_id = "l",
      .kind = domain::LeadKind::kOpportunity,
      .profile = {.display_name = "x"},
      .time = absl::FromUnixSeconds(1) + absl::Nanoseconds(2)};
  eventstore::RecordedEvent recorded = Stored(created);
  EXPECT_EQ(recorded.payload, golden);

  recorded.payload = golden;
  absl::StatusOr<domain::LeadEvent> decoded = DecodeLeadEvent(recorded);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_TRUE(std::get<domain::LeadCreated>(*decoded) == created);
}

TEST(EventCodecTest, UnparsablePayloadIsDataLossNamingTypeAndPosition) {
  for (const domain::LeadEvent& event : FullLeadEvents()) {
    eventstore::RecordedEvent recorded = Stored(event, 42);
    recorded.payload = "\xff\xff\xff garbage";
    EXPECT_THAT(
        DecodeLeadEvent(recorded),
        StatusIs(absl::StatusCode::kDataLoss,
                 AllOf(HasSubstr(recorded.type), HasSubstr("position 42"))));
  }
  eventstore::RecordedEvent customer = Stored(FullCustomerCreated(), 43);
  customer.payload = "\xff\xff\xff garbage";
  EXPECT_THAT(
      DecodeCustomerEvent(customer),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("CustomerCreated"), HasSubstr("position 43"))));
}

TEST(EventCodecTest, UnknownLeadKindIsDataLoss) {
  eventstore::RecordedEvent recorded = Stored(FullLeadEvents()[0], 5);
  // Field 2 (kind), varint 9: a kind this build does not know.
  recorded.payload += std::string("\x10\x09", 2);
  EXPECT_THAT(DecodeLeadEvent(recorded),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("lead kind 9"), HasSubstr("position 5"),
                             HasSubstr("LeadCreated"))));
}

TEST(EventCodecTest, UnknownLeadFieldIsDataLoss) {
  pb::LeadUpdated updated;
  updated.add_fields(pb::LEAD_FIELD_EMAIL);
  updated.add_fields(static_cast<pb::LeadField>(99));
  eventstore::RecordedEvent recorded{.position = 6,
                                     .type = "LeadUpdated",
                                     .schema_version = 1,
                                     .payload = updated.SerializeAsString()};
  EXPECT_THAT(
      DecodeLeadEvent(recorded),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("lead field 99"), HasSubstr("position 6"))));
}

TEST(EventCodecTest, UnknownTaskKindOrStatusIsDataLoss) {
  pb::TaskScheduled scheduled;
  scheduled.mutable_task()->set_kind(static_cast<pb::TaskKind>(9));
  scheduled.mutable_task()->set_status(pb::TASK_STATUS_OPEN);
  eventstore::RecordedEvent recorded{.position = 7,
                                     .type = "TaskScheduled",
                                     .schema_version = 1,
                                     .payload = scheduled.SerializeAsString()};
  EXPECT_THAT(DecodeLeadEvent(recorded),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("task kind 9")));

  // UNSPECIFIED is never written either.
  scheduled.mutable_task()->set_kind(pb::TASK_KIND_CONTACT);
  scheduled.mutable_task()->set_status(pb::TASK_STATUS_UNSPECIFIED);
  recorded.payload = scheduled.SerializeAsString();
  EXPECT_THAT(DecodeLeadEvent(recorded), StatusIs(absl::StatusCode::kDataLoss,
                                                  HasSubstr("task status 0")));
}

TEST(EventCodecTest, UnknownContactStateIsDataLoss) {
  eventstore::RecordedEvent recorded = Stored(FullLeadEvents()[1], 8);
  pb::LeadUpdated updated;
  ASSERT_TRUE(updated.ParseFromString(recorded.payload));
  updated.mutable_contact()->set_mobile_state(static_cast<pb::ContactState>(5));
  recorded.payload = updated.SerializeAsString();
  EXPECT_THAT(
      DecodeLeadEvent(recorded),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("contact state 5")));
}

TEST(EventCodecTest, UnknownCustomerKindIsDataLoss) {
  eventstore::RecordedEvent recorded = Stored(FullCustomerCreated(), 9);
  pb::CustomerCreated created;
  ASSERT_TRUE(created.ParseFromString(recorded.payload));
  created.mutable_profile()->set_kind(static_cast<pb::CustomerKind>(7));
  recorded.payload = created.SerializeAsString();
  EXPECT_THAT(
      DecodeCustomerEvent(recorded),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("customer kind 7"), HasSubstr("position 9"))));
}

TEST(EventCodecTest, TimestampOutOfRangeIsDataLoss) {
  pb::LeadWon won;
  won.mutable_time()->set_seconds(1);
  won.mutable_time()->set_nanos(-1);
  eventstore::RecordedEvent recorded{.position = 10,
                                     .type = "LeadWon",
                                     .schema_version = 1,
                                     .payload = won.SerializeAsString()};
  EXPECT_THAT(DecodeLeadEvent(recorded),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("timestamp")));
}

TEST(EventCodecTest, UnknownTypeOrSchemaIsFailedPrecondition) {
  eventstore::RecordedEvent recorded = Stored(FullLeadEvents()[0], 9);
  recorded.schema_version = 2;
  EXPECT_THAT(
      DecodeLeadEvent(recorded),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("position 9")));
  recorded.schema_version = 1;
  recorded.type = "LeadTeleported";
  EXPECT_THAT(
      DecodeLeadEvent(recorded),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("LeadTeleported"), HasSubstr("position 9"))));
}

TEST(EventCodecTest, UnparsableWorkspacePayloadIsDataLoss) {
  for (const domain::WorkspaceEvent& event : FullWorkspaceEvents()) {
    eventstore::RecordedEvent recorded = Stored(event, 44);
    recorded.payload = "\xff\xff\xff garbage";
    EXPECT_THAT(
        DecodeWorkspaceEvent(recorded),
        StatusIs(absl::StatusCode::kDataLoss,
                 AllOf(HasSubstr(recorded.type), HasSubstr("position 44"))));
  }
}

TEST(EventCodecTest, WorkspaceTimestampOutOfRangeIsDataLoss) {
  pb::ScoringChanged changed;
  changed.mutable_start_date()->set_seconds(1);
  changed.mutable_start_date()->set_nanos(1'000'000'000);
  eventstore::RecordedEvent recorded{.position = 45,
                                     .type = "ScoringChanged",
                                     .schema_version = 1,
                                     .payload = changed.SerializeAsString()};
  EXPECT_THAT(
      DecodeWorkspaceEvent(recorded),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("timestamp"), HasSubstr("position 45"))));
}

TEST(EventCodecTest, UnknownWorkspaceTypeOrSchemaIsFailedPrecondition) {
  eventstore::RecordedEvent recorded = Stored(FullWorkspaceEvents()[1], 46);
  recorded.schema_version = 2;
  EXPECT_THAT(DecodeWorkspaceEvent(recorded),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("position 46")));
  recorded.schema_version = 1;
  recorded.type = "CurrencyChanged";
  EXPECT_THAT(
      DecodeWorkspaceEvent(recorded),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("CurrencyChanged"), HasSubstr("position 46"))));
}

TEST(EventCodecTest, EventsOfAnotherStreamAreFailedPrecondition) {
  EXPECT_THAT(DecodeCustomerEvent(Stored(FullLeadEvents()[0], 11)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("position 11")));
  EXPECT_THAT(DecodeLeadEvent(Stored(FullCustomerCreated(), 12)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("position 12")));
  EXPECT_THAT(DecodeWorkspaceEvent(Stored(FullLeadEvents()[0], 13)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("position 13")));
  EXPECT_THAT(DecodeLeadEvent(Stored(FullWorkspaceEvents()[0], 14)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("position 14")));
}

TEST(EventCodecTest, KnownTypesAreEveryStoredTypeEachWithItsPayloadMessage) {
  std::vector<std::string> expected(kLeadEventTypes.begin(),
                                    kLeadEventTypes.end());
  expected.push_back("CustomerCreated");
  expected.insert(expected.end(), kWorkspaceEventTypes.begin(),
                  kWorkspaceEventTypes.end());
  EXPECT_THAT(KnownEventTypes(),
              ::testing::UnorderedElementsAreArray(expected));
  for (const std::string& type : KnownEventTypes()) {
    EXPECT_NE(google::protobuf::DescriptorPool::generated_pool()
                  ->FindMessageTypeByName("leadledger.events.v1." + type),
              nullptr)
        << type;
  }
}

}  // namespace
}  // namespace leadledger::projections
