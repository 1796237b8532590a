// The agenda read model folded by a real ProjectionRunner over RocksDB: an
// owner's open tasks page in order with their leads' names, however many
// closed tasks lie before them in the owner's range.
#include "projections/agenda.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain/lead_commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/projections/lead_script.h"
#include "tests/projections/read_model_fixture.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;

class AgendaTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    script_ = std::make_unique<LeadScript>(store_.get(), /*auto_commit=*/false);
  }

  // Lead `lead` of `owner` with task `task`, due `days` after the start.
  void AddTask(const std::string& lead, const std::string& owner,
               const std::string& task, int days) {
    ASSERT_THAT(script_->Create(
                    lead, domain::LeadProfile{.display_name = "Name of " + lead,
                                              .owner_id = owner}),
                IsOk());
    ASSERT_THAT(script_->Run(lead,
                             domain::CreateTask{
                                 .task_id = task,
                                 .owner_id = owner,
                                 .title = "Call",
                                 .due_time = kStart + absl::Hours(24 * days),
                                 .priority = days % 3,
                                 .now = script_->Now()}),
                IsOk());
  }

  // "<lead>/<task>/<lead name>" of every page of `owner`'s agenda.
  std::vector<std::string> Agenda(const std::string& owner, int page_size) {
    Fold();
    std::vector<std::string> items;
    AgendaQuery query{.owner_id = owner, .page_size = page_size};
    std::unique_ptr<ProjectionReader> reader = db_->NewReader();
    for (int pages = 0; pages < 1000; ++pages) {
      absl::StatusOr<AgendaPage> page =
          ListAgenda(*reader, *db_->Live(kAgendaProjection), query);
      EXPECT_THAT(page.status(), IsOk());
      if (!page.ok()) break;
      EXPECT_LE(page->items.size(), static_cast<size_t>(page_size));
      for (const AgendaItem& item : page->items) {
        items.push_back(absl::StrCat(item.lead_id, "/", item.task.id, "/",
                                     item.lead_display_name));
      }
      if (page->next_page_token.empty()) break;
      query.page_token = page->next_page_token;
    }
    return items;
  }

  static constexpr absl::Time kStart = absl::FromUnixSeconds(1'900'000'000);
  std::unique_ptr<LeadScript> script_;
};

TEST_F(AgendaTest, PagesPastManyClosedTasksAtTheFrontOfAnOwnersRange) {
  for (int i = 0; i < 120; ++i) {
    AddTask(absl::StrCat("a", i), "u1", absl::StrCat("t", i), i + 1);
    if (i % 6 == 0) {
      AddTask(absl::StrCat("b", i), "u2", absl::StrCat("t", i), i + 1);
    }
  }
  ASSERT_THAT(script_->Commit(), IsOk());
  Fold();
  // The tasks due first are the ones closed: their entries come first in
  // the owner's range.
  for (int i = 0; i < 100; ++i) {
    ASSERT_THAT(script_->Run(absl::StrCat("a", i),
                             domain::CancelTask{.task_id = absl::StrCat("t", i),
                                                .now = script_->Now()}),
                IsOk());
  }
  ASSERT_THAT(script_->Commit(), IsOk());
  std::vector<std::string> expected;
  for (int i = 100; i < 120; ++i) {
    expected.push_back(absl::StrCat("a", i, "/t", i, "/Name of a", i));
  }
  for (int page_size : {1, 3, 20, 50}) {
    EXPECT_EQ(Agenda("u1", page_size), expected) << page_size;
  }
  EXPECT_EQ(Agenda("u2", 7).size(), 20u);
  Rebuild();
  EXPECT_EQ(Agenda("u1", 3), expected);
}

}  // namespace
}  // namespace leadledger::projections
