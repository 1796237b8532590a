#include "domain/classification.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/lead.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::domain {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Ids(const Catalogue& catalogue) {
  std::vector<std::string> ids;
  for (const Outcome& outcome : catalogue) ids.push_back(outcome.id);
  return ids;
}

// --- The PULSE defaults, row by row (SPEC §3). ---

struct DefaultRow {
  std::string id;
  bool classifies;
  std::string tag;
  std::optional<int> follow_up_days;
  int priority;
};

class DefaultOutcomeTest : public ::testing::TestWithParam<DefaultRow> {};

TEST_P(DefaultOutcomeTest, MatchesTheSpecTable) {
  const DefaultRow& row = GetParam();
  const Catalogue catalogue = DefaultCatalogue();
  const Outcome* outcome = FindOutcome(catalogue, row.id);
  ASSERT_NE(outcome, nullptr) << row.id;
  EXPECT_EQ(outcome->classifies, row.classifies);
  EXPECT_EQ(outcome->tag, row.tag);
  EXPECT_EQ(outcome->follow_up_days, row.follow_up_days);
  EXPECT_FALSE(outcome->label.empty());
  EXPECT_EQ(TaskPriority(catalogue, row.id), row.priority);
}

INSTANTIATE_TEST_SUITE_P(
    Pulse, DefaultOutcomeTest,
    ::testing::Values(
        DefaultRow{"POTENTIAL_CONSULTANT", true, "Potential consultant", 7, 4},
        DefaultRow{"HOT_PROSPECT", true, "Hot prospect", 14, 3},
        DefaultRow{"THERE_IS_A_CHANCE", true, "There's a chance", 30, 2},
        DefaultRow{"ON_THE_FENCE", true, "On the fence", 60, 1},
        DefaultRow{"NOT_SURE_YET", false, "", 14, 0},
        DefaultRow{"NOT_INTERESTED", false, "", std::nullopt, 0}),
    [](const ::testing::TestParamInfo<DefaultRow>& info) {
      return info.param.id;
    });

TEST(DefaultCatalogueTest, OffersTheSixOutcomesMostPromisingFirst) {
  EXPECT_THAT(
      Ids(DefaultCatalogue()),
      ElementsAre("POTENTIAL_CONSULTANT", "HOT_PROSPECT", "THERE_IS_A_CHANCE",
                  "ON_THE_FENCE", "NOT_SURE_YET", "NOT_INTERESTED"));
}

TEST(DefaultCatalogueTest, IsValid) {
  EXPECT_THAT(ValidateCatalogue(DefaultCatalogue()), IsOk());
}

// --- ValidateCatalogue. ---

Outcome Classifying(std::string id, std::string tag, int rank = 0) {
  return Outcome{.id = std::move(id),
                 .label = tag,
                 .classifies = true,
                 .tag = tag,
                 .follow_up_days = 7,
                 .rank = rank};
}

// A catalogue of `n` valid classifying outcomes.
Catalogue OfSize(int n) {
  Catalogue catalogue;
  for (int i = 0; i < n; ++i) {
    catalogue.push_back(
        Classifying(absl::StrCat("OUTCOME_", i), absl::StrCat("Tag ", i), i));
  }
  return catalogue;
}

struct InvalidCatalogueCase {
  std::string name;
  // Breaks the default catalogue.
  void (*edit)(Catalogue&);
  // Where the message must point, e.g. "classification_catalogue[2].tag: ".
  std::string field;
};

class InvalidCatalogueTest
    : public ::testing::TestWithParam<InvalidCatalogueCase> {};

TEST_P(InvalidCatalogueTest, IsRefusedNamingTheField) {
  Catalogue catalogue = DefaultCatalogue();
  GetParam().edit(catalogue);
  EXPECT_THAT(ValidateCatalogue(catalogue),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(GetParam().field)));
}

