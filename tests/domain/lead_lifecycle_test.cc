// Updates, classification from the profile, lost / restore / won and
// probability (SPEC §1-§3, §6), as given-events / when-command / then-events.
#include <string>
#include <vector>

#include "domain/lead_decider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/domain/lead_test_util.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::domain {
namespace {

using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace ::leadledger::domain::testing;  // NOLINT: test vocabulary.

WorkspaceSettings Settings() { return WorkspaceSettings{}; }

LeadEvent Lost() { return LeadLost{.reason = "", .time = At(1)}; }
LeadEvent Merged() { return LeadMergedInto{.head_id = "head", .time = At(1)}; }
LeadEvent Converted() { return LeadConverted{.stage = "New", .time = At(1)}; }

// --- UpdateLead ---

UpdateLead Update(std::set<LeadField> fields, LeadProfile profile) {
  return UpdateLead{.fields = std::move(fields),
                    .profile = std::move(profile),
                    .settings = Settings(),
                    .now = At(5)};
}

TEST(UpdateLeadTest, ChangesOnlyTheMaskedFieldsThatDiffer) {
  LeadProfile typed;
  typed.display_name = "ignored: not in the mask";
  typed.contact_name = " Ana ";
  typed.job_title = "";  // In the mask but unchanged.
  LeadUpdated updated = Only<LeadUpdated>(
      When({Created("l1")},
           Update({LeadField::kContactName, LeadField::kJobTitle}, typed)));

  EXPECT_THAT(updated.fields, ElementsAre(LeadField::kContactName));
  EXPECT_EQ(updated.profile.contact_name, "Ana");
  EXPECT_EQ(updated.time, At(5));
  Lead lead = Then({Created("l1")}, {updated});
  EXPECT_EQ(lead.profile.contact_name, "Ana");
  EXPECT_EQ(lead.profile.display_name, "Lead l1");
  EXPECT_EQ(lead.update_time, At(5));
}

TEST(UpdateLeadTest, SameValuesAreANoOp) {
  LeadProfile typed;
  typed.display_name = "Lead l1";
  EXPECT_THAT(When({Created("l1")}, Update({LeadField::kDisplayName}, typed)),
              IsEmpty());
}

TEST(UpdateLeadTest, ContactChangesRecomputeDerivedData) {
  LeadProfile typed;
  typed.email = "Bo@Example.ORG";
  typed.phone = "600 123 456";
  typed.address.country_code = "es";
  LeadUpdated updated = Only<LeadUpdated>(
      When({Created("l1")},
           Update({LeadField::kEmail, LeadField::kPhone, LeadField::kAddress},
                  typed)));
  Lead lead = Then({Created("l1")}, {updated});
  EXPECT_EQ(lead.email_normalized, "bo@example.org");
  EXPECT_EQ(lead.email_state, ContactState::kCorrect);
  EXPECT_EQ(lead.phone_e164, "+34600123456");
  EXPECT_EQ(lead.phone_state, ContactState::kCorrect);
  EXPECT_EQ(lead.profile.address.country_code, "ES");
}

TEST(UpdateLeadTest, StageOfAnOpportunity) {
  UpdateLead command = Update({LeadField::kStage}, {});
  command.stage = "Proposition";
  LeadUpdated updated =
      Only<LeadUpdated>(When({Created("o1", LeadKind::kOpportunity)}, command));
  EXPECT_EQ(Then({Created("o1", LeadKind::kOpportunity)}, {updated}).stage,
            "Proposition");

  command.stage = "Nowhere";
  EXPECT_THAT(Decide(Given({Created("o1", LeadKind::kOpportunity)}), command),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stage")));
  command.stage = "Qualified";
  EXPECT_THAT(Decide(Given({Created("l1")}), command),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not an opportunity")));
}

TEST(UpdateLeadTest, RefusesInvalidValuesAndEmptyMasks) {
  LeadProfile typed;
  typed.display_name = "  ";
  EXPECT_THAT(
      Decide(Given({Created("l1")}), Update({LeadField::kDisplayName}, typed)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("display_name")));
  typed.priority = 9;
  EXPECT_THAT(
      Decide(Given({Created("l1")}), Update({LeadField::kPriority}, typed)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("priority")));
  EXPECT_THAT(
      Decide(Given({Created("l1")}), Update({}, typed)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
}

TEST(UpdateLeadTest, UnknownAndMergedLeadsAreRefused) {
  LeadProfile typed;
  typed.source = "web";
  EXPECT_THAT(Decide(Lead{}, Update({LeadField::kSource}, typed)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Decide(Given({Created("l1"), Merged()}),
                     Update({LeadField::kSource}, typed)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("merged into lead head")));
}

TEST(LeadFieldTest, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(LeadField::kStage); ++i) {
    const auto field = static_cast<LeadField>(i);
    EXPECT_EQ(LeadFieldFromName(LeadFieldName(field)), field);
  }
  EXPECT_EQ(LeadFieldFromName("nonsense"), std::nullopt);
  EXPECT_EQ(LeadFieldName(static_cast<LeadField>(99)), "");
}

// --- ClassifyLead (from the profile) ---

ClassifyLead Classify(std::string outcome) {
  return ClassifyLead{
      .outcome_id = std::move(outcome), .settings = Settings(), .now = At(3)};
}

struct ClassifyCase {
  std::string outcome;
  std::string tag;
};

class ClassifyTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyTest, EachClassifyingOutcomeAttachesItsTag) {
  const ClassifyCase& c = GetParam();
  LeadClassified classified =
      Only<LeadClassified>(When({Created("l1")}, Classify(c.outcome)));
  EXPECT_EQ(classified.outcome_id, c.outcome);
  EXPECT_EQ(classified.tag, c.tag);
  Lead lead = Then({Created("l1")}, {classified});
  EXPECT_EQ(lead.classification, c.outcome);
  EXPECT_THAT(lead.profile.tags, ElementsAre(c.tag));
}

INSTANTIATE_TEST_SUITE_P(
    Pulse, ClassifyTest,
    ::testing::Values(ClassifyCase{"POTENTIAL_CONSULTANT",
                                   "Potential consultant"},
                      ClassifyCase{"HOT_PROSPECT", "Hot prospect"},
                      ClassifyCase{"THERE_IS_A_CHANCE", "There's a chance"},
                      ClassifyCase{"ON_THE_FENCE", "On the fence"}));

TEST(ClassifyLeadTest, ANewClassificationReplacesTheOldTag) {
  std::vector<LeadEvent> given = {Created("l1")};
  given.push_back(Only<LeadClassified>(When(given, Classify("HOT_PROSPECT"))));
  LeadClassified again =
      Only<LeadClassified>(When(given, Classify("ON_THE_FENCE")));
  EXPECT_EQ(again.removed_tag, "Hot prospect");
  EXPECT_THAT(Then(given, {again}).profile.tags, ElementsAre("On the fence"));
}

TEST(ClassifyLeadTest, SameClassificationIsANoOp) {
  std::vector<LeadEvent> given = {Created("l1")};
  given.push_back(Only<LeadClassified>(When(given, Classify("HOT_PROSPECT"))));
  EXPECT_THAT(When(given, Classify("HOT_PROSPECT")), IsEmpty());
}

TEST(ClassifyLeadTest, BlankClearsTheClassificationAndItsTag) {
  std::vector<LeadEvent> given = {Created("l1")};
  given.push_back(Only<LeadClassified>(When(given, Classify("HOT_PROSPECT"))));
  LeadClassificationCleared cleared =
      Only<LeadClassificationCleared>(When(given, Classify("")));
  EXPECT_EQ(cleared.removed_tag, "Hot prospect");
  Lead lead = Then(given, {cleared});
  EXPECT_EQ(lead.classification, "");
  EXPECT_THAT(lead.profile.tags, IsEmpty());
  // Clearing what is clear changes nothing.
  EXPECT_THAT(When({Created("l1")}, Classify("")), IsEmpty());
}

TEST(ClassifyLeadTest, TaskOutcomesAndUnknownOutcomesDoNotClassify) {
  for (const char* outcome : {"NOT_SURE_YET", "NOT_INTERESTED"}) {
    EXPECT_THAT(Decide(Given({Created("l1")}), Classify(outcome)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("does not classify")));
  }
  EXPECT_THAT(Decide(Given({Created("l1")}), Classify("MAYBE")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown outcome")));
}

TEST(ClassifyLeadTest, OnlyActiveLeadsClassify) {
  EXPECT_THAT(
      Decide(Given({Created("l1"), Lost()}), Classify("HOT_PROSPECT")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("lost")));
  EXPECT_THAT(Decide(Lead{}, Classify("HOT_PROSPECT")),
              StatusIs(absl::StatusCode::kNotFound));
}

// --- Lost, restore, won ---

MarkLeadLost LoseWith(std::string reason) {
  return MarkLeadLost{.reason = std::move(reason),
                      .feedback = " too pricey ",
                      .settings = Settings(),
                      .now = At(9)};
}

TEST(MarkLostTest, RecordsReasonAndCancelsOpenTasks) {
  std::vector<LeadEvent> given = {
      Created("l1"),
      TaskScheduled{.task = FollowUpTask("t1", At(100)), .time = At(1)},
      TaskScheduled{.task = FollowUpTask("t2", At(200), false), .time = At(2)}};
  std::vector<LeadEvent> events = When(given, LoseWith("Too expensive"));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(std::get<TaskCancelled>(events[0]).task_id, "t1");
  EXPECT_EQ(std::get<TaskCancelled>(events[1]).task_id, "t2");
  const LeadLost& lost = std::get<LeadLost>(events[2]);
  EXPECT_EQ(lost.reason, "Too expensive");
  EXPECT_EQ(lost.feedback, "too pricey");

  Lead lead = Then(given, events);
  EXPECT_EQ(lead.status, LeadStatus::kLost);
  EXPECT_EQ(lead.closed_time, At(9));
  EXPECT_THAT(lead.open_tasks, IsEmpty());
  EXPECT_EQ(EffectiveProbability(lead), 0);
}

TEST(MarkLostTest, ReasonMustBeTheWorkspacesAndLostTwiceIsANoOp) {
  EXPECT_THAT(
      Decide(Given({Created("l1")}), LoseWith("Bad vibes")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lost_reason")));
  EXPECT_THAT(When({Created("l1"), Lost()}, LoseWith("")), IsEmpty());
  EXPECT_THAT(Only<LeadLost>(When({Created("l1")}, LoseWith(""))).reason, "");
}

TEST(MarkLostTest, WonAndMergedLeadsAreRefused) {
  EXPECT_THAT(
      Decide(Given({Created("o1", LeadKind::kOpportunity),
                    LeadWon{.stage = "Won", .time = At(1)}}),
             LoseWith("")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("won")));
  EXPECT_THAT(
      Decide(Given({Created("l1"), Merged()}), LoseWith("")),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("merged")));
}

TEST(RestoreTest, LostLeadBecomesActiveWithoutReason) {
  std::vector<LeadEvent> given = {Created("l1")};
  for (const LeadEvent& e : When(given, LoseWith("Unreachable"))) {
    given.push_back(e);
  }
  LeadRestored restored =
      Only<LeadRestored>(When(given, RestoreLead{.now = At(20)}));
  Lead lead = Then(given, {restored});
  EXPECT_EQ(lead.status, LeadStatus::kActive);
  EXPECT_EQ(lead.lost_reason, "");
  EXPECT_EQ(lead.closed_time, std::nullopt);
  // Restoring an active lead changes nothing; a won one cannot.
  EXPECT_THAT(When({Created("l1")}, RestoreLead{.now = At(20)}), IsEmpty());
  EXPECT_THAT(Decide(Given({Created("o1", LeadKind::kOpportunity),
                            LeadWon{.stage = "Won", .time = At(1)}}),
                     RestoreLead{.now = At(20)}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(MarkWonTest, OpportunityTakesTheLastStageAndFullProbability) {
  LeadWon won =
      Only<LeadWon>(When({Created("o1", LeadKind::kOpportunity)},
                         MarkLeadWon{.settings = Settings(), .now = At(4)}));
  EXPECT_EQ(won.stage, "Won");
  Lead lead = Then({Created("o1", LeadKind::kOpportunity)}, {won});
  EXPECT_EQ(lead.status, LeadStatus::kWon);
  EXPECT_EQ(EffectiveProbability(lead), 100);
  EXPECT_THAT(When({Created("o1", LeadKind::kOpportunity), won},
                   MarkLeadWon{.settings = Settings(), .now = At(5)}),
              IsEmpty());
}

TEST(MarkWonTest, LeadsLostLeadsAndEmptyPipelinesAreRefused) {
  const MarkLeadWon win{.settings = Settings(), .now = At(4)};
  EXPECT_THAT(Decide(Given({Created("l1")}), win),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("convert it first")));
  EXPECT_THAT(
      Decide(Given({Created("o1", LeadKind::kOpportunity), Lost()}), win),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("lost")));
  MarkLeadWon no_pipeline = win;
  no_pipeline.settings.pipeline_stages.clear();
  EXPECT_THAT(
      Decide(Given({Created("o1", LeadKind::kOpportunity)}), no_pipeline),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("pipeline")));
}

// --- Probability ---

TEST(ProbabilityTest, OverrideWinsUntilCleared) {
  std::vector<LeadEvent> given = {
      Created("l1"), AutomatedProbabilityChanged{.value = 35.5, .time = At(1)}};
  EXPECT_EQ(EffectiveProbability(Given(given)), 35.5);

  ProbabilityOverridden overridden = Only<ProbabilityOverridden>(
      When(given, SetProbabilityOverride{.value = 80, .now = At(2)}));
  given.push_back(overridden);
  EXPECT_EQ(EffectiveProbability(Given(given)), 80);
  EXPECT_THAT(When(given, SetProbabilityOverride{.value = 80, .now = At(3)}),
              IsEmpty());

  given.push_back(Only<ProbabilityOverrideCleared>(
      When(given, ClearProbabilityOverride{.now = At(4)})));
  EXPECT_EQ(EffectiveProbability(Given(given)), 35.5);
  EXPECT_THAT(When(given, ClearProbabilityOverride{.now = At(5)}), IsEmpty());
}

TEST(ProbabilityTest, OutOfRangeAndClosedLeadsAreRefused) {
  for (double bad : {-1.0, 100.5, std::nan("")}) {
    EXPECT_THAT(
        Decide(Given({Created("l1")}),
               SetProbabilityOverride{.value = bad, .now = At(1)}),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("probability")));
  }
  EXPECT_THAT(Decide(Given({Created("l1"), Lost()}),
                     SetProbabilityOverride{.value = 5, .now = At(1)}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ProbabilityTest, AutomatedUpdatesOnlyOpenLeadsAndOnlyOnChange) {
  const UpdateAutomatedProbability rescore{.value = 42, .now = At(1)};
  AutomatedProbabilityChanged changed =
      Only<AutomatedProbabilityChanged>(When({Created("l1")}, rescore));
  EXPECT_EQ(changed.value, 42);
  EXPECT_THAT(When({Created("l1"), changed}, rescore), IsEmpty());
  EXPECT_THAT(When({Created("l1"), Lost()}, rescore), IsEmpty());
  EXPECT_THAT(Decide(Given({Created("l1")}),
                     UpdateAutomatedProbability{.value = 101, .now = At(1)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TimeOfTest, EveryEventCarriesItsTime) {
  EXPECT_EQ(TimeOf(Converted()), At(1));
  EXPECT_EQ(TimeOf(Created("x")), kT0);
}

}  // namespace
}  // namespace leadledger::domain
