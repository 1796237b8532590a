// The mutation RPCs of LeadService through a real in-process server on an
// ephemeral port over a real RocksDB: classification, lost / restore / won,
// probability override, masked updates with etags, and request_id retries.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "gmock/gmock.h"
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
using ::testing::IsEmpty;

class LeadMutationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    options.ids = &ids_;
    auto server = LeadLedgerServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    stub_ = v1::LeadService::NewStub(testing::LoopbackChannel(server_->port()));
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return context;
  }

  // Creates a lead and returns it.
  v1::Lead NewLead(const std::string& name = "Solar roof") {
    v1::CreateLeadRequest request;
    request.mutable_lead()->set_display_name(name);
    v1::CreateLeadResponse response;
    grpc::Status status =
        stub_->CreateLead(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.lead();
  }

  v1::Lead Get(const std::string& name) {
    v1::GetLeadRequest request;
    request.set_name(name);
    v1::GetLeadResponse response;
    EXPECT_TRUE(stub_->GetLead(Context().get(), request, &response).ok());
    return response.lead();
  }

  grpc::Status Classify(const std::string& name, const std::string& outcome,
                        v1::ClassifyLeadResponse* response,
                        const std::string& etag = "",
                        const std::string& request_id = "") {
    v1::ClassifyLeadRequest request;
    request.set_name(name);
    request.set_classification(outcome);
    request.set_etag(etag);
    request.set_request_id(request_id);
    return stub_->ClassifyLead(Context().get(), request, response);
  }

  leadledger::testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  SequentialIdGenerator ids_{"id"};
  std::unique_ptr<LeadLedgerServer> server_;
  std::unique_ptr<v1::LeadService::Stub> stub_;
};

TEST_F(LeadMutationsTest, ClassifyAttachesTheTagAndClearRemovesIt) {
  v1::Lead lead = NewLead();
  v1::ClassifyLeadResponse classified;
  ASSERT_TRUE(Classify(lead.name(), "HOT_PROSPECT", &classified).ok());
  EXPECT_EQ(classified.lead().classification(), "HOT_PROSPECT");
  EXPECT_THAT(classified.lead().tags(), ElementsAre("Hot prospect"));
  EXPECT_EQ(classified.lead().etag(), "1");
  EXPECT_GT(classified.log_position(), 1u);

  v1::ClearClassificationRequest clear;
  clear.set_name(lead.name());
  v1::ClearClassificationResponse cleared;
  ASSERT_TRUE(
      stub_->ClearClassification(Context().get(), clear, &cleared).ok());
  EXPECT_EQ(cleared.lead().classification(), "");
  EXPECT_THAT(cleared.lead().tags(), IsEmpty());
}