INSTANTIATE_TEST_SUITE_P(
    Catalogues, InvalidCatalogueTest,
    ::testing::Values(
        InvalidCatalogueCase{"Empty", [](Catalogue& c) { c.clear(); },
                             "classification_catalogue: must have"},
        InvalidCatalogueCase{"TooManyOutcomes",
                             [](Catalogue& c) { c = OfSize(51); },
                             "classification_catalogue: at most 50"},
        InvalidCatalogueCase{"EmptyId", [](Catalogue& c) { c[1].id = ""; },
                             "classification_catalogue[1].id: "},
        InvalidCatalogueCase{"LowerCaseId",
                             [](Catalogue& c) { c[2].id = "hot_prospect"; },
                             "classification_catalogue[2].id: "},
        InvalidCatalogueCase{"IdWithASpace",
                             [](Catalogue& c) { c[0].id = "HOT PROSPECT"; },
                             "classification_catalogue[0].id: "},
        InvalidCatalogueCase{
            "IdTooLong", [](Catalogue& c) { c[3].id = std::string(65, 'A'); },
            "classification_catalogue[3].id: "},
        InvalidCatalogueCase{
            "DuplicateId",
            [](Catalogue& c) { c[4].id = "POTENTIAL_CONSULTANT"; },
            "classification_catalogue[4].id: "
            "\"POTENTIAL_CONSULTANT\" repeats entry 0"},
        InvalidCatalogueCase{"EmptyLabel",
                             [](Catalogue& c) { c[5].label = ""; },
                             "classification_catalogue[5].label: "},
        InvalidCatalogueCase{"BlankLabel",
                             [](Catalogue& c) { c[5].label = "  "; },
                             "classification_catalogue[5].label: "},
        InvalidCatalogueCase{
            "LabelTooLong",
            [](Catalogue& c) { c[0].label = std::string(257, 'x'); },
            "classification_catalogue[0].label: "},
        InvalidCatalogueCase{"ClassifyingWithoutTag",
                             [](Catalogue& c) { c[2].tag = ""; },
                             "classification_catalogue[2].tag: required"},
        InvalidCatalogueCase{"ClassifyingWithBlankTag",
                             [](Catalogue& c) { c[2].tag = " \t"; },
                             "classification_catalogue[2].tag: required"},
        InvalidCatalogueCase{"TagWithSurroundingBlanks",
                             [](Catalogue& c) { c[1].tag = " Hot prospect"; },
                             "classification_catalogue[1].tag: "},
        InvalidCatalogueCase{
            "TagTooLong", [](Catalogue& c) { c[1].tag = std::string(65, 't'); },
            "classification_catalogue[1].tag: longer"},
        InvalidCatalogueCase{"NonClassifyingWithTag",
                             [](Catalogue& c) { c[4].tag = "Not sure yet"; },
                             "classification_catalogue[4].tag: must be empty"},
        InvalidCatalogueCase{"DuplicateTag",
                             [](Catalogue& c) { c[3].tag = "Hot prospect"; },
                             "classification_catalogue[3].tag: "
                             "\"Hot prospect\" repeats entry 1"},
        InvalidCatalogueCase{"NegativeDelay",
                             [](Catalogue& c) { c[4].follow_up_days = -1; },
                             "classification_catalogue[4].follow_up_days: "},
        InvalidCatalogueCase{"DelayOverTenYears",
                             [](Catalogue& c) { c[0].follow_up_days = 3651; },
                             "classification_catalogue[0].follow_up_days: "}),
    [](const ::testing::TestParamInfo<InvalidCatalogueCase>& info) {
      return info.param.name;
    });

TEST(ValidateCatalogueTest, AcceptsTheLimits) {
  Catalogue catalogue = OfSize(kMaxOutcomes);
  catalogue[0].id = std::string(kMaxOutcomeIdLength, 'Z');
  catalogue[0].label = std::string(kMaxNameLength, 'l');
  catalogue[0].tag = std::string(kMaxTagLength, 't');
  catalogue[1].follow_up_days = 0;
  catalogue[2].follow_up_days = kMaxFollowUpDays;
  catalogue[3].follow_up_days = std::nullopt;
  catalogue[4].id = "ONE_2_3";
  EXPECT_THAT(ValidateCatalogue(catalogue), IsOk());
}

