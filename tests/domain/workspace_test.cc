// The workspace settings decider (SPEC §2, and the settings of §3-§8).
#include "domain/workspace.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/domain/lead_test_util.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::domain {
namespace {

using ::leadledger::domain::testing::At;
using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<WorkspaceEvent> DecideOk(const WorkspaceSettings& current,
                                     const UpdateWorkspaceSettings& command) {
  absl::StatusOr<std::vector<WorkspaceEvent>> events =
      DecideWorkspace(current, command);
  EXPECT_THAT(events, IsOk());
  return events.ok() ? *events : std::vector<WorkspaceEvent>{};
}

WorkspaceSettings Fold(WorkspaceSettings settings,
                       const std::vector<WorkspaceEvent>& events) {
  for (const WorkspaceEvent& event : events) {
    settings = EvolveWorkspace(settings, event);
  }
  return settings;
}

TEST(WorkspaceTest, EverySettingChangesThroughItsEvent) {
  const WorkspaceSettings current;
  WorkspaceSettings wanted;
  wanted.leads_enabled = false;
  wanted.catalogue.back().follow_up_days = 3;
  wanted.lost_reasons = {" Price ", "Timing"};
  wanted.pipeline_stages = {"Intake", "Offer", "Won"};
  wanted.scoring = {.fields = {"country", "tags"},
                    .start_date = absl::FromUnixSeconds(1'700'000'000)};
  wanted.skip_weekends = true;
  wanted.default_country = " es ";
  const UpdateWorkspaceSettings command{
      .fields = {WorkspaceSetting::kLeadsEnabled, WorkspaceSetting::kCatalogue,
                 WorkspaceSetting::kLostReasons, WorkspaceSetting::kPipeline,
                 WorkspaceSetting::kScoring, WorkspaceSetting::kWeekendRule,
                 WorkspaceSetting::kDefaultCountry},
      .values = wanted,
      .now = At(1)};
  std::vector<WorkspaceEvent> events = DecideOk(current, command);
  EXPECT_THAT(events, SizeIs(7));
  WorkspaceSettings folded = Fold(current, events);
  EXPECT_FALSE(folded.leads_enabled);
  EXPECT_EQ(folded.catalogue, wanted.catalogue);
  EXPECT_THAT(folded.lost_reasons, ElementsAre("Price", "Timing"));
  EXPECT_THAT(folded.pipeline_stages, ElementsAre("Intake", "Offer", "Won"));
  EXPECT_EQ(folded.scoring, wanted.scoring);
  EXPECT_TRUE(folded.skip_weekends);
  EXPECT_EQ(folded.default_country, "ES");
  // The same command again changes nothing.
  EXPECT_THAT(DecideOk(folded, command), IsEmpty());
}

TEST(WorkspaceTest, OnlyNamedSettingsChange) {
  WorkspaceSettings wanted;
  wanted.leads_enabled = false;
  wanted.skip_weekends = true;
  std::vector<WorkspaceEvent> events =
      DecideOk(WorkspaceSettings{},
               {.fields = {WorkspaceSetting::kWeekendRule}, .values = wanted});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_TRUE(std::holds_alternative<WeekendRuleChanged>(events[0]));
  EXPECT_TRUE(Fold(WorkspaceSettings{}, events).leads_enabled);
}

TEST(WorkspaceTest, InvalidSettingsNameTheField) {
  auto refused = [](WorkspaceSetting field, WorkspaceSettings values) {
    return DecideWorkspace(WorkspaceSettings{},
                           {.fields = {field}, .values = std::move(values)});
  };
  WorkspaceSettings values;
  values.pipeline_stages = {};
  EXPECT_THAT(refused(WorkspaceSetting::kPipeline, values),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pipeline_stages")));
  values.pipeline_stages = {"New", " New "};
  EXPECT_THAT(refused(WorkspaceSetting::kPipeline, values),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pipeline_stages[1]")));
  values = {};
  values.lost_reasons = {"ok", ""};
  EXPECT_THAT(refused(WorkspaceSetting::kLostReasons, values),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("lost_reasons[1]")));
  values = {};
  values.catalogue.clear();
  EXPECT_THAT(refused(WorkspaceSetting::kCatalogue, values),
              StatusIs(absl::StatusCode::kInvalidArgument));
  values = {};
  values.scoring.fields = {"shoe_size"};
  EXPECT_THAT(refused(WorkspaceSetting::kScoring, values),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("scoring_fields")));
  values = {};
  values.default_country = "Spain";
  EXPECT_THAT(refused(WorkspaceSetting::kDefaultCountry, values),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("default_country")));
  values.default_country = "zz";
  EXPECT_THAT(refused(WorkspaceSetting::kDefaultCountry, values),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("default_country: \"ZZ\" is not a country")));
  EXPECT_THAT(
      DecideWorkspace(WorkspaceSettings{}, {.fields = {}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
}

TEST(WorkspaceTest, StageIndex) {
  WorkspaceSettings settings;
  EXPECT_EQ(StageIndex(settings, "New"), 0);
  EXPECT_EQ(StageIndex(settings, "Won"), 3);
  EXPECT_EQ(StageIndex(settings, ""), -1);
}

}  // namespace
}  // namespace leadledger::domain