TEST_F(LeadMutationsTest, ClassifyErrorsNameTheirCause) {
  v1::Lead lead = NewLead();
  v1::ClassifyLeadResponse response;
  grpc::Status unknown = Classify(lead.name(), "MAYBE", &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(unknown.error_message(), HasSubstr("classification"));
  grpc::Status missing = Classify("leads/nobody", "HOT_PROSPECT", &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::Status stale = Classify(lead.name(), "HOT_PROSPECT", &response, "7");
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(stale.error_message(), HasSubstr("etag"));
  grpc::Status garbled = Classify(lead.name(), "HOT_PROSPECT", &response, "x");
  EXPECT_EQ(garbled.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(garbled.error_message(), HasSubstr("etag"));
}

TEST_F(LeadMutationsTest, LostRestoreAndWon) {
  v1::Lead lead = NewLead();
  v1::MarkLeadLostRequest lose;
  lose.set_name(lead.name());
  lose.set_lost_reason("Too expensive");
  lose.set_feedback("Budget cut");
  v1::MarkLeadLostResponse lost;
  ASSERT_TRUE(stub_->MarkLeadLost(Context().get(), lose, &lost).ok());
  EXPECT_EQ(lost.lead().status(), v1::LEAD_STATUS_LOST);
  EXPECT_EQ(lost.lead().lost_reason(), "Too expensive");
  EXPECT_EQ(lost.lead().probability(), 0);
  EXPECT_TRUE(lost.lead().has_close_time());

  lose.set_lost_reason("Bad vibes");
  grpc::Status bad_reason = stub_->MarkLeadLost(Context().get(), lose, &lost);
  // Lost already: a no-op, whatever the reason now says.
  EXPECT_TRUE(bad_reason.ok());

  v1::RestoreLeadRequest restore;
  restore.set_name(lead.name());
  v1::RestoreLeadResponse restored;
  ASSERT_TRUE(stub_->RestoreLead(Context().get(), restore, &restored).ok());
  EXPECT_EQ(restored.lead().status(), v1::LEAD_STATUS_ACTIVE);
  EXPECT_EQ(restored.lead().lost_reason(), "");

  v1::MarkLeadWonRequest win;
  win.set_name(lead.name());
  v1::MarkLeadWonResponse won;
  grpc::Status not_opportunity = stub_->MarkLeadWon(Context().get(), win, &won);
  EXPECT_EQ(not_opportunity.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(not_opportunity.error_message(), HasSubstr("convert"));
}

TEST_F(LeadMutationsTest, UnknownLostReasonIsInvalidArgument) {
  v1::Lead lead = NewLead();
  v1::MarkLeadLostRequest lose;
  lose.set_name(lead.name());
  lose.set_lost_reason("Bad vibes");
  v1::MarkLeadLostResponse lost;
  grpc::Status status = stub_->MarkLeadLost(Context().get(), lose, &lost);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("lost_reason"));
}

TEST_F(LeadMutationsTest, ProbabilityOverrideWinsUntilCleared) {
  v1::Lead lead = NewLead();
  v1::SetProbabilityOverrideRequest set;
  set.set_name(lead.name());
  set.set_probability(72.5);
  v1::SetProbabilityOverrideResponse overridden;
  ASSERT_TRUE(
      stub_->SetProbabilityOverride(Context().get(), set, &overridden).ok());
  EXPECT_EQ(overridden.lead().probability(), 72.5);
  EXPECT_TRUE(overridden.lead().has_probability_override());

  set.set_probability(120);
  grpc::Status out_of_range =
      stub_->SetProbabilityOverride(Context().get(), set, &overridden);
  EXPECT_EQ(out_of_range.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(out_of_range.error_message(), HasSubstr("probability"));

  v1::ClearProbabilityOverrideRequest clear;
  clear.set_name(lead.name());
  v1::ClearProbabilityOverrideResponse cleared;
  ASSERT_TRUE(
      stub_->ClearProbabilityOverride(Context().get(), clear, &cleared).ok());
  EXPECT_FALSE(cleared.lead().has_probability_override());
  EXPECT_EQ(cleared.lead().probability(), 0);
}

TEST_F(LeadMutationsTest, UpdateChangesMaskedFieldsAndChecksTheEtag) {
  v1::Lead lead = NewLead();
  v1::UpdateLeadRequest update;
  *update.mutable_lead() = lead;
  update.mutable_lead()->set_contact_name("Ana Ruiz");
  update.mutable_lead()->set_phone("600 123 456");
  update.mutable_lead()->mutable_address()->set_country_code("ES");
  update.mutable_lead()->set_job_title("not in the mask");
  for (const char* path : {"contact_name", "phone", "address"}) {
    update.mutable_update_mask()->add_paths(path);
  }
  v1::UpdateLeadResponse updated;
  grpc::Status status = stub_->UpdateLead(Context().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.lead().contact_name(), "Ana Ruiz");
  EXPECT_EQ(updated.lead().phone_e164(), "+34600123456");
  EXPECT_EQ(updated.lead().job_title(), "");
  EXPECT_EQ(updated.lead().etag(), "1");

  // The same request with the old etag lost the race.
  grpc::Status stale = stub_->UpdateLead(Context().get(), update, &updated);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);

  update.mutable_lead()->set_etag("1");
  update.mutable_update_mask()->add_paths("etag");
  grpc::Status output_only =
      stub_->UpdateLead(Context().get(), update, &updated);
  EXPECT_EQ(output_only.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(output_only.error_message(), HasSubstr("update_mask"));

  v1::UpdateLeadRequest blank_name;
  *blank_name.mutable_lead() = lead;
  blank_name.mutable_lead()->set_etag("");
  blank_name.mutable_lead()->set_display_name(" ");
  blank_name.mutable_update_mask()->add_paths("display_name");
  grpc::Status invalid =
      stub_->UpdateLead(Context().get(), blank_name, &updated);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(invalid.error_message(), HasSubstr("lead.display_name"));
}

TEST_F(LeadMutationsTest, ConcurrentUpdatesOfOneLeadLoseNothing) {
  v1::Lead lead = NewLead();
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"contact_name", "Ana"}, {"company_name", "Ruiz SL"},
      {"job_title", "CEO"},    {"website", "https://ruiz.es"},
      {"source", "referral"},  {"language", "es_ES"},
      {"owner_id", "u1"},      {"team_id", "t1"}};
  std::vector<std::thread> clients;
  for (const auto& [path, value] : fields) {
    clients.emplace_back([&, path = path, value = value] {
      v1::UpdateLeadRequest update;
      update.mutable_lead()->set_name(lead.name());
      auto* target = update.mutable_lead();
      const auto* field = target->GetDescriptor()->FindFieldByName(path);
      target->GetReflection()->SetString(target, field, value);
      update.mutable_update_mask()->add_paths(path);
      v1::UpdateLeadResponse response;
      grpc::Status status =
          stub_->UpdateLead(Context().get(), update, &response);
      EXPECT_TRUE(status.ok()) << path << ": " << status.error_message();
    });
  }
  for (auto& client : clients) client.join();
  v1::Lead final_lead = Get(lead.name());
  EXPECT_EQ(final_lead.contact_name(), "Ana");
  EXPECT_EQ(final_lead.company_name(), "Ruiz SL");
  EXPECT_EQ(final_lead.job_title(), "CEO");
  EXPECT_EQ(final_lead.website(), "https://ruiz.es");
  EXPECT_EQ(final_lead.source(), "referral");
  EXPECT_EQ(final_lead.language(), "es_ES");
  EXPECT_EQ(final_lead.owner_id(), "u1");
  EXPECT_EQ(final_lead.team_id(), "t1");
  EXPECT_EQ(final_lead.etag(), absl::StrCat(fields.size()));
}

TEST_F(LeadMutationsTest, CreateRetryWithTheSameRequestIdReturnsTheFirstLead) {
  v1::CreateLeadRequest request;
  request.mutable_lead()->set_display_name("Retried");
  request.set_request_id("7f7a1c2e-0d7e-4a39-9f7e-8d0f5f7d2c11");
  v1::CreateLeadResponse first;
  ASSERT_TRUE(stub_->CreateLead(Context().get(), request, &first).ok());
  clock_.Advance(absl::Minutes(1));
  v1::CreateLeadResponse retry;
  ASSERT_TRUE(stub_->CreateLead(Context().get(), request, &retry).ok());
  EXPECT_EQ(retry.lead().SerializeAsString(), first.lead().SerializeAsString());
  EXPECT_EQ(retry.log_position(), first.log_position());

  request.mutable_lead()->set_display_name("Something else");
  v1::CreateLeadResponse reused;
  grpc::Status status = stub_->CreateLead(Context().get(), request, &reused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));

  request.set_request_id("has space");
  status = stub_->CreateLead(Context().get(), request, &reused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));
}

