// The server's two lead caches through a real in-process server: their sizes
// come from ServerOptions (leadledgerd's --row_cache_mb and
// --decoded_lead_cache_mb), GetProjectionStatus reports what they did, and a
// server with both off serves the same pages.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/v1/admin_service.grpc.pb.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/loopback_channel.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kLeads = 20;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return context;
}

class CacheSizingTest : public ::testing::Test {
 protected:
  void Start(size_t row_cache_bytes, size_t decoded_lead_cache_bytes) {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    options.ids = &ids_;
    options.row_cache_bytes = row_cache_bytes;
    options.decoded_lead_cache_bytes = decoded_lead_cache_bytes;
    auto server = LeadLedgerServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    auto channel = testing::LoopbackChannel(server_->port());
    leads_ = v1::LeadService::NewStub(channel);
    admin_ = v1::AdminService::NewStub(channel);
  }

  // Creates kLeads leads; returns their names.
  std::vector<std::string> CreateLeads() {
    std::vector<std::string> names;
    for (uint64_t i = 0; i < kLeads; ++i) {
      v1::CreateLeadRequest request;
      request.mutable_lead()->set_display_name(absl::StrCat("Lead ", i));
      request.mutable_lead()->set_owner_id("ana");
      v1::CreateLeadResponse response;
      grpc::Status status =
          leads_->CreateLead(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      head_ = std::max(head_, response.log_position());
      names.push_back(response.lead().name());
    }
    return names;
  }

  void Rename(const std::string& name, const std::string& display_name) {
    v1::UpdateLeadRequest request;
    request.mutable_lead()->set_name(name);
    request.mutable_lead()->set_display_name(display_name);
    request.mutable_update_mask()->add_paths("display_name");
    v1::UpdateLeadResponse response;
    grpc::Status status =
        leads_->UpdateLead(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    head_ = std::max(head_, response.log_position());
  }

  // "name=display name" of every lead, in one page read after the last
  // write.
  std::vector<std::string> Page() {
    v1::ListLeadsRequest request;
    request.set_page_size(static_cast<int>(kLeads));
    request.set_min_position(head_);
    v1::ListLeadsResponse response;
    grpc::Status status =
        leads_->ListLeads(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> page;
    for (const v1::Lead& lead : response.leads()) {
      page.push_back(absl::StrCat(lead.name(), "=", lead.display_name()));
    }
    return page;
  }

  v1::GetProjectionStatusResponse Status() {
    v1::GetProjectionStatusResponse response;
    grpc::Status status = admin_->GetProjectionStatus(
        Context().get(), v1::GetProjectionStatusRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // The status of read model `name`.
  v1::ProjectionStatus StatusOf(const std::string& name) {
    const v1::GetProjectionStatusResponse status = Status();
    for (const v1::ProjectionStatus& projection : status.projections()) {
      if (projection.name() == name) return projection;
    }
    ADD_FAILURE() << "no status for " << name;
    return {};
  }

  testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  SequentialIdGenerator ids_{"id"};
  std::unique_ptr<LeadLedgerServer> server_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  uint64_t head_ = 0;
};

TEST_F(CacheSizingTest, StatusReportsWhatEachCacheDidAndItsSize) {
  Start(/*row_cache_bytes=*/3 << 20, /*decoded_lead_cache_bytes=*/5 << 20);
  const std::vector<std::string> names = CreateLeads();
  ASSERT_EQ(Page().size(), kLeads);

  v1::GetProjectionStatusResponse status = Status();
  ASSERT_TRUE(status.has_decoded_lead_cache());
  EXPECT_EQ(status.decoded_lead_cache().capacity_bytes(), 5u << 20);
  EXPECT_EQ(status.decoded_lead_cache().hits(), 0u);
  EXPECT_EQ(status.decoded_lead_cache().misses(), kLeads);
  EXPECT_EQ(status.decoded_lead_cache().entries(), kLeads);
  EXPECT_GT(status.decoded_lead_cache().bytes(), 0u);
  const v1::ProjectionStatus leads = StatusOf("leads");
  ASSERT_TRUE(leads.has_row_cache());
  EXPECT_EQ(leads.row_cache().capacity_bytes(), 3u << 20);
  EXPECT_GT(leads.row_cache().entries(), 0u);
  EXPECT_GT(leads.row_cache().bytes(), 0u);
  // The agenda keeps its task rows in a cache of its own, of the same size;
  // the duplicate index, whose queries only scan, keeps none.
  const v1::ProjectionStatus agenda = StatusOf("agenda");
  ASSERT_TRUE(agenda.has_row_cache());
  EXPECT_EQ(agenda.row_cache().capacity_bytes(), 3u << 20);
  EXPECT_FALSE(StatusOf("duplicates").has_row_cache());

  // The same page again decodes nothing; after one lead changed, only that
  // one.
  ASSERT_EQ(Page().size(), kLeads);
  Rename(names[3], "Renamed");
  ASSERT_EQ(Page().size(), kLeads);
  status = Status();
  EXPECT_EQ(status.decoded_lead_cache().hits(), 2 * kLeads - 1);
  EXPECT_EQ(status.decoded_lead_cache().misses(), kLeads + 1);
  const v1::ProjectionStatus after = StatusOf("leads");
  EXPECT_GT(after.row_cache().hits() + after.row_cache().misses(),
            leads.row_cache().hits() + leads.row_cache().misses());
}

TEST_F(CacheSizingTest, WithBothCachesOffPagesAreTheSame) {
  Start(/*row_cache_bytes=*/0, /*decoded_lead_cache_bytes=*/0);
  const std::vector<std::string> names = CreateLeads();
  const std::vector<std::string> first = Page();
  ASSERT_EQ(first.size(), kLeads);
  EXPECT_EQ(Page(), first);
  Rename(names[3], "Renamed");
  std::vector<std::string> renamed = first;
  for (std::string& entry : renamed) {
    if (entry.starts_with(names[3] + "=")) entry = names[3] + "=Renamed";
  }
  EXPECT_EQ(Page(), renamed);

  const v1::GetProjectionStatusResponse status = Status();
  EXPECT_FALSE(status.has_decoded_lead_cache());
  for (const v1::ProjectionStatus& projection : status.projections()) {
    EXPECT_FALSE(projection.has_row_cache()) << projection.name();
  }
}

TEST(CacheSizingOptionsTest, CachesLargerThanTheBoundAreRefused) {
  testing::TempDir dir;
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.data_dir = dir.Sub("data");
  options.row_cache_bytes = kMaxCacheBytes + 1;
  EXPECT_THAT(LeadLedgerServer::Start(options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("row_cache_bytes")));
  options.row_cache_bytes = kMaxCacheBytes;
  options.decoded_lead_cache_bytes = kMaxCacheBytes + 1;
  EXPECT_THAT(LeadLedgerServer::Start(options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("decoded_lead_cache_bytes")));
}

}  // namespace
}  // namespace leadledger::services
