// Follow-up tasks and the agenda (SPEC §3): the six outcomes, at most one open
// automatic follow-up, exactly once per cause, completing with an outcome.
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
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

// Monday 2026-11-16 10:00 in UTC.
const absl::Time kMonday = absl::FromCivil(
    absl::CivilSecond(2026, 11, 16, 10, 0, 0), absl::UTCTimeZone());

ScheduleFollowUp Schedule(std::string id, absl::Time due) {
  return ScheduleFollowUp{.task_id = std::move(id),
                          .cause_event_id = "cause",
                          .owner_id = "u1",
                          .title = "Follow up",
                          .due_time = due,
                          .priority = 3,
                          .now = At(1)};
}

// --- PlanFollowUp: the table of SPEC §3 ---

struct OutcomeRow {
  std::string outcome;
  std::optional<int> days;
};

class PlanFollowUpTest : public ::testing::TestWithParam<OutcomeRow> {};

TEST_P(PlanFollowUpTest, DueDaysFollowTheOutcome) {
  const OutcomeRow& row = GetParam();
  Lead lead = Given({Created("l1")});
  lead.classification = "HOT_PROSPECT";
  std::optional<ScheduleFollowUp> plan = PlanFollowUp(
      lead, row.outcome, "ev-7", kMonday, absl::UTCTimeZone(), Settings());
  if (!row.days.has_value()) {
    EXPECT_EQ(plan, std::nullopt);
    return;
  }
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->task_id, "followup-ev-7");
  EXPECT_EQ(plan->cause_event_id, "ev-7");
  EXPECT_EQ(plan->due_time,
            absl::FromCivil(absl::CivilDay(2026, 11, 16) + *row.days,
                            absl::UTCTimeZone()));
  // Priority follows the lead's classification: Hot prospect is second.
  EXPECT_EQ(plan->priority, 3);
  EXPECT_THAT(plan->title, HasSubstr("Follow up"));
}

INSTANTIATE_TEST_SUITE_P(
    Pulse, PlanFollowUpTest,
    ::testing::Values(OutcomeRow{"POTENTIAL_CONSULTANT", 7},
                      OutcomeRow{"HOT_PROSPECT", 14},
                      OutcomeRow{"THERE_IS_A_CHANCE", 30},
                      OutcomeRow{"ON_THE_FENCE", 60},
                      OutcomeRow{"NOT_SURE_YET", 14},
                      OutcomeRow{"NOT_INTERESTED", std::nullopt},
                      OutcomeRow{"UNKNOWN", std::nullopt}));

TEST(PlanFollowUpTest, WeekendRuleAndClosedLeads) {
  WorkspaceSettings settings = Settings();
  settings.skip_weekends = true;
  Lead lead = Given({Created("l1")});
  // Monday + 7 days is a Monday; + 5 would be Saturday -> moved to Monday.
  settings.catalogue[0].follow_up_days = 5;
  std::optional<ScheduleFollowUp> plan =
      PlanFollowUp(lead, "POTENTIAL_CONSULTANT", "ev", kMonday,
                   absl::UTCTimeZone(), settings);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->due_time,
            absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone()));

  Lead lost = Given({Created("l1"), LeadLost{.time = At(1)}});
  EXPECT_EQ(PlanFollowUp(lost, "HOT_PROSPECT", "ev", kMonday,
                         absl::UTCTimeZone(), Settings()),
            std::nullopt);
}

// --- ScheduleFollowUp ---

TEST(ScheduleFollowUpTest, SchedulesAnAutomaticFollowUp) {
  TaskScheduled scheduled =
      Only<TaskScheduled>(When({Created("l1")}, Schedule("t1", At(100))));
  EXPECT_EQ(scheduled.task.id, "t1");
  EXPECT_TRUE(scheduled.task.automatic);
  EXPECT_EQ(scheduled.task.kind, TaskKind::kFollowUp);
  EXPECT_EQ(scheduled.task.cause_event_id, "cause");
  Lead lead = Then({Created("l1")}, {scheduled});
  ASSERT_NE(lead.OpenAutomaticFollowUp(), nullptr);
  EXPECT_EQ(lead.OpenAutomaticFollowUp()->id, "t1");
}

