// AdminService through a real in-process gRPC server on an ephemeral loopback
// port, over a real RocksDB in a temporary directory: workspace settings that
// live in the event log and reach LeadService, backup and verify.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/v1/admin_service.grpc.pb.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "leadledger/v1/task_service.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/loopback_channel.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::leadledger::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The field a google.rpc.BadRequest in `status` names; empty if none.
std::string BadRequestField(const grpc::Status& status) {
  google::rpc::Status rich;
  google::rpc::BadRequest bad_request;
  if (!rich.ParseFromString(status.error_details()) ||
      rich.details_size() != 1 || !rich.details(0).UnpackTo(&bad_request) ||
      bad_request.field_violations_size() != 1) {
    return "";
  }
  return bad_request.field_violations(0).field();
}

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = data_dir();
    options.clock = &clock_;
    options.ids = &ids_;
    options.settings = defaults_;
    auto server = LeadLedgerServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    auto channel = testing::LoopbackChannel(server_->port());
    admin_ = v1::AdminService::NewStub(channel);
    leads_ = v1::LeadService::NewStub(channel);
    tasks_ = v1::TaskService::NewStub(channel);
  }

  std::string data_dir() const { return dir_.Sub("data"); }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return context;
  }

  v1::WorkspaceSettings Get() {
    v1::GetWorkspaceSettingsResponse response;
    grpc::Status status = admin_->GetWorkspaceSettings(
        Context().get(), v1::GetWorkspaceSettingsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.settings();
  }

  // Sets the settings named in `paths` to their values in `settings`.
  grpc::Status Update(const v1::WorkspaceSettings& settings,
                      const std::vector<std::string>& paths,
                      v1::UpdateWorkspaceSettingsResponse* response,
                      const std::string& request_id = "",
                      grpc::ClientContext* context = nullptr) {
    v1::UpdateWorkspaceSettingsRequest request;
    *request.mutable_settings() = settings;
    for (const std::string& path : paths) {
      request.mutable_update_mask()->add_paths(path);
    }
    request.set_request_id(request_id);
    auto own = Context();
    return admin_->UpdateWorkspaceSettings(context ? context : own.get(),
                                           request, response);
  }

  // Update() that must succeed; returns the settings after it.
  v1::WorkspaceSettings MustUpdate(const v1::WorkspaceSettings& settings,
                                   const std::vector<std::string>& paths) {
    v1::UpdateWorkspaceSettingsResponse response;
    grpc::Status status = Update(settings, paths, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.settings();
  }

  v1::VerifyResponse Verify() {
    v1::VerifyResponse response;
    grpc::Status status =
        admin_->Verify(Context().get(), v1::VerifyRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Backup(const std::string& backup_id,
                      v1::BackupResponse* response) {
    v1::BackupRequest request;
    request.set_backup_id(backup_id);
    return admin_->Backup(Context().get(), request, response);
  }

  v1::Lead CreateLead(const std::string& name) {
    v1::CreateLeadRequest request;
    request.mutable_lead()->set_display_name(name);
    v1::CreateLeadResponse response;
    grpc::Status status =
        leads_->CreateLead(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.lead();
  }

  grpc::Status Classify(const std::string& name, const std::string& outcome,
                        v1::ClassifyLeadResponse* response) {
    v1::ClassifyLeadRequest request;
    request.set_name(name);
    request.set_classification(outcome);
    return leads_->ClassifyLead(Context().get(), request, response);
  }

  leadledger::testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  SequentialIdGenerator ids_{"id"};
  domain::WorkspaceSettings defaults_;
  std::unique_ptr<LeadLedgerServer> server_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
};

TEST_F(AdminServiceTest, DefaultsApplyBeforeAnyChange) {
  v1::WorkspaceSettings settings = Get();
  EXPECT_EQ(settings.name(), "workspace/settings");
  EXPECT_EQ(settings.etag(), "0");
  EXPECT_TRUE(settings.leads_enabled());
  EXPECT_FALSE(settings.skip_weekends());
  EXPECT_EQ(settings.default_country(), "");
  EXPECT_THAT(settings.pipeline(),
              ElementsAre("New", "Qualified", "Proposition", "Won"));
  EXPECT_THAT(settings.lost_reasons(),
              ElementsAre("Too expensive", "Not interested anymore",
                          "Went with a competitor", "Unreachable"));
  ASSERT_EQ(settings.catalogue_size(), 6);
  const v1::ClassificationOutcome& hot = settings.catalogue(1);
  EXPECT_EQ(hot.id(), "HOT_PROSPECT");
  EXPECT_EQ(hot.label(), "Hot prospect");
  EXPECT_TRUE(hot.classifies());
  EXPECT_EQ(hot.tag(), "Hot prospect");
  EXPECT_EQ(hot.follow_up_days(), 14);
  EXPECT_EQ(hot.rank(), 1);
  const v1::ClassificationOutcome& not_interested = settings.catalogue(5);
  EXPECT_EQ(not_interested.id(), "NOT_INTERESTED");
  EXPECT_FALSE(not_interested.classifies());
  EXPECT_FALSE(not_interested.has_follow_up_days());
  EXPECT_THAT(settings.scoring().fields(), IsEmpty());
  EXPECT_FALSE(settings.scoring().has_start_date());
  EXPECT_EQ(Verify().events(), 0u);

  v1::GetWorkspaceSettingsRequest named;
  named.set_name("workspace/settings");
  v1::GetWorkspaceSettingsResponse response;
  EXPECT_TRUE(
      admin_->GetWorkspaceSettings(Context().get(), named, &response).ok());
  named.set_name("workspace/other");
  grpc::Status status =
      admin_->GetWorkspaceSettings(Context().get(), named, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "name");

  // A position the log has not reached waits, then gives up at the deadline.
  v1::GetWorkspaceSettingsRequest later;
  later.set_min_position(1'000'000);
  grpc::ClientContext short_call;
  short_call.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  status = admin_->GetWorkspaceSettings(&short_call, later, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(AdminServiceTest, EachSettingChangesAlone) {
  v1::WorkspaceSettings wanted;
  wanted.set_leads_enabled(false);
  wanted.add_lost_reasons("Price");
  wanted.add_pipeline("Open");
  wanted.add_pipeline("Won");
  wanted.mutable_scoring()->add_fields("country");
  wanted.mutable_scoring()->mutable_start_date()->set_seconds(1'700'000'000);
  wanted.set_skip_weekends(true);
  wanted.set_default_country(" es ");
  v1::ClassificationOutcome* outcome = wanted.add_catalogue();
  outcome->set_id("CALL_BACK");
  outcome->set_label("Call back");
  outcome->set_follow_up_days(0);

  v1::WorkspaceSettings settings = MustUpdate(wanted, {"leads_enabled"});
  EXPECT_FALSE(settings.leads_enabled());
  EXPECT_EQ(settings.etag(), "1");
  // The other settings keep their values.
  EXPECT_EQ(settings.catalogue_size(), 6);
  EXPECT_EQ(settings.pipeline_size(), 4);

  settings = MustUpdate(wanted, {"lost_reasons"});
  EXPECT_THAT(settings.lost_reasons(), ElementsAre("Price"));
  settings = MustUpdate(wanted, {"pipeline"});
  EXPECT_THAT(settings.pipeline(), ElementsAre("Open", "Won"));
  settings = MustUpdate(wanted, {"scoring"});
  EXPECT_THAT(settings.scoring().fields(), ElementsAre("country"));
  EXPECT_EQ(settings.scoring().start_date().seconds(), 1'700'000'000);
  settings = MustUpdate(wanted, {"skip_weekends"});
  EXPECT_TRUE(settings.skip_weekends());
  settings = MustUpdate(wanted, {"default_country"});
  EXPECT_EQ(settings.default_country(), "ES");
  settings = MustUpdate(wanted, {"catalogue"});
  ASSERT_EQ(settings.catalogue_size(), 1);
  EXPECT_EQ(settings.catalogue(0).id(), "CALL_BACK");
  EXPECT_TRUE(settings.catalogue(0).has_follow_up_days());
  EXPECT_EQ(settings.catalogue(0).follow_up_days(), 0);
  EXPECT_EQ(settings.etag(), "7");

  v1::WorkspaceSettings read = Get();
  wanted.set_name("workspace/settings");
  wanted.set_etag("7");
  wanted.set_default_country("ES");
  EXPECT_EQ(read.SerializeAsString(), wanted.SerializeAsString())
      << read.DebugString();
}

TEST_F(AdminServiceTest, SeveralSettingsChangeInOneUpdate) {
  v1::WorkspaceSettings wanted = Get();
  wanted.set_leads_enabled(false);
  wanted.set_skip_weekends(true);
  wanted.clear_pipeline();
  wanted.add_pipeline("Open");
  wanted.add_pipeline("Won");
  v1::UpdateWorkspaceSettingsResponse response;
  ASSERT_TRUE(
      Update(wanted,
             {"leads_enabled", "skip_weekends", "pipeline", "catalogue"},
             &response)
          .ok());
  // The unchanged catalogue writes no event.
  EXPECT_EQ(response.settings().etag(), "3");
  EXPECT_EQ(response.log_position(), 3u);
}

TEST_F(AdminServiceTest, LeadsDisabledMakesNewRecordsOpportunities) {
  EXPECT_EQ(CreateLead("Before").kind(), v1::LEAD_KIND_LEAD);
  v1::WorkspaceSettings settings;
  settings.set_leads_enabled(false);
  MustUpdate(settings, {"leads_enabled"});
  v1::Lead after = CreateLead("After");
  EXPECT_EQ(after.kind(), v1::LEAD_KIND_OPPORTUNITY);
  EXPECT_EQ(after.stage(), "New");
}

TEST_F(AdminServiceTest, NewOutcomeIsUsableByClassifyRightAway) {
  v1::Lead lead = CreateLead("Roof");
  v1::ClassifyLeadResponse classified;
  EXPECT_EQ(Classify(lead.name(), "VIP", &classified).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::WorkspaceSettings settings = Get();
  v1::ClassificationOutcome* vip = settings.add_catalogue();
  vip->set_id("VIP");
  vip->set_label("Very important");
  vip->set_classifies(true);
  vip->set_tag("VIP");
  vip->set_follow_up_days(1);
  vip->set_rank(0);
  MustUpdate(settings, {"catalogue"});

  grpc::Status status = Classify(lead.name(), "VIP", &classified);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(classified.lead().classification(), "VIP");
  EXPECT_THAT(classified.lead().tags(), ElementsAre("VIP"));
}

TEST_F(AdminServiceTest, ARetimedOutcomeReachesTheFollowUpScheduler) {
  v1::WorkspaceSettings settings = Get();
  ASSERT_EQ(settings.catalogue(1).id(), "HOT_PROSPECT");
  settings.mutable_catalogue(1)->set_follow_up_days(3);
  MustUpdate(settings, {"catalogue"});

  v1::CreateLeadRequest create;
  create.mutable_lead()->set_display_name("Roof");
  create.mutable_lead()->set_owner_id("ana");
  v1::CreateLeadResponse created;
  ASSERT_TRUE(leads_->CreateLead(Context().get(), create, &created).ok());
  v1::ClassifyLeadResponse classified;
  ASSERT_TRUE(
      Classify(created.lead().name(), "HOT_PROSPECT", &classified).ok());

  v1::ListAgendaRequest agenda;
  agenda.set_owner_id("ana");
  agenda.set_min_position(classified.log_position());
  v1::ListAgendaResponse listed;
  grpc::Status status = tasks_->ListAgenda(Context().get(), agenda, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(listed.items_size(), 1);
  // Three days out, not the default fourteen (the server's zone is UTC).
  const absl::CivilDay due =
      absl::ToCivilDay(clock_.Now(), absl::UTCTimeZone()) + 3;
  EXPECT_EQ(listed.items(0).task().due_time().seconds(),
            absl::ToUnixSeconds(absl::FromCivil(due, absl::UTCTimeZone())));
}

TEST_F(AdminServiceTest, SettingsSurviveARestartWithOtherDefaults) {
  v1::WorkspaceSettings settings;
  settings.set_leads_enabled(false);
  settings.add_pipeline("Open");
  settings.add_pipeline("Won");
  auto context = Context();
  context->AddMetadata("x-actor", "ops@example.com");
  context->AddMetadata("x-correlation-id", "change-42");
  v1::UpdateWorkspaceSettingsResponse response;
  grpc::Status status = Update(settings, {"leads_enabled", "pipeline"},
                               &response, "", context.get());
  ASSERT_TRUE(status.ok()) << status.error_message();

  server_.reset();
  {
    // Who changed the settings, and why, is on the events.
    auto log = eventstore::RocksDbEventStore::Open(
        {.path = dir_.Sub("data/eventlog")});
    ASSERT_THAT(log, IsOk());
    auto events = (*log)->ReadStream("workspace", {});
    ASSERT_THAT(events, IsOk());
    ASSERT_EQ(events->size(), 2u);
    for (const eventstore::RecordedEvent& event : *events) {
      EXPECT_EQ(event.metadata.actor, "ops@example.com");
      EXPECT_EQ(event.metadata.correlation_id, "change-42");
    }
  }
  defaults_.leads_enabled = true;
  defaults_.skip_weekends = true;
  StartServer();
  v1::WorkspaceSettings read = Get();
  EXPECT_FALSE(read.leads_enabled());
  EXPECT_THAT(read.pipeline(), ElementsAre("Open", "Won"));
  EXPECT_TRUE(read.skip_weekends());
  EXPECT_EQ(read.etag(), "2");
  EXPECT_EQ(CreateLead("After restart").kind(), v1::LEAD_KIND_OPPORTUNITY);
}

TEST_F(AdminServiceTest, StaleEtagIsAborted) {
  v1::WorkspaceSettings settings = Get();
  settings.set_skip_weekends(true);
  v1::UpdateWorkspaceSettingsResponse response;
  ASSERT_TRUE(Update(settings, {"skip_weekends"}, &response).ok());
  EXPECT_EQ(response.settings().etag(), "1");

  settings.set_skip_weekends(false);
  grpc::Status stale = Update(settings, {"skip_weekends"}, &response);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(stale.error_message(), HasSubstr("etag"));
  EXPECT_TRUE(Get().skip_weekends());

  settings.set_etag("1");
  ASSERT_TRUE(Update(settings, {"skip_weekends"}, &response).ok());
  EXPECT_FALSE(response.settings().skip_weekends());
  EXPECT_EQ(response.settings().etag(), "2");

  settings.set_etag("x");
  grpc::Status garbled = Update(settings, {"skip_weekends"}, &response);
  EXPECT_EQ(garbled.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(garbled), "settings.etag");
}

TEST_F(AdminServiceTest,
       RequestIdRetryReturnsTheFirstResponseAndWritesNothing) {
  v1::WorkspaceSettings settings;
  settings.add_lost_reasons("Price");
  v1::UpdateWorkspaceSettingsResponse first;
  ASSERT_TRUE(Update(settings, {"lost_reasons"}, &first, "req-1").ok());
  const uint64_t events = Verify().events();
  ASSERT_EQ(events, 1u);

  v1::UpdateWorkspaceSettingsResponse retried;
  grpc::Status status = Update(settings, {"lost_reasons"}, &retried, "req-1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(retried.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(Verify().events(), events);

  settings.set_lost_reasons(0, "Timing");
  v1::UpdateWorkspaceSettingsResponse reused;
  status = Update(settings, {"lost_reasons"}, &reused, "req-1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("req-1"));
  EXPECT_EQ(Verify().events(), events);
  EXPECT_THAT(Get().lost_reasons(), ElementsAre("Price"));

  status = Update(settings, {"lost_reasons"}, &reused, "has space");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "request_id");
}

TEST_F(AdminServiceTest, BadUpdateMaskIsInvalidArgument) {
  v1::WorkspaceSettings settings;
  v1::UpdateWorkspaceSettingsResponse response;
  grpc::Status unknown = Update(settings, {"currency"}, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(unknown), "update_mask");
  EXPECT_THAT(unknown.error_message(), HasSubstr("\"currency\""));

  grpc::Status empty = Update(settings, {}, &response);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(empty), "update_mask");

  v1::UpdateWorkspaceSettingsRequest request;
  request.mutable_update_mask()->add_paths("leads_enabled");
  grpc::Status missing =
      admin_->UpdateWorkspaceSettings(Context().get(), request, &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(missing), "settings");
  EXPECT_EQ(Verify().events(), 0u);
}

TEST_F(AdminServiceTest, InvalidValuesNameTheField) {
  struct Case {
    std::string path;
    v1::WorkspaceSettings settings;
    std::string field;
  };
  std::vector<Case> cases;
  {
    v1::WorkspaceSettings settings = Get();
    settings.mutable_catalogue(2)->clear_tag();
    cases.push_back({"catalogue", settings, "settings.catalogue[2].tag"});
  }
  {
    v1::WorkspaceSettings settings = Get();
    settings.mutable_catalogue(4)->set_follow_up_days(-1);
    cases.push_back(
        {"catalogue", settings, "settings.catalogue[4].follow_up_days"});
  }
  {
    v1::WorkspaceSettings settings;
    cases.push_back({"catalogue", settings, "settings.catalogue"});
  }
  {
    v1::WorkspaceSettings settings;
    settings.set_default_country("Spain");
    cases.push_back({"default_country", settings, "settings.default_country"});
  }
  {
    v1::WorkspaceSettings settings;
    settings.set_default_country("ZZ");
    cases.push_back({"default_country", settings, "settings.default_country"});
  }
  {
    v1::WorkspaceSettings settings;
    cases.push_back({"pipeline", settings, "settings.pipeline"});
  }
  {
    v1::WorkspaceSettings settings;
    settings.add_pipeline("New");
    settings.add_pipeline(" New ");
    cases.push_back({"pipeline", settings, "settings.pipeline[1]"});
  }
  {
    v1::WorkspaceSettings settings;
    settings.add_lost_reasons("");
    cases.push_back({"lost_reasons", settings, "settings.lost_reasons[0]"});
  }
  {
    v1::WorkspaceSettings settings;
    settings.mutable_scoring()->add_fields("shoe_size");
    cases.push_back({"scoring", settings, "settings.scoring.fields"});
  }
  {
    v1::WorkspaceSettings settings;
    settings.mutable_scoring()->mutable_start_date()->set_nanos(-5);
    cases.push_back({"scoring", settings, "settings.scoring.start_date"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::UpdateWorkspaceSettingsResponse response;
    grpc::Status status = Update(c.settings, {c.path}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(BadRequestField(status), c.field) << status.error_message();
  }
  EXPECT_EQ(Verify().events(), 0u);
  EXPECT_EQ(Get().etag(), "0");
}

TEST_F(AdminServiceTest, BackupOpensAsAStoreWithTheSameEvents) {
  CreateLead("Roof");
  v1::WorkspaceSettings settings;
  settings.set_skip_weekends(true);
  MustUpdate(settings, {"skip_weekends"});
  CreateLead("Garden");

  v1::BackupResponse backup;
  grpc::Status status = Backup("nightly-1", &backup);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(backup.path(), dir_.Sub("data/backups/nightly-1"));
  EXPECT_EQ(backup.head_position(), 3u);
  EXPECT_EQ(backup.event_count(), 3u);

  server_.reset();
  auto live =
      eventstore::RocksDbEventStore::Open({.path = dir_.Sub("data/eventlog")});
  ASSERT_THAT(live, IsOk());
  auto copy = eventstore::RocksDbEventStore::Open({.path = backup.path()});
  ASSERT_THAT(copy, IsOk());
  auto live_events = (*live)->ReadAll({});
  auto copy_events = (*copy)->ReadAll({});
  ASSERT_THAT(live_events, IsOk());
  ASSERT_THAT(copy_events, IsOk());
  ASSERT_EQ(copy_events->size(), 3u);
  ASSERT_EQ(live_events->size(), copy_events->size());
  for (size_t i = 0; i < live_events->size(); ++i) {
    const eventstore::RecordedEvent& a = (*live_events)[i];
    const eventstore::RecordedEvent& b = (*copy_events)[i];
    EXPECT_EQ(a.event_id, b.event_id);
    EXPECT_EQ(a.stream, b.stream);
    EXPECT_EQ(a.stream_version, b.stream_version);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.payload, b.payload);
  }
  EXPECT_EQ((*copy_events)[1].stream, "workspace");
}

TEST_F(AdminServiceTest, BackupRefusesBadAndExistingIds) {
  for (const std::string& bad :
       {std::string(), std::string("Nightly"), std::string("-x"),
        std::string("a/b"), std::string(".."), std::string("a b"),
        std::string(64, 'a')}) {
    SCOPED_TRACE(bad);
    v1::BackupResponse response;
    grpc::Status status = Backup(bad, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(BadRequestField(status), "backup_id");
  }
  // Refused before anything was written.
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("data/backups")));

  v1::BackupResponse response;
  ASSERT_TRUE(Backup(std::string(63, '7'), &response).ok());
  ASSERT_TRUE(Backup("b-1", &response).ok());
  EXPECT_EQ(response.event_count(), 0u);
  grpc::Status again = Backup("b-1", &response);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(again.error_message(), HasSubstr("b-1"));
}

TEST_F(AdminServiceTest, VerifyOfAHealthyLogReportsNoProblems) {
  CreateLead("Roof");
  CreateLead("Garden");
  v1::WorkspaceSettings settings;
  settings.set_default_country("PT");
  MustUpdate(settings, {"default_country"});
  v1::VerifyResponse report = Verify();
  EXPECT_EQ(report.events(), 3u);
  EXPECT_EQ(report.streams(), 3u);
  EXPECT_THAT(report.problems(), IsEmpty());
}

}  // namespace
}  // namespace leadledger::services
