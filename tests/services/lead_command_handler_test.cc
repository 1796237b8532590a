#include "services/lead_command_handler.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/strip.h"
#include "domain/id_generator.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/lead_history.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;

domain::CreateLead Create(std::string id, std::string name) {
  domain::CreateLead command;
  command.lead_id = std::move(id);
  command.profile.display_name = std::move(name);
  command.now = absl::FromUnixSeconds(1'790'000'000);
  return command;
}

class LeadCommandHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = eventstore::RocksDbEventStore::Open({.path = dir_.Sub("log")});
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    handler_ = std::make_unique<LeadCommandHandler>(store_.get(), &ids_);
  }

  leadledger::testing::TempDir dir_;
  SequentialIdGenerator ids_{"ev"};
  std::unique_ptr<eventstore::RocksDbEventStore> store_;
  std::unique_ptr<LeadCommandHandler> handler_;
};

TEST_F(LeadCommandHandlerTest, ExecuteAppendsAndLoadFolds) {
  auto created = handler_->Execute("a", Create("a", "Alpha"), {.actor = "me"});
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->version, 0);
  EXPECT_EQ(created->log_position, 1u);
  EXPECT_EQ(created->lead.profile.display_name, "Alpha");

  auto loaded = handler_->Load("a");
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->lead, created->lead);
  EXPECT_EQ(loaded->version, 0);
  EXPECT_EQ(loaded->log_position, 1u);

  auto events = store_->ReadStream(LeadStream("a"), {});
  ASSERT_THAT(events, IsOk());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].event_id, "ev-1");
  // Without a correlation id the command's first event starts the chain.
  EXPECT_EQ((*events)[0].metadata.correlation_id, "ev-1");
  EXPECT_EQ((*events)[0].metadata.actor, "me");
}

