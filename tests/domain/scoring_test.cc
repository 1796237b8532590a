#include "domain/scoring.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::domain {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Optional;

// The default pipeline: New, Qualified, Proposition, Won.
constexpr int kStages = 4;
constexpr int kNew = 0;
constexpr int kQualified = 1;
constexpr int kProposition = 2;
constexpr int kWonStage = 3;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

// A lead of team "sales" created at kStart.
ScoringLead LeadAt(int stage, std::string team = "sales") {
  ScoringLead lead;
  lead.team_id = std::move(team);
  lead.stage_index = stage;
  lead.create_time = kStart;
  return lead;
}

ScoringLead With(ScoringLead lead, std::string field,
                 std::vector<std::string> values) {
  lead.field_values[std::move(field)] = std::move(values);
  return lead;
}

class ScoringTest : public ::testing::Test {
 protected:
  void Won(const ScoringLead& lead, int times = 1) {
    for (int i = 0; i < times; ++i) {
      table_.CountClosed(lead, ClosedOutcome::kWon, settings_, kStages);
    }
  }
  void Lost(const ScoringLead& lead, int times = 1) {
    for (int i = 0; i < times; ++i) {
      table_.CountClosed(lead, ClosedOutcome::kLost, settings_, kStages);
    }
  }
  std::optional<double> Score(const ScoringLead& lead) const {
    return AutomatedProbability(table_, lead, settings_, kStages);
  }

  ScoringSettings settings_{.fields = {}, .start_date = kStart};
  FrequencyTable table_;
};

// --- Hand-computed probabilities over one history --------------------------
//
// Team "sales", fields source and country. Closed leads:
//   won  x4 at Won:       web/ES, web/FR, referral/ES, referral/ES
//   lost at New:          web/ES
//   lost at Qualified:    web/FR
//   lost at Proposition:  web/FR
// Counts, smoothed (+0.1):
//   stage New          won 4.1  lost 3.1   <- every counted lead; W0, L0
//   stage Qualified    won 4.1  lost 2.1
//   stage Proposition  won 4.1  lost 1.1
//   source   web 2.1/3.1, referral 2.1/0.1   totals won 4.2, lost 3.2
//   country  ES  3.1/1.1, FR       1.1/2.1   totals won 4.2, lost 3.2
//
// The prior is W0 / (W0 + L0) and the stage likelihoods are W_s / W0 and
// L_s / L0 (as Odoo: the first stage's counts are the numbers of won and lost
// leads), so the odds S_won / S_lost reduce to
//   (W_s / L_s) · Π (won(v) / field won total) / (lost(v) / field lost total)
// and the probability is 100 · odds / (1 + odds).
struct ProbabilityCase {
  std::string name;
  ScoringLead lead;
  double expected;
};

class ReferenceHistoryTest : public ScoringTest {
 protected:
  void SetUp() override {
    settings_.fields = {kScoringFieldSource, kScoringFieldCountry};
    Won(Closed(kWonStage, "web", "ES"));
    Won(Closed(kWonStage, "web", "FR"));
    Won(Closed(kWonStage, "referral", "ES"), 2);
    Lost(Closed(kNew, "web", "ES"));
    Lost(Closed(kQualified, "web", "FR"));
    Lost(Closed(kProposition, "web", "FR"));
  }

  static ScoringLead Closed(int stage, std::string source,
                            std::string country) {
    return With(With(LeadAt(stage), kScoringFieldSource, {std::move(source)}),
                kScoringFieldCountry, {std::move(country)});
  }
};

class ReferenceProbabilityTest
    : public ReferenceHistoryTest,
      public ::testing::WithParamInterface<ProbabilityCase> {};