TEST_F(LeadMutationsTest, MutationRetryReturnsTheFirstResponse) {
  v1::Lead lead = NewLead();
  v1::ClassifyLeadResponse first;
  ASSERT_TRUE(
      Classify(lead.name(), "HOT_PROSPECT", &first, "", "req-classify").ok());
  // The lead moves on; the retry still answers as the first call did.
  v1::ClassifyLeadResponse other;
  ASSERT_TRUE(Classify(lead.name(), "ON_THE_FENCE", &other).ok());
  v1::ClassifyLeadResponse retry;
  ASSERT_TRUE(
      Classify(lead.name(), "HOT_PROSPECT", &retry, "", "req-classify").ok());
  EXPECT_EQ(retry.lead().classification(), "HOT_PROSPECT");
  EXPECT_EQ(retry.lead().etag(), first.lead().etag());
  EXPECT_EQ(retry.log_position(), first.log_position());
  EXPECT_EQ(Get(lead.name()).classification(), "ON_THE_FENCE");
}

TEST_F(LeadMutationsTest, MergeKeepsOneLeadAndPointsTheOthersAtIt) {
  v1::Lead oldest = NewLead("Roof, first call");
  clock_.Advance(absl::Minutes(1));
  v1::Lead newer = NewLead("Roof, web form");
  v1::UpdateLeadRequest update;
  update.mutable_lead()->set_name(newer.name());
  update.mutable_lead()->set_email("ana@ruiz.es");
  update.mutable_update_mask()->add_paths("email");
  v1::UpdateLeadResponse updated;
  ASSERT_TRUE(stub_->UpdateLead(Context().get(), update, &updated).ok());

  v1::MergeLeadsRequest merge;
  merge.add_names(newer.name());
  merge.add_names(oldest.name());
  merge.set_owner_id("u9");
  merge.set_request_id("merge-1");
  v1::MergeLeadsResponse merged;
  grpc::Status status = stub_->MergeLeads(Context().get(), merge, &merged);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Both are leads, both active, no stage or probability: the oldest wins.
  EXPECT_EQ(merged.lead().name(), oldest.name());
  EXPECT_EQ(merged.lead().display_name(), "Roof, first call");
  EXPECT_EQ(merged.lead().email(), "ana@ruiz.es");
  EXPECT_EQ(merged.lead().owner_id(), "u9");
  EXPECT_THAT(merged.merged_leads(), ElementsAre(newer.name()));

  v1::Lead away = Get(newer.name());
  EXPECT_EQ(away.status(), v1::LEAD_STATUS_MERGED);
  EXPECT_EQ(away.merged_into(), oldest.name());
  v1::ClassifyLeadResponse classified;
  grpc::Status on_merged = Classify(newer.name(), "HOT_PROSPECT", &classified);
  EXPECT_EQ(on_merged.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(on_merged.error_message(), HasSubstr(oldest.name().substr(6)));

  // A retry answers as the first call; merging again is refused.
  v1::MergeLeadsResponse retried;
  ASSERT_TRUE(stub_->MergeLeads(Context().get(), merge, &retried).ok());
  EXPECT_EQ(retried.lead().name(), oldest.name());
  EXPECT_EQ(retried.log_position(), merged.log_position());
  merge.clear_request_id();
  grpc::Status again = stub_->MergeLeads(Context().get(), merge, &retried);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(LeadMutationsTest, MergeRefusesBadInput) {
  v1::Lead lead = NewLead();
  v1::MergeLeadsResponse response;
  v1::MergeLeadsRequest alone;
  alone.add_names(lead.name());
  grpc::Status status = stub_->MergeLeads(Context().get(), alone, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("names"));

  v1::MergeLeadsRequest twice = alone;
  twice.add_names(lead.name());
  status = stub_->MergeLeads(Context().get(), twice, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("itself"));

  v1::MergeLeadsRequest unknown = alone;
  unknown.add_names("leads/ghost");
  status = stub_->MergeLeads(Context().get(), unknown, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("ghost"));

  v1::MergeLeadsRequest malformed = alone;
  malformed.add_names("tasks/1");
  status = stub_->MergeLeads(Context().get(), malformed, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("names[1]"));
}

}  // namespace
}  // namespace leadledger::services
