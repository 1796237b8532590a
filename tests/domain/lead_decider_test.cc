#include "domain/lead_decider.h"

#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::domain {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

CreateLead Create(LeadProfile profile, WorkspaceSettings settings = {}) {
  return CreateLead{.lead_id = "l1",
                    .profile = std::move(profile),
                    .settings = std::move(settings),
                    .now = kNow};
}

LeadProfile Named(std::string name) {
  LeadProfile profile;
  profile.display_name = std::move(name);
  return profile;
}

// Decides `command` on `state` and returns the single LeadCreated it must
// produce.
LeadCreated CreatedBy(const Lead& state, const LeadCommand& command) {
  absl::StatusOr<std::vector<LeadEvent>> events = Decide(state, command);
  EXPECT_THAT(events, IsOk());
  if (!events.ok() || events->size() != 1 ||
      !std::holds_alternative<LeadCreated>(events->front())) {
    ADD_FAILURE() << "expected exactly one LeadCreated";
    return {};
  }
  return std::get<LeadCreated>(events->front());
}

TEST(CreateLeadTest, CreatesAnActiveLeadWithTheGivenProfile) {
  LeadProfile profile = Named("Solar panels for the school");
  profile.contact_name = "Ana Ruiz";
  profile.email = "Ana@Example.com";
  profile.tags = {"solar", "b2b"};
  profile.priority = 2;
  profile.expected_revenue =
      Money{.amount_minor = 150000, .currency_code = "eur"};

  LeadCreated created = CreatedBy(Lead{}, Create(profile));

  EXPECT_EQ(created.lead_id, "l1");
  EXPECT_EQ(created.kind, LeadKind::kLead);
  EXPECT_EQ(created.stage, "");
  EXPECT_EQ(created.profile.display_name, "Solar panels for the school");
  EXPECT_EQ(created.profile.email, "Ana@Example.com");
  EXPECT_EQ(created.contact.email_normalized, "ana@example.com");
  EXPECT_EQ(created.contact.email_state, ContactState::kCorrect);
  EXPECT_THAT(created.profile.tags, ElementsAre("b2b", "solar"));
  EXPECT_EQ(created.profile.expected_revenue->currency_code, "EUR");
  EXPECT_EQ(created.time, kNow);
}

TEST(CreateLeadTest, WithLeadsDisabledCreatesAnOpportunityInTheFirstStage) {
  WorkspaceSettings settings;
  settings.leads_enabled = false;
  settings.pipeline_stages = {"Intake", "Won"};

  LeadCreated created = CreatedBy(Lead{}, Create(Named("x"), settings));

  EXPECT_EQ(created.kind, LeadKind::kOpportunity);
  EXPECT_EQ(created.stage, "Intake");
}

TEST(CreateLeadTest, TrimsTextAndDropsBlankTags) {
  LeadProfile profile = Named("  Roof repair \n");
  profile.tags = {" roof ", "roof", "  ", ""};
  profile.address.country_code = " es ";

  LeadCreated created = CreatedBy(Lead{}, Create(profile));

  EXPECT_EQ(created.profile.display_name, "Roof repair");
  EXPECT_THAT(created.profile.tags, ElementsAre("roof"));
  EXPECT_EQ(created.profile.address.country_code, "ES");
}

TEST(CreateLeadTest, KeepsAnInvalidEmailAsTypedAndMarksIt) {
  LeadProfile profile = Named("x");
  profile.email = "not an email";

  LeadCreated created = CreatedBy(Lead{}, Create(profile));

  EXPECT_EQ(created.profile.email, "not an email");
  EXPECT_EQ(created.contact.email_normalized, "");
  EXPECT_EQ(created.contact.email_state, ContactState::kIncorrect);
}

struct InvalidCase {
  std::string field;
  LeadProfile profile;
};

class CreateLeadInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(CreateLeadInvalidTest, IsRefusedNamingTheField) {
  EXPECT_THAT(Decide(Lead{}, Create(GetParam().profile)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(GetParam().field + ":")));
}

LeadProfile With(void (*edit)(LeadProfile&)) {
  LeadProfile profile = Named("valid");
  edit(profile);
  return profile;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, CreateLeadInvalidTest,
    ::testing::Values(
        InvalidCase{"display_name", Named("")},
        InvalidCase{"display_name", Named(" \t ")},
        InvalidCase{"display_name",
                    Named(std::string(kMaxNameLength + 1, 'x'))},
        InvalidCase{"description", With([](LeadProfile& p) {
                      p.description.assign(kMaxDescriptionLength + 1, 'x');
                    })},
        InvalidCase{"priority", With([](LeadProfile& p) { p.priority = 4; })},
        InvalidCase{"priority", With([](LeadProfile& p) { p.priority = -1; })},
        InvalidCase{"tags", With([](LeadProfile& p) {
                      p.tags.insert(std::string(kMaxTagLength + 1, 't'));
                    })},
        InvalidCase{"tags", With([](LeadProfile& p) {
                      for (int i = 0; i <= kMaxTags; ++i) {
                        p.tags.insert("t" + std::to_string(i));
                      }
                    })},
        InvalidCase{"address.country_code", With([](LeadProfile& p) {
                      p.address.country_code = "ESP";
                    })},
        InvalidCase{"address.country_code", With([](LeadProfile& p) {
                      p.address.country_code = "E1";
                    })},
        InvalidCase{"expected_revenue.currency_code", With([](LeadProfile& p) {
                      p.expected_revenue = Money{.amount_minor = 1};
                    })},
        InvalidCase{"expected_revenue.currency_code", With([](LeadProfile& p) {
                      p.expected_revenue =
                          Money{.amount_minor = 1, .currency_code = "EURO"};
                    })},
        InvalidCase{"expected_revenue.amount_minor", With([](LeadProfile& p) {
                      p.expected_revenue =
                          Money{.amount_minor = -5, .currency_code = "EUR"};
                    })}));

TEST(CreateLeadTest, RefusesAnEmptyLeadId) {
  CreateLead command = Create(Named("x"));
  command.lead_id.clear();
  EXPECT_THAT(
      Decide(Lead{}, command),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lead_id")));
}

TEST(CreateLeadTest, RefusesAWorkspaceWithoutPipeline) {
  WorkspaceSettings settings;
  settings.pipeline_stages.clear();
  EXPECT_THAT(Decide(Lead{}, Create(Named("x"), settings)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(CreateLeadTest, CreatingAnExistingLeadIsAlreadyExists) {
  const CreateLead command = Create(Named("x"));
  Lead state = Evolve(Lead{}, CreatedBy(Lead{}, command));

  EXPECT_THAT(Decide(state, command),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("l1")));
}

TEST(EvolveTest, LeadCreatedGivesAnActiveLeadWithTheDecidedValues) {
  LeadProfile profile = Named("x");
  profile.email = "A@B.io";
  LeadCreated created = CreatedBy(Lead{}, Create(profile));

  Lead lead = Evolve(Lead{}, created);

  EXPECT_TRUE(lead.exists);
  EXPECT_EQ(lead.id, "l1");
  EXPECT_EQ(lead.status, LeadStatus::kActive);
  EXPECT_EQ(lead.kind, LeadKind::kLead);
  EXPECT_EQ(lead.profile, created.profile);
  EXPECT_EQ(lead.email_normalized, "a@b.io");
  EXPECT_EQ(lead.create_time, kNow);
  EXPECT_EQ(lead.update_time, kNow);
}

}  // namespace
}  // namespace leadledger::domain
