// I/O faults under the event store: a RocksDB file system that fails WAL
// writes or syncs on demand. An append that could not be made durable is
// never acknowledged, nothing of it is visible, and the store says it is
// read-only until reopened, after which it is whole again.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "tests/eventstore/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::eventstore {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Faults {
  std::atomic<bool> fail_wal_append = false;
  std::atomic<bool> fail_wal_sync = false;
};

class FaultyWalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWalFile(std::unique_ptr<rocksdb::FSWritableFile> file, Faults* faults)
      : FSWritableFileOwnerWrapper(std::move(file)), faults_(faults) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_wal_append) return rocksdb::IOStatus::IOError("injected");
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_wal_append) return rocksdb::IOStatus::IOError("injected");
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_wal_sync) return rocksdb::IOStatus::IOError("injected");
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_wal_sync) return rocksdb::IOStatus::IOError("injected");
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  Faults* const faults_;
};

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFileSystem(Faults* faults)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), faults_(faults) {}
  const char* Name() const override { return "FaultyFileSystem"; }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status =
        FileSystemWrapper::NewWritableFile(name, options, result, dbg);
    if (status.ok() && absl::EndsWith(name, ".log")) {
      *result = std::make_unique<FaultyWalFile>(std::move(*result), faults_);
    }
    return status;
  }

 private:
  Faults* const faults_;
};

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ =
        rocksdb::NewCompositeEnv(std::make_shared<FaultyFileSystem>(&faults_));
    Reopen();
  }
  void TearDown() override { store_.reset(); }

  void Reopen() {
    store_.reset();
    faults_.fail_wal_append = false;
    faults_.fail_wal_sync = false;
    auto opened =
        RocksDbEventStore::Open({.path = dir_.Sub("log"), .env = env_.get()});
    ASSERT_THAT(opened, IsOk());
    store_ = *std::move(opened);
  }

  absl::StatusOr<AppendResult> Append(const std::string& payload) {
    return store_->Append(OneStream("s", ExpectedVersion::Any(), {payload}));
  }

  leadledger::testing::TempDir dir_;
  Faults faults_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<RocksDbEventStore> store_;
};

TEST_F(FaultTest, FailedWalWriteIsUnavailableAndLeavesNothing) {
  ASSERT_THAT(Append("kept"), IsOk());
  faults_.fail_wal_append = true;
  EXPECT_THAT(Append("lost"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(store_->HeadPosition(), 1u);
  auto all = store_->ReadAll({});
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(PayloadsOf(*all), ElementsAre("kept"));

  // Read-only, and says so, even once the disk is fine again.
  faults_.fail_wal_append = false;
  EXPECT_THAT(Append("refused"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("read-only")));

  Reopen();
  auto report = store_->Verify();
  ASSERT_THAT(report, IsOk());
  EXPECT_THAT(report->problems, IsEmpty());
  auto after = store_->ReadAll({});
  ASSERT_THAT(after, IsOk());
  EXPECT_THAT(PayloadsOf(*after), ElementsAre("kept"));
  ASSERT_THAT(Append("next"), IsOk());
  EXPECT_EQ(store_->HeadPosition(), 2u);
}

TEST_F(FaultTest, FailedSyncIsNeverAcknowledged) {
  ASSERT_THAT(Append("kept"), IsOk());
  faults_.fail_wal_sync = true;
  EXPECT_THAT(Append("unsynced"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(store_->HeadPosition(), 1u);
  auto visible = store_->ReadAll({});
  ASSERT_THAT(visible, IsOk());
  EXPECT_THAT(PayloadsOf(*visible), ElementsAre("kept"));
  EXPECT_THAT(Append("refused"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("read-only")));

  // The unsynced batch may or may not have reached the disk; either way the
  // reopened store is whole and every acknowledged event is there.
  Reopen();
  auto report = store_->Verify();
  ASSERT_THAT(report, IsOk());
  EXPECT_THAT(report->problems, IsEmpty());
  auto after = store_->ReadAll({});
  ASSERT_THAT(after, IsOk());
  ASSERT_GE(after->size(), 1u);
  EXPECT_EQ((*after)[0].payload, "kept");
  EXPECT_LE(after->size(), 2u);
  auto next = Append("next");
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->first_position, after->size() + 1);
}

TEST_F(FaultTest, EveryWaiterOfAFailedGroupIsRefused) {
  faults_.fail_wal_sync = true;
  std::vector<std::thread> threads;
  std::atomic<int> acknowledged = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto result = store_->Append(
          OneStream(absl::StrCat("s", t), ExpectedVersion::Any(), {"x"}));
      if (result.ok()) ++acknowledged;
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(acknowledged.load(), 0);
  EXPECT_EQ(store_->HeadPosition(), 0u);
}

}  // namespace
}  // namespace leadledger::eventstore
