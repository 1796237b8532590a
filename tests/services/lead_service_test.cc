// LeadService through a real in-process gRPC server on an ephemeral loopback
// port, over a real RocksDB in a temporary directory.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/loopback_channel.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::leadledger::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

class LeadServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    options.ids = &ids_;
    auto server = LeadLedgerServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    channel_ = testing::LoopbackChannel(server_->port());
    stub_ = v1::LeadService::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return context;
  }

  grpc::Status Create(const v1::Lead& lead, v1::CreateLeadResponse* response,
                      grpc::ClientContext* context = nullptr) {
    v1::CreateLeadRequest request;
    *request.mutable_lead() = lead;
    auto own = Context();
    return stub_->CreateLead(context ? context : own.get(), request, response);
  }

  grpc::Status Get(const std::string& name, v1::GetLeadResponse* response) {
    v1::GetLeadRequest request;
    request.set_name(name);
    return stub_->GetLead(Context().get(), request, response);
  }

  leadledger::testing::TempDir dir_;
  FakeClock clock_{kStart};
  SequentialIdGenerator ids_{"id"};
  std::unique_ptr<LeadLedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LeadService::Stub> stub_;
};

TEST_F(LeadServiceTest, CreatedLeadReadsBack) {
  v1::Lead lead;
  lead.set_display_name(" Solar roof ");
  lead.set_email("Ana@Example.COM");
  lead.add_tags("solar");
  lead.add_tags("solar");
  lead.set_priority(2);
  lead.set_etag("ignored: output only");
  v1::CreateLeadResponse created;
  ASSERT_TRUE(Create(lead, &created).ok());

  EXPECT_EQ(created.lead().name(), "leads/id-1");
  EXPECT_EQ(created.lead().kind(), v1::LEAD_KIND_LEAD);
  EXPECT_EQ(created.lead().status(), v1::LEAD_STATUS_ACTIVE);
  EXPECT_EQ(created.lead().display_name(), "Solar roof");
  EXPECT_EQ(created.lead().email_normalized(), "ana@example.com");
  EXPECT_EQ(created.lead().email_state(), v1::CONTACT_STATE_CORRECT);
  EXPECT_THAT(created.lead().tags(), ElementsAre("solar"));
  EXPECT_EQ(created.lead().etag(), "0");
  EXPECT_EQ(created.log_position(), 1u);
  EXPECT_EQ(google::protobuf::util::TimeUtil::TimestampToSeconds(
                created.lead().create_time()),
            absl::ToUnixSeconds(kStart));

  v1::GetLeadResponse got;
  ASSERT_TRUE(Get("leads/id-1", &got).ok());
  EXPECT_EQ(got.lead().SerializeAsString(), created.lead().SerializeAsString());
}

TEST_F(LeadServiceTest, EmptyDisplayNameIsInvalidArgumentNamingTheField) {
  v1::Lead lead;
  lead.set_display_name("   ");
  v1::CreateLeadResponse response;
  grpc::Status status = Create(lead, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("lead.display_name"));
}