TEST(ValidateCatalogueTest, AcceptsARenamedAndRetimedCatalogue) {
  Catalogue catalogue = DefaultCatalogue();
  catalogue[1].label = "Promising prospect";
  catalogue[1].tag = "Promising";
  catalogue[1].follow_up_days = 10;
  catalogue.push_back(Outcome{.id = "CALL_BACK_TOMORROW",
                              .label = "Call back tomorrow",
                              .follow_up_days = 1});
  EXPECT_THAT(ValidateCatalogue(catalogue), IsOk());
}

// --- FindOutcome. ---

TEST(FindOutcomeTest, ReturnsTheEntryInTheCatalogue) {
  const Catalogue catalogue = DefaultCatalogue();
  EXPECT_EQ(FindOutcome(catalogue, "THERE_IS_A_CHANCE"), &catalogue[2]);
  EXPECT_EQ(FindOutcome(catalogue, "NOT_INTERESTED"), &catalogue[5]);
}

TEST(FindOutcomeTest, ReturnsNullWhenAbsent) {
  const Catalogue catalogue = DefaultCatalogue();
  EXPECT_EQ(FindOutcome(catalogue, ""), nullptr);
  EXPECT_EQ(FindOutcome(catalogue, "hot_prospect"), nullptr);
  EXPECT_EQ(FindOutcome(catalogue, "HOT"), nullptr);
  EXPECT_EQ(FindOutcome(Catalogue{}, "HOT_PROSPECT"), nullptr);
}

// --- TaskPriority. ---

TEST(TaskPriorityTest, FollowsTheSpecOrderForTheDefaults) {
  const Catalogue catalogue = DefaultCatalogue();
  const int consultant = TaskPriority(catalogue, "POTENTIAL_CONSULTANT");
  const int hot = TaskPriority(catalogue, "HOT_PROSPECT");
  const int chance = TaskPriority(catalogue, "THERE_IS_A_CHANCE");
  const int fence = TaskPriority(catalogue, "ON_THE_FENCE");
  const int unclassified = TaskPriority(catalogue, "");
  EXPECT_GT(consultant, hot);
  EXPECT_GT(hot, chance);
  EXPECT_GT(chance, fence);
  EXPECT_GT(fence, unclassified);
  EXPECT_EQ(unclassified, 0);
}

TEST(TaskPriorityTest, TreatsUnknownAndNonClassifyingIdsAsUnclassified) {
  const Catalogue catalogue = DefaultCatalogue();
  EXPECT_EQ(TaskPriority(catalogue, "NO_SUCH_OUTCOME"), 0);
  EXPECT_EQ(TaskPriority(catalogue, "NOT_SURE_YET"), 0);
  EXPECT_EQ(TaskPriority(catalogue, "NOT_INTERESTED"), 0);
}

TEST(TaskPriorityTest, FollowsRankNotListOrderInACustomCatalogue) {
  const Catalogue catalogue = {
      Classifying("WARM", "Warm", 20),
      Outcome{.id = "NO_ANSWER", .label = "No answer", .rank = -5},
      Classifying("READY", "Ready to sign", 5),
      Classifying("COLD", "Cold", 90),
  };
  ASSERT_THAT(ValidateCatalogue(catalogue), IsOk());
  EXPECT_EQ(TaskPriority(catalogue, "READY"), 3);
  EXPECT_EQ(TaskPriority(catalogue, "WARM"), 2);
  EXPECT_EQ(TaskPriority(catalogue, "COLD"), 1);
  // A non-classifying outcome's rank is ignored.
  EXPECT_EQ(TaskPriority(catalogue, "NO_ANSWER"), 0);
}

TEST(TaskPriorityTest, GivesEqualRanksEqualPriority) {
  const Catalogue catalogue = {
      Classifying("A", "a", 1),
      Classifying("B", "b", 1),
      Classifying("C", "c", 2),
  };
  EXPECT_EQ(TaskPriority(catalogue, "A"), 2);
  EXPECT_EQ(TaskPriority(catalogue, "B"), 2);
  EXPECT_EQ(TaskPriority(catalogue, "C"), 1);
}

// --- ComputeFollowUpDue. ---

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

absl::Time Utc(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         absl::UTCTimeZone());
}

