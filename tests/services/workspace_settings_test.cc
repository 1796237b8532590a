// WorkspaceSettingsStore over a real RocksDB event log: defaults until the
// first change, one append per update, reloads on restart, and a second
// writer on the same log (standing in for another process).
#include "services/workspace_settings.h"

#include <memory>
#include <string>
#include <vector>

#include "domain/id_generator.h"
#include "domain/workspace.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

domain::UpdateWorkspaceSettings Set(std::set<domain::WorkspaceSetting> fields,
                                    domain::WorkspaceSettings values) {
  return {
      .fields = std::move(fields), .values = std::move(values), .now = kNow};
}

domain::UpdateWorkspaceSettings SetPipeline(std::vector<std::string> stages) {
  domain::WorkspaceSettings values;
  values.pipeline_stages = std::move(stages);
  return Set({domain::WorkspaceSetting::kPipeline}, values);
}

domain::UpdateWorkspaceSettings SetLostReasons(
    std::vector<std::string> reasons) {
  domain::WorkspaceSettings values;
  values.lost_reasons = std::move(reasons);
  return Set({domain::WorkspaceSetting::kLostReasons}, values);
}

class WorkspaceSettingsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventstore::RocksDbEventStore::Open({.path = dir_.Sub("log")});
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    defaults_.leads_enabled = false;
    defaults_.default_country = "ES";
  }

  std::unique_ptr<WorkspaceSettingsStore> OpenSettings() {
    auto settings = WorkspaceSettingsStore::Open(log_.get(), &ids_, defaults_);
    EXPECT_THAT(settings, IsOk());
    return settings.ok() ? *std::move(settings) : nullptr;
  }

  // The events of the workspace stream, by type.
  std::vector<std::string> StreamTypes() {
    auto events = log_->ReadStream(kWorkspaceStream, {});
    EXPECT_THAT(events, IsOk());
    std::vector<std::string> types;
    for (const eventstore::RecordedEvent& event : *events) {
      types.push_back(event.type);
    }
    return types;
  }

  leadledger::testing::TempDir dir_;
  SequentialIdGenerator ids_{"ev"};
  std::unique_ptr<eventstore::RocksDbEventStore> log_;
  domain::WorkspaceSettings defaults_;
};

TEST_F(WorkspaceSettingsStoreTest, DefaultsApplyWhileTheStreamIsEmpty) {
  std::unique_ptr<WorkspaceSettingsStore> settings = OpenSettings();
  EXPECT_EQ(*settings->Current(), defaults_);
  EXPECT_EQ(settings->Snapshot().version, eventstore::kNoStreamVersion);
  EXPECT_EQ(settings->Snapshot().log_position, 0u);
  EXPECT_EQ(WorkspaceSettingsEtag(settings->Snapshot().version), "0");
}

TEST_F(WorkspaceSettingsStoreTest, OneUpdateIsOneAppendOfOneEventPerChange) {
  std::unique_ptr<WorkspaceSettingsStore> settings = OpenSettings();
  domain::WorkspaceSettings values;
  values.leads_enabled = true;
  values.skip_weekends = true;
  values.default_country = "ES";  // unchanged: no event
  values.pipeline_stages = {"New", "Won"};
  auto updated = settings->Execute(
      Set({domain::WorkspaceSetting::kLeadsEnabled,
           domain::WorkspaceSetting::kWeekendRule,
           domain::WorkspaceSetting::kDefaultCountry,
           domain::WorkspaceSetting::kPipeline},
          values),
      {.actor = "ops"}, {.request_id = "r-1", .fingerprint = "f"});
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->log_position, 3u);
  EXPECT_TRUE(updated->settings->leads_enabled);
  EXPECT_TRUE(updated->settings->skip_weekends);
  EXPECT_THAT(updated->settings->pipeline_stages, ElementsAre("New", "Won"));
  // Settings outside the update keep their values.
  EXPECT_EQ(updated->settings->lost_reasons, defaults_.lost_reasons);
  EXPECT_EQ(settings->Current(), updated->settings);
  EXPECT_THAT(StreamTypes(),
              ElementsAre("LeadsEnabledChanged", "PipelineChanged",
                          "WeekendRuleChanged"));
  // The request's idempotency record spans every event: one append.
  auto committed = log_->LookupIdempotencyKey("request/r-1");
  ASSERT_THAT(committed, IsOk());
  ASSERT_TRUE(committed->has_value());
  EXPECT_EQ((*committed)->result.first_position, 1u);
  EXPECT_EQ((*committed)->result.last_position, 3u);
  auto events = log_->ReadStream(kWorkspaceStream, {});
  ASSERT_THAT(events, IsOk());
  EXPECT_EQ(events->front().metadata.actor, "ops");
}

TEST_F(WorkspaceSettingsStoreTest, AnUpdateThatChangesNothingAppendsNothing) {
  std::unique_ptr<WorkspaceSettingsStore> settings = OpenSettings();
  auto same = settings->Execute(SetPipeline(defaults_.pipeline_stages), {});
  ASSERT_THAT(same, IsOk());
  EXPECT_EQ(same->version, eventstore::kNoStreamVersion);
  EXPECT_EQ(log_->HeadPosition(), 0u);
}

