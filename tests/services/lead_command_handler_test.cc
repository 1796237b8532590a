#include "services/lead_command_handler.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "domain/id_generator.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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
  // Every thread decides on an empty stream; one append wins, the others lose
  // the race (ABORTED), decide again on the created lead and get
  // ALREADY_EXISTS.
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

}  // namespace
}  // namespace leadledger::services