TEST(ComputeFollowUpDueTest, CountsDaysInTheOwnersZone) {
  // 23:30 UTC on Tuesday is already 01:30 on Wednesday in Madrid (UTC+2).
  const absl::Time now = Utc(2025, 6, 10, 23, 30);

  FollowUpDue madrid = ComputeFollowUpDue(now, Zone("Europe/Madrid"), 7,
                                          /*skip_weekends=*/false);
  EXPECT_EQ(madrid.day, absl::CivilDay(2025, 6, 18));
  EXPECT_EQ(madrid.time, Utc(2025, 6, 17, 22));

  FollowUpDue utc =
      ComputeFollowUpDue(now, absl::UTCTimeZone(), 7, /*skip_weekends=*/false);
  EXPECT_EQ(utc.day, absl::CivilDay(2025, 6, 17));
  EXPECT_EQ(utc.time, Utc(2025, 6, 17, 0));
}

TEST(ComputeFollowUpDueTest, WorksInAFixedOffsetZone) {
  // 03:00 UTC is 22:00 of the day before at UTC-5.
  const absl::TimeZone zone = absl::FixedTimeZone(-5 * 60 * 60);
  FollowUpDue due = ComputeFollowUpDue(Utc(2025, 6, 10, 3), zone, 1,
                                       /*skip_weekends=*/false);
  EXPECT_EQ(due, (FollowUpDue{.day = absl::CivilDay(2025, 6, 10),
                              .time = Utc(2025, 6, 10, 5)}));
}

TEST(ComputeFollowUpDueTest, ZeroDaysIsTheStartOfToday) {
  const absl::Time now = Utc(2025, 6, 11, 15, 45);
  FollowUpDue due = ComputeFollowUpDue(now, Zone("Europe/Madrid"), 0,
                                       /*skip_weekends=*/false);
  EXPECT_EQ(due.day, absl::CivilDay(2025, 6, 11));
  EXPECT_EQ(due.time, Utc(2025, 6, 10, 22));
  EXPECT_LE(due.time, now);
}

TEST(ComputeFollowUpDueTest, AddsCalendarDaysAcrossTheSpringDstChange) {
  // Madrid moves from UTC+1 to UTC+2 on Sunday 2025-03-30.
  const absl::TimeZone madrid = Zone("Europe/Madrid");
  const absl::Time now = Utc(2025, 3, 25, 9);  // Tuesday, 10:00 in Madrid.

  FollowUpDue due = ComputeFollowUpDue(now, madrid, 7, false);
  EXPECT_EQ(due.day, absl::CivilDay(2025, 4, 1));
  EXPECT_EQ(due.time, Utc(2025, 3, 31, 22));
  // Seven calendar days, one hour short of 7 * 24 hours.
  EXPECT_EQ(due.time - Utc(2025, 3, 24, 23), absl::Hours(7 * 24 - 1));

  // The day of the change itself is 23 hours long.
  const absl::Time saturday_night = Utc(2025, 3, 29, 22, 30);  // 23:30 CET.
  FollowUpDue sunday = ComputeFollowUpDue(saturday_night, madrid, 1, false);
  FollowUpDue monday = ComputeFollowUpDue(saturday_night, madrid, 2, false);
  EXPECT_EQ(sunday.day, absl::CivilDay(2025, 3, 30));
  EXPECT_EQ(sunday.time, Utc(2025, 3, 29, 23));
  EXPECT_EQ(monday.day, absl::CivilDay(2025, 3, 31));
  EXPECT_EQ(monday.time - sunday.time, absl::Hours(23));
}

TEST(ComputeFollowUpDueTest, AddsCalendarDaysAcrossTheAutumnDstChange) {
  // Madrid moves from UTC+2 to UTC+1 on Sunday 2025-10-26.
  const absl::TimeZone madrid = Zone("Europe/Madrid");
  FollowUpDue sunday =
      ComputeFollowUpDue(Utc(2025, 10, 25, 12), madrid, 1, false);
  FollowUpDue monday =
      ComputeFollowUpDue(Utc(2025, 10, 25, 12), madrid, 2, false);
  EXPECT_EQ(sunday.time, Utc(2025, 10, 25, 22));
  EXPECT_EQ(monday.time, Utc(2025, 10, 26, 23));
  EXPECT_EQ(monday.time - sunday.time, absl::Hours(25));
}