TEST_F(WorkspaceSettingsStoreTest, InvalidValueIsRefusedAndNothingWritten) {
  std::unique_ptr<WorkspaceSettingsStore> settings = OpenSettings();
  EXPECT_THAT(settings->Execute(SetPipeline({}), {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pipeline_stages")));
  EXPECT_EQ(log_->HeadPosition(), 0u);
  EXPECT_EQ(*settings->Current(), defaults_);
}

TEST_F(WorkspaceSettingsStoreTest, ChangesOutliveTheStoreAndLaterDefaults) {
  ASSERT_THAT(OpenSettings()->Execute(SetPipeline({"Open", "Won"}), {}),
              IsOk());
  defaults_.pipeline_stages = {"Other", "Defaults"};
  defaults_.skip_weekends = true;
  std::unique_ptr<WorkspaceSettingsStore> reopened = OpenSettings();
  EXPECT_THAT(reopened->Current()->pipeline_stages, ElementsAre("Open", "Won"));
  // A setting never written takes the new default.
  EXPECT_TRUE(reopened->Current()->skip_weekends);
  EXPECT_EQ(reopened->Snapshot().version, 0);
  EXPECT_EQ(reopened->Snapshot().log_position, 1u);
}

TEST_F(WorkspaceSettingsStoreTest, AnotherWritersChangeIsFoundAndKept) {
  std::unique_ptr<WorkspaceSettingsStore> mine = OpenSettings();
  std::unique_ptr<WorkspaceSettingsStore> theirs = OpenSettings();
  ASSERT_THAT(theirs->Execute(SetPipeline({"Open", "Won"}), {}), IsOk());
  // Not seen yet: nothing told this store.
  EXPECT_EQ(mine->Current()->pipeline_stages, defaults_.pipeline_stages);

  // The append at the stale version is refused; the store reads the other
  // writer's event and decides again on top of it.
  auto updated = mine->Execute(SetLostReasons({"Price"}), {});
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->version, 1);
  EXPECT_THAT(mine->Current()->pipeline_stages, ElementsAre("Open", "Won"));
  EXPECT_THAT(mine->Current()->lost_reasons, ElementsAre("Price"));

  auto refreshed = theirs->Refresh();
  ASSERT_THAT(refreshed, IsOk());
  EXPECT_EQ(*refreshed->settings, *mine->Current());
}

TEST_F(WorkspaceSettingsStoreTest, StaleExpectedVersionIsAborted) {
  std::unique_ptr<WorkspaceSettingsStore> mine = OpenSettings();
  std::unique_ptr<WorkspaceSettingsStore> theirs = OpenSettings();
  ASSERT_THAT(theirs->Execute(SetPipeline({"Open", "Won"}), {}), IsOk());
  const MutationOptions on_defaults{.expected_version =
                                        eventstore::kNoStreamVersion};
  // This store had not seen the change either: the append finds it.
  EXPECT_THAT(mine->Execute(SetLostReasons({"Price"}), {}, on_defaults),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("etag: the workspace settings changed")));
  // Now it has, and refuses before deciding.
  EXPECT_THAT(mine->Execute(SetLostReasons({"Price"}), {}, on_defaults),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("etag: the workspace settings are at etag 1, "
                                 "not 0")));
  EXPECT_EQ(log_->HeadPosition(), 1u);
  // The caller who read the other writer's change may build on it, though
  // this store had not seen it.
  auto updated =
      mine->Execute(SetLostReasons({"Price"}), {}, {.expected_version = 0});
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->version, 1);
  EXPECT_THAT(updated->settings->pipeline_stages, ElementsAre("Open", "Won"));
}

TEST_F(WorkspaceSettingsStoreTest, RequestIdRetryReturnsTheFirstResult) {
  std::unique_ptr<WorkspaceSettingsStore> settings = OpenSettings();
  const MutationOptions once{.request_id = "r-7", .fingerprint = "reasons"};
  auto first = settings->Execute(SetLostReasons({"Price"}), {}, once);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(settings->Execute(SetPipeline({"Open", "Won"}), {}), IsOk());

  auto retried = settings->Execute(SetLostReasons({"Price"}), {}, once);
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->version, first->version);
  EXPECT_EQ(retried->log_position, first->log_position);
  // As the first answer showed them, before the pipeline changed.
  EXPECT_EQ(*retried->settings, *first->settings);
  EXPECT_EQ(log_->HeadPosition(), 2u);

  EXPECT_THAT(settings->Execute(SetLostReasons({"Timing"}), {},
                                {.request_id = "r-7", .fingerprint = "other"}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("r-7")));
  EXPECT_EQ(log_->HeadPosition(), 2u);
}

TEST_F(WorkspaceSettingsStoreTest, UnknownStoredEventFailsTheLoad) {
  eventstore::AppendRequest request;
  request.writes.push_back(
      {.stream = kWorkspaceStream,
       .events = {{.event_id = "x", .type = "CurrencyChanged"}}});
  ASSERT_THAT(log_->Append(std::move(request)), IsOk());
  EXPECT_THAT(WorkspaceSettingsStore::Open(log_.get(), &ids_, defaults_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CurrencyChanged")));
}

}  // namespace
}  // namespace leadledger::services