TEST_F(LeadServiceTest, InvalidArgumentCarriesABadRequestNamingTheField) {
  v1::Lead lead;
  lead.set_display_name("x");
  lead.set_priority(9);
  v1::CreateLeadResponse response;
  grpc::Status status = Create(lead, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(status.error_details()));
  EXPECT_EQ(rich.code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(rich.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(rich.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "lead.priority");
  EXPECT_THAT(bad_request.field_violations(0).description(),
              HasSubstr("0 to 3"));
}

TEST_F(LeadServiceTest, MissingLeadIsInvalidArgument) {
  v1::CreateLeadResponse response;
  grpc::Status status =
      stub_->CreateLead(Context().get(), v1::CreateLeadRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("lead"));
}

TEST_F(LeadServiceTest, OutOfRangePriorityIsInvalidArgument) {
  v1::Lead lead;
  lead.set_display_name("x");
  lead.set_priority(7);
  v1::CreateLeadResponse response;
  grpc::Status status = Create(lead, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("lead.priority"));
}

TEST_F(LeadServiceTest, UnknownLeadIsNotFound) {
  v1::GetLeadResponse response;
  grpc::Status status = Get("leads/nobody", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("nobody"));
}

TEST_F(LeadServiceTest, MalformedNameIsInvalidArgument) {
  const std::vector<std::string> names = {"",
                                          "nobody",
                                          "leads/",
                                          "leads/UPPER",
                                          "tasks/x",
                                          "leads/a/b",
                                          "leads/" + std::string(65, 'a')};
  for (const std::string& name : names) {
    v1::GetLeadResponse response;
    grpc::Status status = Get(name, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(status.error_message(), HasSubstr("name")) << name;
  }
}

TEST_F(LeadServiceTest, CallerIdentityIsRecordedOnTheEvent) {
  v1::Lead lead;
  lead.set_display_name("x");
  auto context = Context();
  context->AddMetadata("x-actor", "billing-service");
  context->AddMetadata("x-correlation-id", "import-42");
  v1::CreateLeadResponse response;
  ASSERT_TRUE(Create(lead, &response, context.get()).ok());
  server_->Shutdown(absl::Seconds(1));

  auto store =
      eventstore::RocksDbEventStore::Open({.path = dir_.Sub("data/eventlog")});
  ASSERT_THAT(store, IsOk());
  auto events = (*store)->ReadAll({});
  ASSERT_THAT(events, IsOk());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].stream, "lead-id-1");
  EXPECT_EQ((*events)[0].type, "LeadCreated");
  EXPECT_EQ((*events)[0].metadata.actor, "billing-service");
  EXPECT_EQ((*events)[0].metadata.correlation_id, "import-42");
  EXPECT_EQ((*events)[0].recorded_time, kStart);
}

TEST_F(LeadServiceTest, OverlongMetadataIsInvalidArgument) {
  v1::Lead lead;
  lead.set_display_name("x");
  auto context = Context();
  context->AddMetadata("x-actor", std::string(300, 'a'));
  v1::CreateLeadResponse response;
  grpc::Status status = Create(lead, &response, context.get());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("x-actor"));
}

TEST_F(LeadServiceTest, LeadsSurviveARestartOnTheSameDataDir) {
  v1::Lead lead;
  lead.set_display_name("durable");
  v1::CreateLeadResponse created;
  ASSERT_TRUE(Create(lead, &created).ok());
  server_.reset();
  StartServer();

  v1::GetLeadResponse got;
  ASSERT_TRUE(Get(created.lead().name(), &got).ok());
  EXPECT_EQ(got.lead().display_name(), "durable");
}

TEST_F(LeadServiceTest, HealthIsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health
                  ->Check(Context().get(),
                          grpc::health::v1::HealthCheckRequest(), &response)
                  .ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(LeadServiceTest, ShutdownDoesNotWaitForIdleClientConnections) {
  // The client keeps its channel open and connected; shutdown must not wait
  // for it to hang up, only for calls in flight (there are none).
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health
                  ->Check(Context().get(),
                          grpc::health::v1::HealthCheckRequest(), &response)
                  .ok());
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Minutes(10));
  EXPECT_LT(absl::Now() - start, absl::Minutes(1));

  v1::GetLeadResponse got;
  EXPECT_EQ(Get("leads/x", &got).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(LeadLedgerServerTest, RefusesBadOptions) {
  EXPECT_THAT(LeadLedgerServer::Start(
                  {.listen_address = "127.0.0.1:0", .data_dir = ""}),
              leadledger::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("data_dir")));
  leadledger::testing::TempDir dir;
  EXPECT_THAT(LeadLedgerServer::Start(
                  {.listen_address = "not an address", .data_dir = dir.path()}),
              leadledger::testing::StatusIs(absl::StatusCode::kUnavailable,
                                            HasSubstr("listen")));
}

}  // namespace
}  // namespace leadledger::services