TEST(ComputeFollowUpDueTest, StartsADayWhoseMidnightIsSkippedAtTheChange) {
  // Santiago de Chile jumps from 00:00 to 01:00 on 2025-09-07 (UTC-4 to
  // UTC-3): that day begins at 01:00 local, 04:00 UTC.
  const absl::TimeZone santiago = Zone("America/Santiago");
  FollowUpDue due = ComputeFollowUpDue(Utc(2025, 9, 1, 15), santiago, 6,
                                       /*skip_weekends=*/false);
  EXPECT_EQ(due.day, absl::CivilDay(2025, 9, 7));
  EXPECT_EQ(due.time, Utc(2025, 9, 7, 4));
  EXPECT_EQ(absl::ToCivilDay(due.time, santiago), due.day);
  EXPECT_EQ(absl::ToCivilDay(due.time - absl::Seconds(1), santiago),
            absl::CivilDay(2025, 9, 6));
}

TEST(ComputeFollowUpDueTest, StartsADayAfterAnHourRepeatedBeforeMidnight) {
  // Santiago goes back from 24:00 to 23:00 on 2025-04-05 (UTC-3 to UTC-4):
  // the next day begins once the repeated hour is over, at 04:00 UTC.
  const absl::TimeZone santiago = Zone("America/Santiago");
  FollowUpDue due = ComputeFollowUpDue(Utc(2025, 4, 4, 15), santiago, 2,
                                       /*skip_weekends=*/false);
  EXPECT_EQ(due.day, absl::CivilDay(2025, 4, 6));
  EXPECT_EQ(due.time, Utc(2025, 4, 6, 4));
  EXPECT_EQ(absl::ToCivilDay(due.time - absl::Seconds(1), santiago),
            absl::CivilDay(2025, 4, 5));
}

struct WeekendCase {
  int days;  // From Monday 2025-06-09.
  bool skip_weekends;
  absl::CivilDay due;
};

class WeekendTest : public ::testing::TestWithParam<WeekendCase> {};

TEST_P(WeekendTest, MovesWeekendsToMondayOnlyWhenAsked) {
  const WeekendCase& c = GetParam();
  FollowUpDue due = ComputeFollowUpDue(Utc(2025, 6, 9, 12), absl::UTCTimeZone(),
                                       c.days, c.skip_weekends);
  EXPECT_EQ(due.day, c.due) << c.days << (c.skip_weekends ? " skip" : "");
  EXPECT_EQ(due.time, absl::FromCivil(c.due, absl::UTCTimeZone()));
}

INSTANTIATE_TEST_SUITE_P(
    Days, WeekendTest,
    ::testing::Values(
        // Friday stays.
        WeekendCase{4, true, absl::CivilDay(2025, 6, 13)},
        WeekendCase{4, false, absl::CivilDay(2025, 6, 13)},
        // Saturday and Sunday move to Monday with the rule, stay without.
        WeekendCase{5, true, absl::CivilDay(2025, 6, 16)},
        WeekendCase{5, false, absl::CivilDay(2025, 6, 14)},
        WeekendCase{6, true, absl::CivilDay(2025, 6, 16)},
        WeekendCase{6, false, absl::CivilDay(2025, 6, 15)},
        // Monday stays.
        WeekendCase{7, true, absl::CivilDay(2025, 6, 16)},
        WeekendCase{0, true, absl::CivilDay(2025, 6, 9)}));

TEST(ComputeFollowUpDueTest, JudgesTheWeekendInTheOwnersZone) {
  // 23:30 UTC on Friday is already Saturday in Madrid.
  const absl::Time friday_night = Utc(2025, 6, 13, 23, 30);
  EXPECT_EQ(ComputeFollowUpDue(friday_night, Zone("Europe/Madrid"), 0, true),
            (FollowUpDue{.day = absl::CivilDay(2025, 6, 16),
                         .time = Utc(2025, 6, 15, 22)}));
  EXPECT_EQ(ComputeFollowUpDue(friday_night, absl::UTCTimeZone(), 0, true).day,
            absl::CivilDay(2025, 6, 13));
}

}  // namespace
}  // namespace leadledger::domain