TEST_P(ReferenceProbabilityTest, ScoresAsComputedByHand) {
  EXPECT_THAT(Score(GetParam().lead), Optional(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReferenceProbabilityTest,
    ::testing::Values(
        // Stage-only model at the first stage gives the prior:
        // 4.1 / (4.1 + 3.1) = 0.569444 -> 56.94 (rounded down).
        ProbabilityCase{"PriorAtNew", LeadAt(kNew), 56.94},
        // odds 4.1 / 2.1; 4.1 / 6.2 = 0.661290 -> 66.13 (rounded up).
        ProbabilityCase{"StageQualified", LeadAt(kQualified), 66.13},
        // odds 4.1 / 1.1; 4.1 / 5.2 = 0.788462 -> 78.85.
        ProbabilityCase{"StageProposition", LeadAt(kProposition), 78.85},
        // Referral was never lost: its lost count is the smoothing alone.
        // odds 4.1/2.1 · (2.1/4.2)/(0.1/3.2) = 1.952381 · 16 = 31.238095;
        // 31.238095 / 32.238095 = 0.968981 -> 96.90.
        // A prior and stage totals summed over all stages (won 16.4, lost
        // 6.4) would give 94.16 instead.
        ProbabilityCase{
            "ZeroLostCountIsSmoothed",
            With(LeadAt(kQualified), kScoringFieldSource, {"referral"}), 96.90},
        // odds 4.1/2.1 · (2.1/4.2)/(3.1/3.2) = 1.952381 · 0.516129 = 1.007680;
        // 1.007680 / 2.007680 = 0.501913 -> 50.19.
        ProbabilityCase{"OneExtraField",
                        With(LeadAt(kQualified), kScoringFieldSource, {"web"}),
                        50.19},
        // A value never counted gives no evidence: as StageQualified.
        ProbabilityCase{
            "UnseenValueIsSkipped",
            With(LeadAt(kQualified), kScoringFieldSource, {"partner"}), 66.13},
        // A field not configured gives no evidence: as PriorAtNew.
        ProbabilityCase{"UnconfiguredFieldIsSkipped",
                        With(LeadAt(kNew), kScoringFieldLanguage, {"es"}),
                        56.94},
        // odds 4.1/3.1 · (2.1/4.2)/(3.1/3.2) · (1.1/4.2)/(2.1/3.2)
        //    = 1.322581 · 0.516129 · 0.399093 = 0.272430;
        // 0.272430 / 1.272430 = 0.214102 -> 21.41.
        ProbabilityCase{"TwoFields",
                        With(With(LeadAt(kNew), kScoringFieldSource, {"web"}),
                             kScoringFieldCountry, {"FR"}),
                        21.41},
        // A blank source is no value. odds 4.1/3.1 · (3.1/4.2)/(1.1/3.2)
        //    = 1.322581 · 2.147186 = 2.839827; 2.839827 / 3.839827
        //    = 0.739572 -> 73.96.
        ProbabilityCase{"BlankValueIsSkipped",
                        With(With(LeadAt(kNew), kScoringFieldSource, {""}),
                             kScoringFieldCountry, {"ES"}),
                        73.96},
        // odds 4.1/1.1 · 16 · 2.147186 = 128.050374;
        // 128.050374 / 129.050374 = 0.992251 -> 99.23.
        ProbabilityCase{
            "StrongEvidence",
            With(With(LeadAt(kProposition), kScoringFieldSource, {"referral"}),
                 kScoringFieldCountry, {"ES"}),
            99.23},
        // A stage past the pipeline scores as its last stage, Won, whose
        // counts are won 4.1, lost 0.1: 4.1 / 4.2 = 0.976190 -> 97.62.
        ProbabilityCase{"StagePastThePipeline", LeadAt(9), 97.62}),
    [](const ::testing::TestParamInfo<ProbabilityCase>& info) {
      return info.param.name;
    });

TEST_F(ReferenceHistoryTest, CountsWhatTheHistoryHolds) {
  EXPECT_EQ(table_.StageCounts("sales", kNew), (OutcomeCounts{4, 3}));
  EXPECT_EQ(table_.StageCounts("sales", kProposition), (OutcomeCounts{4, 1}));
  EXPECT_EQ(table_.ValueCounts("sales", kScoringFieldSource, "referral"),
            (OutcomeCounts{2, 0}));
  EXPECT_EQ(table_.ValueCounts("sales", kScoringFieldCountry, "FR"),
            (OutcomeCounts{1, 2}));
}

// --- Counting ---------------------------------------------------------------

TEST_F(ScoringTest, AWonLeadCountsAsWonOnEveryStage) {
  Won(LeadAt(kQualified));

  for (int stage = 0; stage < kStages; ++stage) {
    EXPECT_EQ(table_.StageCounts("sales", stage), (OutcomeCounts{1, 0}))
        << stage;
  }
}

TEST_F(ScoringTest, ALostLeadCountsAsLostOnItsStageAndEveryEarlierOne) {
  Lost(LeadAt(kProposition));

  EXPECT_EQ(table_.StageCounts("sales", kNew), (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.StageCounts("sales", kQualified), (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.StageCounts("sales", kProposition), (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.StageCounts("sales", kWonStage), (OutcomeCounts{0, 0}));
}

TEST_F(ScoringTest, ALostStagePastThePipelineCountsUpToItsLastStage) {
  Lost(LeadAt(7));

  EXPECT_EQ(table_.StageCounts("sales", kWonStage), (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.StageCounts("sales", 7), (OutcomeCounts{0, 0}));
}

TEST_F(ScoringTest, CountsConfiguredFieldsOnlyEachDistinctValueOnce) {
  settings_.fields = {kScoringFieldTags, kScoringFieldSource};
  ScoringLead lead =
      With(LeadAt(kNew), kScoringFieldTags, {"solar", "roof", "solar", ""});
  lead = With(std::move(lead), kScoringFieldSource, {"web"});
  lead = With(std::move(lead), kScoringFieldCountry, {"ES"});

  Lost(lead);

  EXPECT_EQ(table_.ValueCounts("sales", kScoringFieldTags, "solar"),
            (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.ValueCounts("sales", kScoringFieldTags, "roof"),
            (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.ValueCounts("sales", kScoringFieldTags, ""),
            (OutcomeCounts{0, 0}));
  EXPECT_EQ(table_.ValueCounts("sales", kScoringFieldSource, "web"),
            (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.ValueCounts("sales", kScoringFieldCountry, "ES"),
            (OutcomeCounts{0, 0}));
}

TEST_F(ScoringTest, CountsUnderTheTeamAndAllTeamsButATeamlessLeadOnlyUnderAll) {
  Won(LeadAt(kNew, "north"));
  Lost(LeadAt(kNew, "south"));
  Lost(LeadAt(kNew, ""));

  EXPECT_EQ(table_.StageCounts("north", kNew), (OutcomeCounts{1, 0}));
  EXPECT_EQ(table_.StageCounts("south", kNew), (OutcomeCounts{0, 1}));
  EXPECT_EQ(table_.StageCounts("", kNew), (OutcomeCounts{1, 2}));
  EXPECT_EQ(table_.StageCounts("west", kNew), (OutcomeCounts{0, 0}));
  EXPECT_EQ(table_.ValueCounts("west", kScoringFieldTags, "solar"),
            (OutcomeCounts{0, 0}));
}

TEST_F(ScoringTest, CountsOnlyLeadsCreatedOnOrAfterTheStartDate) {
  ScoringLead before = LeadAt(kNew);
  before.create_time = kStart - absl::Seconds(1);
  Lost(before);
  Won(LeadAt(kNew));  // Created exactly at the start date.

  EXPECT_EQ(table_.StageCounts("sales", kNew), (OutcomeCounts{1, 0}));
  // 1.1 / (1.1 + 0.1) = 0.916667 -> 91.67; with the early lead, 50.00.
  EXPECT_THAT(Score(LeadAt(kNew)), Optional(91.67));
}

TEST_F(ScoringTest, LeadsWithoutAStageOrPipelineAreNotCounted) {
  Won(LeadAt(-1));
  table_.CountClosed(LeadAt(kNew), ClosedOutcome::kLost, settings_,
                     /*pipeline_stages=*/0);

  EXPECT_EQ(table_, FrequencyTable());
}

// --- Uncounting -------------------------------------------------------------

TEST_F(ReferenceHistoryTest, UncountingExactlyUndoesACount) {
  const FrequencyTable before = table_;
  const ScoringLead lost = Closed(kProposition, "partner", "PT");

  Lost(lost);
  ASSERT_NE(table_, before);
  table_.UncountClosed(lost, ClosedOutcome::kLost, settings_, kStages);

  EXPECT_EQ(table_, before);
}

TEST_F(ScoringTest, UncountingEveryLeadLeavesAnEmptyTableAndNoData) {
  settings_.fields = {kScoringFieldSource};
  const ScoringLead lead =
      With(LeadAt(kQualified), kScoringFieldSource, {"web"});
  Won(lead);
  Lost(lead);

  table_.UncountClosed(lead, ClosedOutcome::kWon, settings_, kStages);
  table_.UncountClosed(lead, ClosedOutcome::kLost, settings_, kStages);

  EXPECT_EQ(table_, FrequencyTable());
  EXPECT_EQ(Score(LeadAt(kNew)), std::nullopt);
}

TEST_F(ScoringTest, UncountingWhatWasNeverCountedChangesNothing) {
  settings_.fields = {kScoringFieldSource};
  table_.UncountClosed(With(LeadAt(kNew), kScoringFieldSource, {"web"}),
                       ClosedOutcome::kLost, settings_, kStages);

  EXPECT_EQ(table_, FrequencyTable());
}

TEST_F(ScoringTest, UncountingATagBelowTheThresholdDropsItFromScoring) {
  settings_.fields = {kScoringFieldTags};
  const ScoringLead roof = With(LeadAt(kNew), kScoringFieldTags, {"roof"});
  Lost(roof, 49);
  FrequencyTable with_49 = table_;

  Lost(roof);
  table_.UncountClosed(roof, ClosedOutcome::kLost, settings_, kStages);

  EXPECT_EQ(table_, with_49);
}

// --- Scoring
// ------------------------------------------------------------------

TEST_F(ScoringTest, NoStageScoresZero) {
  Won(LeadAt(kWonStage));

  EXPECT_THAT(Score(LeadAt(-1)), Optional(0.0));
  EXPECT_THAT(AutomatedProbability(table_, LeadAt(kNew), settings_,
                                   /*pipeline_stages=*/0),
              Optional(0.0));
  EXPECT_THAT(
      AutomatedProbability(FrequencyTable(), LeadAt(-1), settings_, kStages),
      Optional(0.0));
}

TEST_F(ScoringTest, NoDataAtAllKeepsThePreviousValue) {
  EXPECT_EQ(Score(LeadAt(kNew)), std::nullopt);
  EXPECT_EQ(Score(LeadAt(kNew, "")), std::nullopt);
}

TEST_F(ScoringTest, UsesTheTeamTableElseAllTeams) {
  Won(LeadAt(kWonStage, "north"));
  Lost(LeadAt(kNew, "south"));
  Lost(LeadAt(kNew, ""), 2);

  // north: won 1.1, lost 0.1 -> 1.1 / 1.2 = 0.916667 -> 91.67.
  EXPECT_THAT(Score(LeadAt(kNew, "north")), Optional(91.67));
  // south: won 0.1, lost 1.1 -> 0.1 / 1.2 = 0.083333 -> 8.33.
  EXPECT_THAT(Score(LeadAt(kNew, "south")), Optional(8.33));
  // All teams: won 1.1, lost 3.1 -> 1.1 / 4.2 = 0.261905 -> 26.19, for a
  // team without data and for a lead without a team.
  EXPECT_THAT(Score(LeadAt(kNew, "west")), Optional(26.19));
  EXPECT_THAT(Score(LeadAt(kNew, "")), Optional(26.19));
}

TEST_F(ScoringTest, AStageNoClosedLeadReachedGivesNoEvidence) {
  Lost(LeadAt(kNew));

  // Proposition has no counts, so only the prior is left:
  // 0.1 / (0.1 + 1.1) = 0.083333 -> 8.33.
  EXPECT_THAT(Score(LeadAt(kProposition)), Optional(8.33));
}

TEST_F(ScoringTest, ClampsToTheOpenLeadBounds) {
  Won(LeadAt(kWonStage, "north"), 3000);
  Lost(LeadAt(kNew, "south"), 3000);

  // 3000.1 / 3000.2 = 0.9999667 -> 100.00 after rounding -> 99.99.
  EXPECT_THAT(Score(LeadAt(kNew, "north")), Optional(99.99));
  // 0.1 / 3000.2 = 0.0000333 -> 0.00 after rounding -> 0.01.
  EXPECT_THAT(Score(LeadAt(kNew, "south")), Optional(0.01));
}

// Tags: solar is on 40 won and 10 lost leads; roof on 1 won lead and on
// `roof_lost` lost ones. Won leads are at Won, lost ones at New, and the
// scored lead is at New, so the stage factor is the prior: W0 / L0.
struct TagCase {
  std::string name;
  int roof_lost;
  std::vector<std::string> tags;
  double expected;
};

class TagThresholdTest : public ScoringTest,
                         public ::testing::WithParamInterface<TagCase> {};

TEST_P(TagThresholdTest, ScoresAsComputedByHand) {
  settings_.fields = {kScoringFieldTags};
  const ScoringLead solar = With(LeadAt(kNew), kScoringFieldTags, {"solar"});
  const ScoringLead roof = With(LeadAt(kNew), kScoringFieldTags, {"roof"});
  Won(solar, 40);
  Lost(solar, 10);
  Won(roof);
  Lost(roof, GetParam().roof_lost);

  EXPECT_THAT(Score(With(LeadAt(kNew), kScoringFieldTags, GetParam().tags)),
              Optional(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TagThresholdTest,
    ::testing::Values(
        // roof seen 1 + 48 = 49 times: ignored, also in the tag totals. Solar
        // is then the only scored tag, with shares 40.1/40.1 and 10.1/10.1:
        // no evidence. Prior 41.1 / (41.1 + 58.1) = 0.414315 -> 41.43.
        TagCase{"Under50Solar", 48, {"solar"}, 41.43},
        TagCase{"Under50Roof", 48, {"roof"}, 41.43},
        // roof seen 1 + 49 = 50 times: scored. W0 41.1, L0 59.1; tag totals
        // won 40.1 + 1.1 = 41.2, lost 10.1 + 49.1 = 59.2.
        // solar: odds 41.1/59.1 · (40.1/41.2)/(10.1/59.2)
        //      = 0.695431 · 0.973301 / 0.170608 = 3.967362 -> 0.798686
        //      -> 79.87.
        TagCase{"At50Solar", 49, {"solar"}, 79.87},
        // roof: odds 0.695431 · (1.1/41.2)/(49.1/59.2)
        //     = 0.695431 · 0.026699 / 0.829392 = 0.022387 -> 0.021897 -> 2.19.
        TagCase{"At50Roof", 49, {"roof"}, 2.19},
        // Both: odds 0.695431 · (0.973301/0.170608) · (0.026699/0.829392)
        //     = 0.127714 -> 0.113250 -> 11.33 (rounded up).
        TagCase{"At50Both", 49, {"solar", "roof"}, 11.33}),
    [](const ::testing::TestParamInfo<TagCase>& info) {
      return info.param.name;
    });

TEST_F(ScoringTest, ManyTagsDoNotUnderflow) {
  // More tags than a profile may hold, so that a direct product of the
  // likelihoods, 0.005^200 = 1e-460, would underflow to 0 / 0.
  settings_.fields = {kScoringFieldTags};
  std::vector<std::string> tags;
  for (int i = 0; i < 200; ++i) tags.push_back(absl::StrCat("t", i));
  const ScoringLead lead = With(LeadAt(kNew), kScoringFieldTags, tags);
  Won(lead, 26);
  Lost(lead, 24);

  // Every tag has won 26.1 / 5220 = 0.005 and lost 24.1 / 4820 = 0.005, so
  // only the prior is left: 26.1 / 50.2 = 0.519920 -> 51.99.
  EXPECT_THAT(Score(lead), Optional(51.99));
}

// --- Settings
// -----------------------------------------------------------------

TEST(ValidateScoringSettingsTest, AcceptsNoFieldsAndEveryKnownFieldOnce) {
  EXPECT_THAT(ValidateScoringSettings({}), IsOk());
  EXPECT_THAT(ValidateScoringSettings(
                  {.fields = {kScoringFieldPhoneState, kScoringFieldEmailState,
                              kScoringFieldCountry, kScoringFieldState,
                              kScoringFieldSource, kScoringFieldLanguage,
                              kScoringFieldTags}}),
              IsOk());
}

struct BadFieldsCase {
  std::vector<std::string> fields;
  std::string problem;
};

class ValidateScoringSettingsInvalidTest
    : public ::testing::TestWithParam<BadFieldsCase> {};

TEST_P(ValidateScoringSettingsInvalidTest, IsRefusedNamingScoringFields) {
  EXPECT_THAT(ValidateScoringSettings({.fields = GetParam().fields}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("scoring_fields:"),
                             HasSubstr(GetParam().problem))));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ValidateScoringSettingsInvalidTest,
    ::testing::Values(BadFieldsCase{{"city"}, "unknown field \"city\""},
                      BadFieldsCase{{"Tags"}, "unknown field \"Tags\""},
                      BadFieldsCase{{"stage"}, "always used"},
                      BadFieldsCase{{"tags", "source", "tags"},
                                    "\"tags\" is listed twice"}));

}  // namespace
}  // namespace leadledger::domain
