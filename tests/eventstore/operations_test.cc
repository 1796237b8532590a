// Backup, Verify, and what reads do with damaged bytes on disk.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/keys.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eventstore/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::eventstore {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto opened = RocksDbEventStore::Open({.path = path()});
    ASSERT_THAT(opened, IsOk());
    store_ = *std::move(opened);
  }
  std::string path() const { return dir_.Sub("log"); }
  void Fill(int streams, int events_per_stream) {
    for (int e = 0; e < events_per_stream; ++e) {
      for (int s = 0; s < streams; ++s) {
        ASSERT_THAT(store_->Append(OneStream(absl::StrCat("s", s),
                                             ExpectedVersion::Any(),
                                             {absl::StrCat(s, ".", e)})),
                    IsOk());
      }
    }
  }
  VerifyReport VerifyOk() {
    auto report = store_->Verify();
    EXPECT_THAT(report, IsOk());
    return report.ok() ? *report : VerifyReport{};
  }

  leadledger::testing::TempDir dir_;
  std::unique_ptr<RocksDbEventStore> store_;
};

TEST_F(OperationsTest, VerifyOfAHealthyStoreIsClean) {
  Fill(5, 4);
  VerifyReport report = VerifyOk();
  EXPECT_EQ(report.events, 20u);
  EXPECT_EQ(report.streams, 5u);
  EXPECT_THAT(report.problems, IsEmpty());
}

TEST_F(OperationsTest, VerifyOfAnEmptyStoreIsClean) {
  VerifyReport report = VerifyOk();
  EXPECT_EQ(report.events, 0u);
  EXPECT_THAT(report.problems, IsEmpty());
}

TEST_F(OperationsTest, CorruptEventIsDataLossNamingItsPosition) {
  Fill(2, 2);  // Positions 1..4; stream s1 holds 2 and 4.
  store_.reset();
  {
    RawDb raw(path());
    ASSERT_TRUE(raw.db()
                    ->Put(rocksdb::WriteOptions(), raw.Family("events"),
                          PositionKey(2), "\x0a\xff garbage")
                    .ok());
  }
  Reopen();
  EXPECT_THAT(store_->ReadAll({}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 2")));
  EXPECT_THAT(store_->ReadStream("s1", {}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 2")));
  // Other streams still read.
  EXPECT_THAT(store_->ReadStream("s0", {}), IsOk());
  auto subscription = store_->SubscribeAll({});
  ASSERT_THAT(subscription, IsOk());
  EXPECT_THAT((*subscription)->Next(absl::InfiniteFuture()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 2")));
  EXPECT_THAT(VerifyOk().problems,
              Contains(HasSubstr("position 2 is unreadable")));
}

TEST_F(OperationsTest, VerifyFindsBrokenIndexesAndGaps) {
  Fill(2, 3);
  store_.reset();
  {
    RawDb raw(path());
    rocksdb::WriteOptions write;
    ASSERT_TRUE(
        raw.db()
            ->Delete(write, raw.Family("streams"), StreamVersionKey("s0", 1))
            .ok());
    ASSERT_TRUE(
        raw.db()->Put(write, raw.Family("heads"), "s1", EncodeUint64(7)).ok());
    ASSERT_TRUE(
        raw.db()->Delete(write, raw.Family("events"), PositionKey(5)).ok());
  }
  Reopen();
  std::vector<std::string> problems = VerifyOk().problems;
  EXPECT_THAT(problems, Contains(HasSubstr("s0 jumps from version 0 to 2")));
  EXPECT_THAT(problems,
              Contains(HasSubstr("stream s1 should be at version 2")));
  EXPECT_THAT(problems, Contains(HasSubstr("expected position 5, found 6")));
  EXPECT_THAT(problems, Contains(HasSubstr("points at no event")));
}

TEST_F(OperationsTest, BackupTakenUnderLoadOpensAsAConsistentStore) {
  Fill(3, 10);
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      ASSERT_THAT(store_->Append(OneStream("busy", ExpectedVersion::Any(),
                                           {absl::StrCat(i)})),
                  IsOk());
    }
  });
  ASSERT_THAT(store_->Backup(dir_.Sub("backup")), IsOk());
  stop = true;
  writer.join();

  auto backup = RocksDbEventStore::Open({.path = dir_.Sub("backup")});
  ASSERT_THAT(backup, IsOk());
  auto report = (*backup)->Verify();
  ASSERT_THAT(report, IsOk());
  EXPECT_THAT(report->problems, IsEmpty());
  EXPECT_GE(report->events, 30u);
  // The backup holds a prefix of the live log, byte for byte.
  auto copied = (*backup)->ReadAll({.max_count = 1000000});
  auto live = store_->ReadAll({.max_count = 1000000});
  ASSERT_THAT(copied, IsOk());
  ASSERT_THAT(live, IsOk());
  ASSERT_LE(copied->size(), live->size());
  for (size_t i = 0; i < copied->size(); ++i) {
    EXPECT_EQ((*copied)[i].payload, (*live)[i].payload);
    EXPECT_EQ((*copied)[i].event_id, (*live)[i].event_id);
  }
  // The backup is a store of its own: it takes appends.
  EXPECT_THAT((*backup)->Append(OneStream("s0", ExpectedVersion::Exactly(9),
                                          {"after restore"})),
              IsOk());
}

TEST_F(OperationsTest, BackupRefusesAnExistingDirectory) {
  EXPECT_THAT(store_->Backup(dir_.path()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store_->Backup(""),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace leadledger::eventstore