TEST(ScheduleFollowUpTest, ReplacesTheOpenAutomaticFollowUp) {
  std::vector<LeadEvent> given = {
      Created("l1"),
      TaskScheduled{.task = FollowUpTask("t1", At(100)), .time = At(1)},
      TaskScheduled{.task = FollowUpTask("manual", At(50), false),
                    .time = At(1)}};
  std::vector<LeadEvent> events = When(given, Schedule("t2", At(200)));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<TaskCancelled>(events[0]).task_id, "t1");
  EXPECT_EQ(std::get<TaskScheduled>(events[1]).task.id, "t2");
  Lead lead = Then(given, events);
  EXPECT_THAT(lead.open_tasks, ::testing::SizeIs(2));  // t2 and the manual one.
  EXPECT_EQ(lead.OpenAutomaticFollowUp()->id, "t2");
}

TEST(ScheduleFollowUpTest, ExactlyOncePerCauseAndNotForClosedLeads) {
  std::vector<LeadEvent> given = {Created("l1")};
  given.push_back(Only<TaskScheduled>(When(given, Schedule("t1", At(100)))));
  EXPECT_THAT(When(given, Schedule("t1", At(100))), IsEmpty());
  // Even after the task was completed, replaying its cause adds nothing.
  given.push_back(TaskCompleted{.task_id = "t1", .time = At(2)});
  EXPECT_THAT(When(given, Schedule("t1", At(100))), IsEmpty());
  EXPECT_THAT(
      When({Created("l1"), LeadLost{.time = At(1)}}, Schedule("t9", At(100))),
      IsEmpty());
}

TEST(ScheduleFollowUpTest, RefusesMalformedTasks) {
  EXPECT_THAT(
      Decide(Given({Created("l1")}), Schedule("", At(1))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("task_id")));
  EXPECT_THAT(
      Decide(Given({Created("l1")}), Schedule("t", absl::InfiniteFuture())),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("due_time")));
  ScheduleFollowUp untitled = Schedule("t", At(1));
  untitled.title = " ";
  EXPECT_THAT(Decide(Given({Created("l1")}), untitled),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("title")));
}

// --- CreateTask ---