TEST_F(LeadCommandHandlerTest, LoadOfAnUnknownLeadIsNotFound) {
  EXPECT_THAT(handler_->Load("ghost"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LeadCommandHandlerTest, RefusedCommandWritesNothing) {
  EXPECT_THAT(handler_->Execute("a", Create("a", ""), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store_->HeadPosition(), 0u);
}

TEST_F(LeadCommandHandlerTest, RacingCreatesOfOneLeadCreateItOnce) {
  // The threads take turns: the first creates the lead, every later one
  // decides on the created lead and gets ALREADY_EXISTS.
  constexpr int kThreads = 8;
  std::atomic<int> created = 0;
  std::atomic<int> already_exists = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto result = handler_->Execute(
          "same", Create("same", absl::StrCat("writer ", t)), {});
      if (result.ok()) {
        ++created;
      } else if (absl::IsAlreadyExists(result.status())) {
        ++already_exists;
      } else {
        ADD_FAILURE() << result.status();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(already_exists.load(), kThreads - 1);
  EXPECT_EQ(store_->HeadPosition(), 1u);
}

TEST_F(LeadCommandHandlerTest, BusyLeadNeverRunsOutOfAttempts) {
  // One attempt each: a command that decided on a state another thread of
  // this process replaced would be ABORTED. Taking turns, none is.
  LeadCommandHandler handler(store_.get(), &ids_, {.max_attempts = 1});
  ASSERT_THAT(handler.Execute("busy", Create("busy", "Busy"), {}), IsOk());
  constexpr int kThreads = 16;
  constexpr int kUpdatesEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kUpdatesEach; ++i) {
        domain::UpdateLead update{.fields = {domain::LeadField::kDisplayName},
                                  .now = absl::FromUnixSeconds(1'790'000'100)};
        update.profile.display_name = absl::StrCat("writer ", t, " #", i);
        EXPECT_THAT(handler.Execute("busy", update, {}), IsOk());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto events = store_->ReadStream(LeadStream("busy"), {});
  ASSERT_THAT(events, IsOk());
  EXPECT_EQ(events->size(), 1u + kThreads * kUpdatesEach);
  // Commands decided on states still being written: what the handler keeps
  // is the fold of what was stored.
  LeadCommandHandler uncached(store_.get(), &ids_, {.cached_leads = 0});
  auto kept = handler.Load("busy");
  auto folded = uncached.Load("busy");
  ASSERT_THAT(kept, IsOk());
  ASSERT_THAT(folded, IsOk());
  EXPECT_EQ(kept->lead, folded->lead);
  EXPECT_EQ(kept->version, folded->version);
}

TEST_F(LeadCommandHandlerTest, MergesAndCommandsOnTheSameLeadsTakeTurns) {
  // Merges name their leads in either order while single-lead commands run
  // on the same leads: turns taken in a fixed order cannot deadlock, and
  // with one attempt each nothing loses a race inside the process.
  LeadCommandHandler handler(store_.get(), &ids_, {.max_attempts = 1});
  constexpr int kPairs = 12;
  for (int i = 0; i < 2 * kPairs; ++i) {
    const std::string id = absl::StrCat("m", i);
    ASSERT_THAT(handler.Execute(id, Create(id, id), {}), IsOk());
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kPairs; ++i) {
    const std::string first = absl::StrCat("m", 2 * i);
    const std::string second = absl::StrCat("m", 2 * i + 1);
    threads.emplace_back([&, first, second, i] {
      domain::MergeLeads merge;
      merge.lead_ids = i % 2 == 0 ? std::vector<std::string>{first, second}
                                  : std::vector<std::string>{second, first};
      merge.now = absl::FromUnixSeconds(1'790'000'200);
      EXPECT_THAT(handler.ExecuteMerge(merge, {}, {}), IsOk());
    });
    for (const std::string& id : {first, second}) {
      threads.emplace_back([&, id] {
        domain::UpdateLead update{.fields = {domain::LeadField::kContactName},
                                  .now = absl::FromUnixSeconds(1'790'000'100)};
        update.profile.contact_name = "Someone";
        // The lead may already be merged away: refused, never ABORTED.
        auto updated = handler.Execute(id, update, {});
        if (!updated.ok()) {
          EXPECT_THAT(updated.status(),
                      StatusIs(absl::StatusCode::kFailedPrecondition));
        }
      });
    }
  }
  for (auto& thread : threads) thread.join();
}

// The versions of every lead stream in the log.
std::map<std::string, int64_t> LeadVersions(eventstore::EventStore& store) {
  std::map<std::string, int64_t> versions;
  auto events = store.ReadAll({.from_position = 1, .max_count = 1'000'000});
  EXPECT_THAT(events, IsOk());
  if (!events.ok()) return versions;
  for (const eventstore::RecordedEvent& event : *events) {
    absl::string_view id = event.stream;
    if (absl::ConsumePrefix(&id, "lead-")) {
      versions[std::string(id)] = event.stream_version;
    }
  }
  return versions;
}

TEST_F(LeadCommandHandlerTest, CachedStatesEqualFoldsFromScratch) {
  // Histories are written straight into the store, behind the cached
  // handler's back, between the reads.
  LeadCommandHandler uncached(store_.get(), &ids_, {.cached_leads = 0});
  leadledger::testing::LeadHistory history(
      11, absl::FromUnixSeconds(1'790'000'000));
  std::mt19937_64 random(5);
  for (int round = 0; round < 4; ++round) {
    ASSERT_THAT(history.Append(*store_, 600, 40), IsOk());
    const std::map<std::string, int64_t> versions = LeadVersions(*store_);
    ASSERT_FALSE(versions.empty());
    for (const auto& [id, version] : versions) {
      auto cached = handler_->Load(id);
      auto fresh = uncached.Load(id);
      ASSERT_THAT(cached, IsOk());
      ASSERT_THAT(fresh, IsOk());
      EXPECT_EQ(cached->lead, fresh->lead) << id;
      EXPECT_EQ(cached->version, version) << id;
      EXPECT_EQ(cached->log_position, fresh->log_position) << id;
      // Earlier versions, in random order: below, at and between the
      // snapshots the cache keeps.
      std::vector<int64_t> earlier;
      for (int64_t v = 0; v <= version; ++v) earlier.push_back(v);
      std::shuffle(earlier.begin(), earlier.end(), random);
      for (int64_t v : earlier) {
        auto cached_at = handler_->LoadAt(id, v);
        auto fresh_at = uncached.LoadAt(id, v);
        ASSERT_THAT(cached_at, IsOk());
        ASSERT_THAT(fresh_at, IsOk());
        EXPECT_EQ(cached_at->lead, fresh_at->lead) << id << " at " << v;
        EXPECT_EQ(cached_at->version, v);
        EXPECT_EQ(cached_at->log_position, fresh_at->log_position);
      }
      EXPECT_THAT(handler_->LoadAt(id, version + 1),
                  StatusIs(absl::StatusCode::kNotFound));
    }
  }
}

TEST_F(LeadCommandHandlerTest, DecidedStatesItKeepsEqualFoldsOfTheStream) {
  // Every kind of lead command, in random order, through the cached
  // handler; after each one the state it keeps (and answers with) must be
  // what a fold of the stored events reads.
  LeadCommandHandler uncached(store_.get(), &ids_, {.cached_leads = 0});
  const domain::WorkspaceSettings settings;
  std::mt19937_64 random(17);
  absl::Time now = absl::FromUnixSeconds(1'790'000'000);
  const std::vector<std::string> leads = {"p", "q", "r"};
  std::map<std::string, std::vector<std::string>> tasks;
  int next_task = 0;
  for (const std::string& id : leads) {
    domain::CreateLead create = Create(id, "Lead " + id);
    create.profile.email = id + "@example.org";
    create.profile.tags = {"solar"};
    ASSERT_THAT(handler_->Execute(id, create, {}), IsOk());
  }
  static const char* kOutcomes[] = {"POTENTIAL_CONSULTANT", "HOT_PROSPECT",
                                    "THERE_IS_A_CHANCE", "ON_THE_FENCE",
                                    "NOT_SURE_YET"};
  int decided = 0;
  for (int step = 0; step < 400; ++step) {
    now += absl::Minutes(1 + random() % 90);
    const std::string& id = leads[random() % leads.size()];
    std::vector<std::string>& open = tasks[id];
    domain::LeadCommand command;
    switch (random() % 11) {
      case 0: {
        domain::UpdateLead update{.settings = settings, .now = now};
        update.fields = {domain::LeadField::kDescription};
        update.profile.description = absl::StrCat("note ", step);
        command = update;
        break;
      }
      case 1:
      case 2:
        command = domain::ClassifyLead{.outcome_id = kOutcomes[random() % 4],
                                       .settings = settings,
                                       .now = now};
        break;
      case 3:
        command = domain::CreateTask{.task_id = absl::StrCat("t", next_task++),
                                     .kind = domain::TaskKind::kContact,
                                     .title = "Call",
                                     .due_time = now + absl::Hours(24),
                                     .priority = static_cast<int>(random() % 3),
                                     .now = now};
        break;
      case 4:
        if (open.empty()) continue;
        command = domain::CompleteTask{.task_id = open[random() % open.size()],
                                       .outcome_id = kOutcomes[random() % 5],
                                       .note = "done",
                                       .tags = {"called"},
                                       .settings = settings,
                                       .now = now};
        break;
      case 5:
        if (open.empty()) continue;
        command = domain::CancelTask{.task_id = open[random() % open.size()],
                                     .reason = "moot",
                                     .now = now};
        break;
      case 6:
        command = domain::SetProbabilityOverride{
            .value = static_cast<double>(random() % 1000) / 10, .now = now};
        break;
      case 7:
        command = domain::ClearProbabilityOverride{.now = now};
        break;
      case 8:
        command = domain::MarkLeadLost{
            .reason = "price", .settings = settings, .now = now};
        break;
      case 9:
        command = domain::RestoreLead{.now = now};
        break;
      default:
        command = domain::ScheduleFollowUp{
            .task_id = absl::StrCat("f", next_task++),
            .cause_event_id = absl::StrCat("cause-", step),
            .title = "Follow up",
            .due_time = now + absl::Hours(48),
            .now = now};
        break;
    }
    if (const auto* create = std::get_if<domain::CreateTask>(&command)) {
      open.push_back(create->task_id);
    }
    absl::StatusOr<LeadSnapshot> answered = handler_->Execute(id, command, {});
    if (!answered.ok()) continue;  // refused by the rules: nothing stored
    ++decided;
    absl::StatusOr<LeadSnapshot> folded = uncached.Load(id);
    ASSERT_THAT(folded, IsOk());
    ASSERT_EQ(answered->lead, folded->lead) << "step " << step;
    ASSERT_EQ(answered->version, folded->version);
    absl::StatusOr<LeadSnapshot> kept = handler_->Load(id);
    ASSERT_THAT(kept, IsOk());
    ASSERT_EQ(kept->lead, folded->lead) << "step " << step;
    ASSERT_EQ(kept->log_position, folded->log_position);
  }
  EXPECT_GT(decided, 200);
}

TEST_F(LeadCommandHandlerTest, CommandsDecideOnEventsAppendedByOthers) {
  ASSERT_THAT(handler_->Execute("a", Create("a", "Alpha"), {}), IsOk());
  ASSERT_THAT(handler_->Load("a"), IsOk());  // now cached at version 0
  // Another process classifies the lead: the cached handler never saw it.
  LeadCommandHandler other(store_.get(), &ids_, {.cached_leads = 0});
  domain::WorkspaceSettings settings;
  ASSERT_THAT(other.Execute("a",
                            domain::ClassifyLead{
                                .outcome_id = "HOT_PROSPECT",
                                .settings = settings,
                                .now = absl::FromUnixSeconds(1'790'000'100)},
                            {}),
              IsOk());
  auto loaded = handler_->Load("a");
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->version, 1);
  EXPECT_EQ(loaded->lead.classification, "HOT_PROSPECT");
  // The etag the cached handler checks is the stored one.
  EXPECT_THAT(
      handler_->Execute(
          "a",
          domain::ClassifyLead{.outcome_id = "ON_THE_FENCE",
                               .settings = settings,
                               .now = absl::FromUnixSeconds(1'790'000'200)},
          {}, {.expected_version = 0}),
      StatusIs(absl::StatusCode::kAborted));
}

}  // namespace
}  // namespace leadledger::services
