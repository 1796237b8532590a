#include "projections/event_codec.h"

#include <string>
#include <variant>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::HasSubstr;

// What the store would hand back for `event` at `position`.
eventstore::RecordedEvent Stored(const domain::LeadEvent& event,
                                 uint64_t position) {
  eventstore::NewEvent encoded = EncodeLeadEvent(event, "ev-1");
  eventstore::RecordedEvent recorded;
  recorded.event_id = encoded.event_id;
  recorded.type = encoded.type;
  recorded.schema_version = encoded.schema_version;
  recorded.payload = encoded.payload;
  recorded.position = position;
  return recorded;
}

domain::LeadCreated FullLeadCreated() {
  domain::LeadCreated created;
  created.lead_id = "l-1";
  created.kind = domain::LeadKind::kOpportunity;
  created.stage = "New";
  domain::LeadProfile& p = created.profile;
  p.display_name = "Roof";
  p.contact_name = "Ana";
  p.company_name = "Ruiz SL";
  p.email = "Ana@x.es";
  p.phone = "+34 600 000 000";
  p.mobile = "600000001";
  p.website = "https://x.es";
  p.job_title = "CEO";
  p.address = {.street = "Calle 1",
               .city = "Sevilla",
               .zip = "41001",
               .state = "SE",
               .country_code = "ES"};
  p.language = "es_ES";
  p.source = "referral";
  p.tags = {"a", "b"};
  p.description = "multi\nline";
  p.owner_id = "u-1";
  p.team_id = "t-1";
  p.priority = 3;
  p.expected_revenue =
      domain::Money{.amount_minor = 12345, .currency_code = "EUR"};
  created.email_normalized = "ana@x.es";
  created.email_state = domain::ContactState::kCorrect;
  created.create_time = absl::FromUnixMicros(1'790'000'000'123'456);
  return created;
}

TEST(EventCodecTest, LeadCreatedRoundTripsEveryField) {
  const domain::LeadCreated created = FullLeadCreated();
  eventstore::RecordedEvent recorded = Stored(created, 7);
  EXPECT_EQ(recorded.type, "LeadCreated");
  EXPECT_EQ(recorded.event_id, "ev-1");

  absl::StatusOr<domain::LeadEvent> decoded = DecodeLeadEvent(recorded);
  ASSERT_THAT(decoded, IsOk());
  ASSERT_TRUE(std::holds_alternative<domain::LeadCreated>(*decoded));
  EXPECT_EQ(std::get<domain::LeadCreated>(*decoded), created);
}

TEST(EventCodecTest, MinimalLeadCreatedRoundTrips) {
  domain::LeadCreated created;
  created.lead_id = "l-2";
  created.profile.display_name = "x";
  created.create_time = absl::FromUnixSeconds(0);

  absl::StatusOr<domain::LeadEvent> decoded =
      DecodeLeadEvent(Stored(created, 1));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(std::get<domain::LeadCreated>(*decoded), created);
}

TEST(EventCodecTest, UnparsablePayloadIsDataLossNamingThePosition) {
  eventstore::RecordedEvent recorded = Stored(FullLeadCreated(), 42);
  recorded.payload = "\xff\xff\xff garbage";
  EXPECT_THAT(DecodeLeadEvent(recorded),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 42")));
}

TEST(EventCodecTest, UnknownEnumValueIsDataLoss) {
  eventstore::RecordedEvent recorded = Stored(FullLeadCreated(), 5);
  // Field 2 (kind), varint 9: a kind this build does not know.
  recorded.payload += std::string("\x10\x09", 2);
  EXPECT_THAT(DecodeLeadEvent(recorded),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("lead kind")));
}

TEST(EventCodecTest, UnknownTypeOrSchemaIsFailedPrecondition) {
  eventstore::RecordedEvent recorded = Stored(FullLeadCreated(), 9);
  recorded.schema_version = 2;
  EXPECT_THAT(
      DecodeLeadEvent(recorded),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("position 9")));
  recorded.schema_version = 1;
  recorded.type = "LeadTeleported";
  EXPECT_THAT(DecodeLeadEvent(recorded),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("LeadTeleported")));
}

}  // namespace
}  // namespace leadledger::projections
