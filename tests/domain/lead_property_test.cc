// Properties of the lead decider over random command sequences:
//  - folding the events Decide returned gives a state on which the same
//    command is a no-op or a clear error: nothing ever happens twice;
//  - Evolve accepts every sequence Decide produces, and the state keeps its
//    invariants (one open automatic follow-up at most, no open task on a
//    closed or merged lead, every open task known).
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain/lead_decider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/domain/lead_test_util.h"

namespace leadledger::domain {
namespace {

using namespace ::leadledger::domain::testing;  // NOLINT: test vocabulary.

constexpr int kSeeds = 20;
constexpr int kStepsPerSeed = 300;

class CommandGenerator {
 public:
  explicit CommandGenerator(uint32_t seed) : random_(seed) {}

  LeadCommand Next(const Lead& lead, absl::Time now) {
    const WorkspaceSettings settings;
    const std::string task = Pick({"t1", "t2", "t3", "t4"});
    switch (Uniform(0, 13)) {
      case 0:
        return CreateLead{.lead_id = "l1",
                          .profile = {.display_name = Pick({"A", " A ", ""})},
                          .settings = settings,
                          .now = now};
      case 1: {
        LeadProfile profile;
        profile.contact_name = Pick({"Ana", " Ana ", ""});
        profile.email = Pick({"a@x.es", "bad", ""});
        profile.tags = {Pick({"vip", "b2b", "Hot prospect"})};
        return UpdateLead{
            .fields = {Pick({LeadField::kContactName, LeadField::kEmail,
                             LeadField::kTags})},
            .profile = profile,
            .settings = settings,
            .now = now};
      }
      case 2:
        return ClassifyLead{
            .outcome_id =
                Pick({"", "HOT_PROSPECT", "ON_THE_FENCE", "NOT_SURE_YET"}),
            .settings = settings,
            .now = now};
      case 3:
        return MarkLeadLost{.reason = Pick({"", "Unreachable"}),
                            .settings = settings,
                            .now = now};
      case 4:
        return RestoreLead{.now = now};
      case 5:
        return MarkLeadWon{.settings = settings, .now = now};
      case 6:
        return SetProbabilityOverride{.value = Pick({10.0, 55.5}), .now = now};
      case 7:
        return ClearProbabilityOverride{.now = now};
      case 8:
        return UpdateAutomatedProbability{.value = Pick({20.0, 70.0}),
                                          .now = now};
      case 9:
        return ScheduleFollowUp{.task_id = task,
                                .title = "Follow up",
                                .due_time = now + absl::Hours(24),
                                .priority = 2,
                                .now = now};
      case 10:
        return CreateTask{.task_id = task,
                          .title = "Call",
                          .due_time = now + absl::Hours(2),
                          .now = now};
      case 11: {
        CompleteTask complete{
            .task_id = task,
            .outcome_id = Pick({"", "HOT_PROSPECT", "NOT_SURE_YET"}),
            .settings = settings,
            .now = now};
        if (Uniform(0, 1) == 0) {
          complete.follow_up = ManualFollowUp{
              .task_id = absl::StrCat("m", lead.known_task_ids.size()),
              .title = "Manual",
              .due_time = now + absl::Hours(48)};
        }
        return complete;
      }
      case 12:
        return CancelTask{.task_id = task, .now = now};
      default:
        return MarkTaskDue{.task_id = task, .now = now + absl::Hours(30)};
    }
  }

 private:
  int Uniform(int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random_);
  }
  template <typename T>
  T Pick(std::initializer_list<T> values) {
    return *(values.begin() + Uniform(0, static_cast<int>(values.size()) - 1));
  }
  std::mt19937 random_;
};

void ExpectInvariants(const Lead& lead) {
  int automatic = 0;
  for (const auto& [id, task] : lead.open_tasks) {
    EXPECT_EQ(id, task.id);
    EXPECT_TRUE(lead.known_task_ids.contains(id));
    automatic += task.automatic;
  }
  EXPECT_LE(automatic, 1);
  if (lead.status == LeadStatus::kLost || lead.status == LeadStatus::kMerged) {
    EXPECT_TRUE(lead.open_tasks.empty());
  }
  if (lead.status == LeadStatus::kWon) {
    EXPECT_EQ(lead.kind, LeadKind::kOpportunity);
  }
}

bool IsClearError(absl::StatusCode code) {
  return code == absl::StatusCode::kInvalidArgument ||
         code == absl::StatusCode::kFailedPrecondition ||
         code == absl::StatusCode::kNotFound ||
         code == absl::StatusCode::kAlreadyExists;
}

TEST(LeadPropertyTest, NothingHappensTwiceAndInvariantsHold) {
  int decided = 0;
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    CommandGenerator commands(seed);
    Lead lead;
    absl::Time now = kT0;
    for (int step = 0; step < kStepsPerSeed; ++step) {
      now += absl::Minutes(7);
      const LeadCommand command = commands.Next(lead, now);
      absl::StatusOr<std::vector<LeadEvent>> events = Decide(lead, command);
      if (!events.ok()) {
        ASSERT_TRUE(IsClearError(events.status().code())) << events.status();
        continue;
      }
      const absl::Time commanded =
          std::visit([](const auto& c) { return c.now; }, command);
      for (const LeadEvent& event : *events) {
        EXPECT_EQ(TimeOf(event), commanded);
        lead = Evolve(std::move(lead), event);
      }
      ExpectInvariants(lead);
      if (events->empty()) continue;
      ++decided;
      absl::StatusOr<std::vector<LeadEvent>> again = Decide(lead, command);
      if (again.ok()) {
        EXPECT_TRUE(again->empty())
            << "seed " << seed << " step " << step << " command index "
            << command.index() << " decided twice";
      } else {
        EXPECT_TRUE(IsClearError(again.status().code())) << again.status();
      }
    }
  }
  // The generator reached real decisions, not only refusals.
  EXPECT_GT(decided, kSeeds * kStepsPerSeed / 10);
}

}  // namespace
}  // namespace leadledger::domain
