// AdminService's read-model operations through a real in-process server:
// status of every read model and of the scheduler, and online rebuilds with
// streamed progress, cancellation and bad names.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/v1/admin_service.grpc.pb.h"
#include "leadledger/v1/task_service.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/lead_history.h"
#include "tests/testing/loopback_channel.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::leadledger::testing::IsOk;
using ::testing::Contains;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

class ProjectionAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    auto server = LeadLedgerServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    auto channel = testing::LoopbackChannel(server_->port());
    admin_ = v1::AdminService::NewStub(channel);
    tasks_ = v1::TaskService::NewStub(channel);
    // Histories written straight to the log, as if by many clients.
    testing::LeadHistory history(7, kStart);
    ASSERT_THAT(history.Append(server_->store(), 3000, 50).status(), IsOk());
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    return context;
  }

  std::vector<v1::ProjectionStatus> Status() {
    v1::GetProjectionStatusResponse response;
    grpc::Status status = admin_->GetProjectionStatus(
        Context().get(), v1::GetProjectionStatusRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.projections().begin(), response.projections().end()};
  }

  // The agenda of `owner`, every page, once the read models reflect the log.
  std::vector<std::string> Agenda(const std::string& owner) {
    std::vector<std::string> names;
    std::string token;
    do {
      v1::ListAgendaRequest request;
      request.set_owner_id(owner);
      request.set_page_size(1000);
      request.set_page_token(token);
      request.set_min_position(server_->store().HeadPosition());
      v1::ListAgendaResponse response;
      grpc::Status status =
          tasks_->ListAgenda(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& item : response.items()) {
        names.push_back(item.task().name());
      }
      token = response.next_page_token();
    } while (!token.empty());
    return names;
  }

  testing::TempDir dir_;
  FakeClock clock_{kStart};
  std::unique_ptr<LeadLedgerServer> server_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
};

TEST_F(ProjectionAdminTest, StatusShowsEveryReadModelAndTheScheduler) {
  Agenda("owner-1");  // waits until everything has folded the log
  std::set<std::string> names;
  for (const v1::ProjectionStatus& status : Status()) {
    names.insert(status.name());
    EXPECT_TRUE(status.error().empty()) << status.name();
    EXPECT_FALSE(status.keyspace().empty()) << status.name();
    EXPECT_EQ(status.checkpoint() + status.lag(), status.head_position());
  }
  EXPECT_THAT(names, Contains("agenda"));
  EXPECT_THAT(names, Contains("scheduler"));
}

TEST_F(ProjectionAdminTest, RebuildStreamsProgressAndServesTheSameRows) {
  const std::vector<std::string> before = Agenda("owner-3");
  ASSERT_FALSE(before.empty());
  std::string keyspace_before;
  for (const auto& status : Status()) {
    if (status.name() == "agenda") keyspace_before = status.keyspace();
  }

  v1::RebuildProjectionRequest request;
  request.add_names("agenda");
  auto context = Context();
  auto reader = admin_->RebuildProjection(context.get(), request);
  std::vector<v1::RebuildProgress> reports;
  v1::RebuildProjectionResponse response;
  while (reader->Read(&response)) reports.push_back(response.progress());
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(reports.empty());
  EXPECT_TRUE(reports.back().promoted());
  EXPECT_GE(reports.back().events_done(), reports.front().events_done());
  EXPECT_GT(reports.back().head_position(), 0u);

  for (const auto& projection : Status()) {
    if (projection.name() == "agenda") {
      EXPECT_NE(projection.keyspace(), keyspace_before);
    }
  }
  EXPECT_EQ(Agenda("owner-3"), before);
}

TEST_F(ProjectionAdminTest, ACancelledRebuildKeepsServingAndCanRunAgain) {
  const std::vector<std::string> before = Agenda("owner-2");
  v1::RebuildProjectionRequest request;
  request.add_names("agenda");
  {
    auto context = Context();
    auto reader = admin_->RebuildProjection(context.get(), request);
    v1::RebuildProjectionResponse response;
    reader->Read(&response);
    context->TryCancel();
    while (reader->Read(&response)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // Whether the switch came before the cancellation or not, the agenda
  // serves the same rows, and the next rebuild runs (resuming the shadow
  // when one was left).
  EXPECT_EQ(Agenda("owner-2"), before);
  // The cancelled rebuild stops at its next step, a moment after the call
  // ended: until then a new one is refused as a second rebuild.
  grpc::Status status;
  bool promoted = false;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto context = Context();
    auto reader = admin_->RebuildProjection(context.get(), request);
    v1::RebuildProjectionResponse response;
    while (reader->Read(&response)) promoted = response.progress().promoted();
    status = reader->Finish();
    if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(promoted);
  EXPECT_EQ(Agenda("owner-2"), before);
}

TEST_F(ProjectionAdminTest, UnknownOrUnrebuildableNamesAreRefused) {
  for (const char* name : {"nope", "scheduler"}) {
    v1::RebuildProjectionRequest request;
    request.add_names("agenda");
    request.add_names(name);
    auto context = Context();
    auto reader = admin_->RebuildProjection(context.get(), request);
    v1::RebuildProjectionResponse response;
    EXPECT_FALSE(reader->Read(&response));
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(status.error_message(), HasSubstr("names[1]"));
  }
}

}  // namespace
}  // namespace leadledger::services