TEST(CreateTaskTest, UserTasksAreNotAutomatic) {
  const CreateTask create{.task_id = "c1",
                          .kind = TaskKind::kContact,
                          .title = "Call Ana",
                          .due_time = At(60),
                          .priority = 2,
                          .now = At(1)};
  TaskScheduled scheduled = Only<TaskScheduled>(When({Created("l1")}, create));
  EXPECT_FALSE(scheduled.task.automatic);
  EXPECT_EQ(scheduled.task.kind, TaskKind::kContact);
  EXPECT_THAT(When({Created("l1"), scheduled}, create), IsEmpty());
  EXPECT_THAT(Decide(Given({Created("l1"), LeadLost{.time = At(1)}}), create),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// --- CompleteTask ---

CompleteTask Complete(std::string outcome) {
  return CompleteTask{.task_id = "t1",
                      .outcome_id = std::move(outcome),
                      .note = "Talked for ten minutes",
                      .settings = Settings(),
                      .now = At(30)};
}

std::vector<LeadEvent> WithOpenTask() {
  return {Created("l1"),
          TaskScheduled{.task = FollowUpTask("t1", At(20)), .time = At(1)}};
}

TEST(CompleteTaskTest, ClassifyingOutcomeClassifiesTheLead) {
  std::vector<LeadEvent> events =
      When(WithOpenTask(), Complete("HOT_PROSPECT"));
  ASSERT_EQ(events.size(), 2u);
  const TaskCompleted& done = std::get<TaskCompleted>(events[0]);
  EXPECT_EQ(done.outcome_id, "HOT_PROSPECT");
  EXPECT_EQ(done.note, "Talked for ten minutes");
  EXPECT_EQ(std::get<LeadClassified>(events[1]).tag, "Hot prospect");
  Lead lead = Then(WithOpenTask(), events);
  EXPECT_THAT(lead.open_tasks, IsEmpty());
  EXPECT_EQ(lead.classification, "HOT_PROSPECT");
}

TEST(CompleteTaskTest, SameClassificationAgainStillClassifies) {
  // The renewed LeadClassified is what schedules the next follow-up.
  std::vector<LeadEvent> given = WithOpenTask();
  given.push_back(LeadClassified{
      .outcome_id = "HOT_PROSPECT", .tag = "Hot prospect", .time = At(2)});
  std::vector<LeadEvent> events = When(given, Complete("HOT_PROSPECT"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<LeadClassified>(events[1]).removed_tag, "");
  EXPECT_THAT(Then(given, events).profile.tags, ElementsAre("Hot prospect"));
}

TEST(CompleteTaskTest, TaskOutcomesAndNoOutcomeDoNotClassify) {
  for (const char* outcome : {"NOT_SURE_YET", "NOT_INTERESTED", ""}) {
    TaskCompleted done =
        Only<TaskCompleted>(When(WithOpenTask(), Complete(outcome)));
    EXPECT_EQ(done.outcome_id, outcome);
    EXPECT_EQ(Then(WithOpenTask(), {done}).classification, "");
  }
}

TEST(CompleteTaskTest, AddsTagsAndAManualFollowUp) {
  CompleteTask command = Complete("");
  command.tags = {"vip", " ", "vip "};
  command.follow_up = ManualFollowUp{
      .task_id = "m1", .title = "Send the brochure", .due_time = At(500)};
  std::vector<LeadEvent> events = When(WithOpenTask(), command);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_THAT(std::get<TaskCompleted>(events[0]).added_tags,
              ElementsAre("vip"));
  const Task& manual = std::get<TaskScheduled>(events[1]).task;
  EXPECT_EQ(manual.id, "m1");
  EXPECT_FALSE(manual.automatic);
  EXPECT_EQ(manual.owner_id, "u1");
  Lead lead = Then(WithOpenTask(), events);
  EXPECT_THAT(lead.profile.tags, ElementsAre("vip"));
  EXPECT_EQ(lead.open_tasks.count("m1"), 1u);
}

TEST(CompleteTaskTest, ErrorPaths) {
  EXPECT_THAT(Decide(Given({Created("l1")}), Complete("")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("t1")));
  std::vector<LeadEvent> done = WithOpenTask();
  done.push_back(TaskCompleted{.task_id = "t1", .time = At(2)});
  EXPECT_THAT(Decide(Given(done), Complete("")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already closed")));
  EXPECT_THAT(
      Decide(Given(WithOpenTask()), Complete("MAYBE")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outcome")));
  CompleteTask long_note = Complete("");
  long_note.note.assign(64 * 1024 + 1, 'n');
  EXPECT_THAT(Decide(Given(WithOpenTask()), long_note),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("note")));
  CompleteTask long_tag = Complete("");
  long_tag.tags = {std::string(65, 't')};
  EXPECT_THAT(Decide(Given(WithOpenTask()), long_tag),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tags")));
  CompleteTask many_tags = Complete("");
  for (int i = 0; i <= kMaxTags; ++i) many_tags.tags.insert(std::to_string(i));
  EXPECT_THAT(Decide(Given(WithOpenTask()), many_tags),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tags")));
  CompleteTask reused = Complete("");
  reused.follow_up =
      ManualFollowUp{.task_id = "t1", .title = "x", .due_time = At(9)};
  EXPECT_THAT(Decide(Given(WithOpenTask()), reused),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("follow_up.task_id")));
  CompleteTask untitled = Complete("");
  untitled.follow_up =
      ManualFollowUp{.task_id = "m", .title = "", .due_time = At(9)};
  EXPECT_THAT(Decide(Given(WithOpenTask()), untitled),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("follow_up.title")));
}

// --- CancelTask, MarkTaskDue ---

TEST(CancelTaskTest, CancelsOpenTasksOnce) {
  const CancelTask cancel{
      .task_id = "t1", .reason = "no longer needed", .now = At(5)};
  TaskCancelled cancelled = Only<TaskCancelled>(When(WithOpenTask(), cancel));
  EXPECT_EQ(cancelled.reason, "no longer needed");
  EXPECT_THAT(When(Then(WithOpenTask(), {}).exists
                       ? std::vector<LeadEvent>{WithOpenTask()[0],
                                                WithOpenTask()[1], cancelled}
                       : std::vector<LeadEvent>{},
                   cancel),
              IsEmpty());
  EXPECT_THAT(Decide(Given({Created("l1")}), cancel),
              StatusIs(absl::StatusCode::kNotFound));
  CancelTask long_reason = cancel;
  long_reason.reason.assign(300, 'r');
  EXPECT_THAT(
      Decide(Given(WithOpenTask()), long_reason),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
}

TEST(MarkTaskDueTest, FiresOnceWhenTheDueTimeHasPassed) {
  const MarkTaskDue due{.task_id = "t1", .now = At(20)};
  TaskDue fired = Only<TaskDue>(When(WithOpenTask(), due));
  std::vector<LeadEvent> given = WithOpenTask();
  given.push_back(fired);
  EXPECT_TRUE(Given(given).open_tasks.at("t1").fell_due);
  EXPECT_THAT(When(given, due), IsEmpty());
  EXPECT_THAT(
      Decide(Given(WithOpenTask()),
             MarkTaskDue{.task_id = "t1", .now = At(19)}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not due")));
  given.push_back(TaskCompleted{.task_id = "t1", .time = At(21)});
  EXPECT_THAT(When(given, due), IsEmpty());
}

}  // namespace
}  // namespace leadledger::domain
