// LeadService's read-model queries and batch mutations through a real
// in-process server on an ephemeral port over RocksDB: ListLeads (filters,
// pages, bad arguments), min_position, FindDuplicates, ConvertLead and
// BatchCreateLeads.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
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
using ::testing::SizeIs;

// The field a google.rpc.BadRequest in `status` names; "" when none.
std::string BadField(const grpc::Status& status) {
  google::rpc::Status rich;
  google::rpc::BadRequest bad_request;
  if (!rich.ParseFromString(status.error_details()) ||
      rich.details_size() != 1 || !rich.details(0).UnpackTo(&bad_request) ||
      bad_request.field_violations_size() != 1) {
    return "";
  }
  return bad_request.field_violations(0).field();
}

class LeadListServiceTest : public ::testing::Test {
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

  static std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration timeout = absl::Seconds(30)) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return context;
  }

  // Creates a lead; remembers its log position for later reads.
  v1::Lead Create(v1::Lead lead) {
    v1::CreateLeadRequest request;
    *request.mutable_lead() = std::move(lead);
    v1::CreateLeadResponse response;
    grpc::Status status =
        stub_->CreateLead(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    Saw(response.log_position());
    return response.lead();
  }

  v1::Lead Create(const std::string& display_name,
                  const std::string& owner = "") {
    v1::Lead lead;
    lead.set_display_name(display_name);
    lead.set_owner_id(owner);
    return Create(lead);
  }

  void Saw(uint64_t position) { head_ = std::max(head_, position); }

  // Every page of `request`, read after the last write this test made.
  std::vector<std::string> Names(v1::ListLeadsRequest request) {
    request.set_min_position(head_);
    std::vector<std::string> names;
    for (int pages = 0; pages < 100; ++pages) {
      v1::ListLeadsResponse response;
      grpc::Status status =
          stub_->ListLeads(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const v1::Lead& lead : response.leads()) {
        names.push_back(lead.name());
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return names;
  }

  grpc::Status List(const v1::ListLeadsRequest& request) {
    v1::ListLeadsResponse response;
    return stub_->ListLeads(Context().get(), request, &response);
  }

  grpc::Status Convert(v1::ConvertLeadRequest request,
                       v1::ConvertLeadResponse* response) {
    grpc::Status status =
        stub_->ConvertLead(Context().get(), request, response);
    if (status.ok()) Saw(response->log_position());
    return status;
  }

  grpc::Status Duplicates(const std::string& name,
                          v1::FindDuplicatesResponse* response) {
    v1::FindDuplicatesRequest request;
    request.set_name(name);
    request.set_min_position(head_);
    return stub_->FindDuplicates(Context().get(), request, response);
  }

  v1::Lead Get(const std::string& name) {
    v1::GetLeadRequest request;
    request.set_name(name);
    v1::GetLeadResponse response;
    EXPECT_TRUE(stub_->GetLead(Context().get(), request, &response).ok());
    return response.lead();
  }

  leadledger::testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  SequentialIdGenerator ids_{"id"};
  std::unique_ptr<LeadLedgerServer> server_;
  std::unique_ptr<v1::LeadService::Stub> stub_;
  uint64_t head_ = 0;
};

TEST_F(LeadListServiceTest, EachFilterAndOrderSelectsItsLeads) {
  v1::Lead roof = Create("Solar roof", "ana");
  v1::Lead pump;
  pump.set_display_name("Heat pump");
  pump.set_owner_id("bob");
  pump.set_team_id("north");
  pump.add_tags("vip");
  pump = Create(pump);
  v1::Lead school = Create("School roof", "ana");
  v1::Lead gone = Create("Garage door", "ana");

  v1::ClassifyLeadRequest classify;
  classify.set_name(pump.name());
  classify.set_classification("HOT_PROSPECT");
  v1::ClassifyLeadResponse classified;
  ASSERT_TRUE(stub_->ClassifyLead(Context().get(), classify, &classified).ok());
  Saw(classified.log_position());
  v1::MarkLeadLostRequest lose;
  lose.set_name(gone.name());
  v1::MarkLeadLostResponse lost;
  ASSERT_TRUE(stub_->MarkLeadLost(Context().get(), lose, &lost).ok());
  Saw(lost.log_position());
  v1::ConvertLeadRequest convert;
  convert.set_name(school.name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_NONE);
  v1::ConvertLeadResponse converted;
  ASSERT_TRUE(Convert(convert, &converted).ok());

  v1::ListLeadsRequest all;
  EXPECT_THAT(Names(all), ElementsAre(school.name(), roof.name(), pump.name()));
  v1::ListLeadsRequest request;
  request.set_kind(v1::LEAD_KIND_LEAD);
  EXPECT_THAT(Names(request), ElementsAre(roof.name(), pump.name()));
  request = {};
  request.set_status(v1::LEAD_STATUS_LOST);
  EXPECT_THAT(Names(request), ElementsAre(gone.name()));
  request = {};
  request.set_owner_id("ana");
  EXPECT_THAT(Names(request), ElementsAre(school.name(), roof.name()));
  request = {};
  request.set_team_id("north");
  EXPECT_THAT(Names(request), ElementsAre(pump.name()));
  request = {};
  request.set_classification("HOT_PROSPECT");
  EXPECT_THAT(Names(request), ElementsAre(pump.name()));
  request = {};
  request.set_tag("vip");
  EXPECT_THAT(Names(request), ElementsAre(pump.name()));
  request = {};
  request.set_stage("New");
  EXPECT_THAT(Names(request), ElementsAre(school.name()));
  request = {};
  request.set_text("ROO");
  EXPECT_THAT(Names(request), ElementsAre(school.name(), roof.name()));
  request = {};
  request.set_kind(v1::LEAD_KIND_LEAD);
  request.set_order_by("create_time  desc");
  EXPECT_THAT(Names(request), ElementsAre(pump.name(), roof.name()));
  request.set_order_by("update_time desc");
  EXPECT_THAT(Names(request), ElementsAre(pump.name(), roof.name()));
  request = {};
  request.set_page_size(1);
  EXPECT_THAT(Names(request),
              ElementsAre(school.name(), roof.name(), pump.name()));

  // The listed lead is the whole lead, with its etag (the scheduler's
  // follow-up of the classification included: min_position waits for it).
  request = {};
  request.set_tag("vip");
  request.set_min_position(classified.log_position());
  v1::ListLeadsResponse page;
  ASSERT_TRUE(stub_->ListLeads(Context().get(), request, &page).ok());
  ASSERT_THAT(page.leads(), SizeIs(1));
  v1::GetLeadRequest get;
  get.set_name(page.leads(0).name());
  v1::GetLeadResponse current;
  ASSERT_TRUE(stub_->GetLead(Context().get(), get, &current).ok());
  EXPECT_EQ(page.leads(0).etag(), current.lead().etag());
  EXPECT_EQ(page.leads(0).classification(), "HOT_PROSPECT");
  EXPECT_THAT(page.leads(0).tags(), ElementsAre("Hot prospect", "vip"));
}

TEST_F(LeadListServiceTest, BadListArgumentsNameTheirField) {
  Create("a");
  Create("b");
  v1::ListLeadsRequest request;
  request.set_page_size(-1);
  grpc::Status status = List(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(status), "page_size");
  request.set_page_size(1001);
  EXPECT_EQ(BadField(List(request)), "page_size");
  request.set_page_size(1000);
  EXPECT_TRUE(List(request).ok());

  request = {};
  request.set_page_token("garbage");
  status = List(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(status), "page_token");

  // A token of another query.
  request = {};
  request.set_page_size(1);
  request.set_min_position(head_);
  v1::ListLeadsResponse first;
  ASSERT_TRUE(stub_->ListLeads(Context().get(), request, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_page_token(first.next_page_token());
  request.set_owner_id("someone");
  EXPECT_EQ(BadField(List(request)), "page_token");

  request = {};
  request.set_order_by("display_name");
  status = List(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(status), "order_by");
  request.set_order_by("update_time");
  EXPECT_EQ(BadField(List(request)), "order_by");

  request = {};
  request.set_kind(static_cast<v1::LeadKind>(9));
  EXPECT_EQ(BadField(List(request)), "kind");
  request = {};
  request.set_text(std::string(300, 'x'));
  EXPECT_EQ(BadField(List(request)), "text");
}

TEST_F(LeadListServiceTest, MinPositionReadsYourWritesOrTimesOut) {
  for (int i = 0; i < 5; ++i) {
    v1::Lead lead = Create(absl::StrCat("Lead ", i));
    v1::ListLeadsRequest request;
    request.set_min_position(head_);
    request.set_order_by("create_time desc");
    request.set_page_size(1);
    v1::ListLeadsResponse response;
    ASSERT_TRUE(stub_->ListLeads(Context().get(), request, &response).ok());
    ASSERT_THAT(response.leads(), SizeIs(1));
    EXPECT_EQ(response.leads(0).name(), lead.name());
  }

  const uint64_t beyond = head_ + 1'000'000;
  v1::ListLeadsRequest list;
  list.set_min_position(beyond);
  v1::ListLeadsResponse listed;
  EXPECT_EQ(
      stub_->ListLeads(Context(absl::Milliseconds(200)).get(), list, &listed)
          .error_code(),
      grpc::StatusCode::DEADLINE_EXCEEDED);
  v1::GetLeadRequest get;
  get.set_name(Create("x").name());
  get.set_min_position(beyond);
  v1::GetLeadResponse got;
  EXPECT_EQ(stub_->GetLead(Context(absl::Milliseconds(200)).get(), get, &got)
                .error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  v1::FindDuplicatesRequest find;
  find.set_name(get.name());
  find.set_min_position(beyond);
  v1::FindDuplicatesResponse found;
  EXPECT_EQ(
      stub_
          ->FindDuplicates(Context(absl::Milliseconds(200)).get(), find, &found)
          .error_code(),
      grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server still answers at once without a position to wait for.
  get.set_min_position(head_);
  EXPECT_TRUE(stub_->GetLead(Context().get(), get, &got).ok());
}

TEST_F(LeadListServiceTest, GetLeadShowsAMergedAwayLeadAndWhereItWent) {
  v1::Lead head = Create("Solar roof");
  v1::Lead gone = Create("Solar roof again");
  v1::MergeLeadsRequest merge;
  merge.add_names(head.name());
  merge.add_names(gone.name());
  v1::MergeLeadsResponse merged;
  ASSERT_TRUE(stub_->MergeLeads(Context().get(), merge, &merged).ok());
  Saw(merged.log_position());
  v1::Lead read = Get(gone.name());
  EXPECT_EQ(read.status(), v1::LEAD_STATUS_MERGED);
  EXPECT_EQ(read.merged_into(), head.name());
  EXPECT_EQ(read.display_name(), "Solar roof again");

  v1::FindDuplicatesResponse duplicates;
  grpc::Status status = Duplicates(gone.name(), &duplicates);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr(head.name()));
  v1::ListLeadsRequest request;
  request.set_status(v1::LEAD_STATUS_MERGED);
  EXPECT_THAT(Names(request), ElementsAre(gone.name()));
}

TEST_F(LeadListServiceTest, FindDuplicatesByEmailPhoneAndCustomer) {
  v1::Lead lead;
  lead.set_display_name("Roof");
  lead.set_company_name("Acme");
  lead.set_email("ana@acme.com");
  lead.set_phone("+34 600 12 34 56");
  lead = Create(lead);
  v1::Lead same_email;
  same_email.set_display_name("Other roof");
  same_email.set_email("ana@ACME.com");
  same_email = Create(same_email);
  v1::Lead same_phone;
  same_phone.set_display_name("Pump");
  same_phone.set_mobile("+34600123456");
  same_phone = Create(same_phone);
  Create("Unrelated");

  v1::FindDuplicatesResponse found;
  ASSERT_TRUE(Duplicates(lead.name(), &found).ok());
  ASSERT_THAT(found.duplicates(), SizeIs(2));
  std::vector<std::string> names = {found.duplicates(0).lead().name(),
                                    found.duplicates(1).lead().name()};
  EXPECT_THAT(names, ::testing::UnorderedElementsAre(same_email.name(),
                                                     same_phone.name()));
  for (const v1::Duplicate& duplicate : found.duplicates()) {
    EXPECT_THAT(duplicate.criteria(),
                ElementsAre(duplicate.lead().name() == same_email.name()
                                ? v1::DUPLICATE_CRITERION_EMAIL
                                : v1::DUPLICATE_CRITERION_PHONE));
  }

  // Linking a customer makes the leads that share it duplicates too.
  v1::ConvertLeadRequest convert;
  convert.set_name(lead.name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_CREATE_NEW);
  v1::ConvertLeadResponse converted;
  ASSERT_TRUE(Convert(convert, &converted).ok());
  v1::Lead other = Create("Fence");
  convert.set_name(other.name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_LINK_EXISTING);
  convert.set_customer_id(converted.customer_id());
  ASSERT_TRUE(Convert(convert, &converted).ok());
  ASSERT_TRUE(Duplicates(other.name(), &found).ok());
  ASSERT_THAT(found.duplicates(), SizeIs(1));
  EXPECT_EQ(found.duplicates(0).lead().name(), lead.name());
  EXPECT_THAT(found.duplicates(0).criteria(),
              ElementsAre(v1::DUPLICATE_CRITERION_CUSTOMER));

  v1::FindDuplicatesResponse missing;
  EXPECT_EQ(Duplicates("leads/nobody", &missing).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(LeadListServiceTest, ACriterionSharedByMoreThanTwentyIsTooGeneric) {
  v1::BatchCreateLeadsRequest batch;
  for (int i = 0; i < 22; ++i) {
    v1::Lead* lead = batch.add_requests()->mutable_lead();
    lead->set_display_name(absl::StrCat("Branch ", i));
    lead->set_phone("+34912345678");  // the switchboard
    if (i < 2) lead->set_email("boss@acme.com");
  }
  v1::BatchCreateLeadsResponse created;
  ASSERT_TRUE(stub_->BatchCreateLeads(Context().get(), batch, &created).ok());
  Saw(created.log_position());
  v1::FindDuplicatesResponse found;
  ASSERT_TRUE(Duplicates(created.leads(0).name(), &found).ok());
  ASSERT_THAT(found.duplicates(), SizeIs(1));
  EXPECT_EQ(found.duplicates(0).lead().name(), created.leads(1).name());
  EXPECT_THAT(found.duplicates(0).criteria(),
              ElementsAre(v1::DUPLICATE_CRITERION_EMAIL));
}

TEST_F(LeadListServiceTest, ConvertWithEachCustomerAction) {
  v1::Lead lead;
  lead.set_display_name("Roof");
  lead.set_contact_name("Ana Ruiz");
  lead.set_email("ana@acme.com");
  v1::Lead first = Create(lead);

  // Default, no customer has the email, the lead names a person: create.
  v1::ConvertLeadRequest convert;
  convert.set_name(first.name());
  convert.set_owner_id("bob");
  v1::ConvertLeadResponse created;
  ASSERT_TRUE(Convert(convert, &created).ok());
  EXPECT_EQ(created.lead().kind(), v1::LEAD_KIND_OPPORTUNITY);
  EXPECT_EQ(created.lead().stage(), "New");
  EXPECT_EQ(created.lead().owner_id(), "bob");
  EXPECT_TRUE(created.customer_created());
  ASSERT_FALSE(created.customer_id().empty());
  EXPECT_EQ(created.lead().customer_id(), created.customer_id());

  // Default, a customer has the lead's email: link it.
  v1::Lead second = Create(lead);
  convert.set_name(second.name());
  v1::ConvertLeadResponse linked;
  ASSERT_TRUE(Convert(convert, &linked).ok());
  EXPECT_FALSE(linked.customer_created());
  EXPECT_EQ(linked.customer_id(), created.customer_id());

  // Default, no email match and nobody named: none.
  v1::ConvertLeadResponse none;
  convert.set_name(Create("Bare").name());
  ASSERT_TRUE(Convert(convert, &none).ok());
  EXPECT_FALSE(none.customer_created());
  EXPECT_EQ(none.customer_id(), "");

  // Explicit actions.
  convert.set_name(Create(lead).name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_CREATE_NEW);
  v1::ConvertLeadResponse fresh;
  ASSERT_TRUE(Convert(convert, &fresh).ok());
  EXPECT_TRUE(fresh.customer_created());
  EXPECT_NE(fresh.customer_id(), created.customer_id());

  convert.set_name(Create(lead).name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_NONE);
  ASSERT_TRUE(Convert(convert, &none).ok());
  EXPECT_EQ(none.customer_id(), "");

  convert.set_name(Create(lead).name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_LINK_EXISTING);
  v1::ConvertLeadResponse refused;
  grpc::Status status = Convert(convert, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(status), "customer_id");
  convert.set_customer_id("nobody");
  EXPECT_EQ(Convert(convert, &refused).error_code(),
            grpc::StatusCode::NOT_FOUND);
  convert.set_customer_id(fresh.customer_id());
  ASSERT_TRUE(Convert(convert, &linked).ok());
  EXPECT_EQ(linked.customer_id(), fresh.customer_id());
  EXPECT_FALSE(linked.customer_created());

  // An opportunity does not convert again.
  EXPECT_EQ(Convert(convert, &refused).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(LeadListServiceTest, ConvertRefusesLostLeadsAndStaleEtags) {
  v1::Lead lead = Create("Roof");
  v1::ConvertLeadRequest convert;
  convert.set_name(lead.name());
  convert.set_etag("7");
  v1::ConvertLeadResponse response;
  grpc::Status stale = Convert(convert, &response);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(stale.error_message(), HasSubstr("etag"));

  v1::MarkLeadLostRequest lose;
  lose.set_name(lead.name());
  v1::MarkLeadLostResponse lost;
  ASSERT_TRUE(stub_->MarkLeadLost(Context().get(), lose, &lost).ok());
  convert.set_etag(lost.lead().etag());
  grpc::Status refused = Convert(convert, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("lost"));
}

TEST_F(LeadListServiceTest, ARetriedConversionAnswersTheSameAndWritesNothing) {
  v1::Lead lead;
  lead.set_display_name("Roof");
  lead.set_company_name("Acme");
  lead = Create(lead);
  v1::ConvertLeadRequest convert;
  convert.set_name(lead.name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_CREATE_NEW);
  convert.set_request_id("convert-1");
  v1::ConvertLeadResponse first;
  ASSERT_TRUE(Convert(convert, &first).ok());
  v1::ConvertLeadResponse again;
  ASSERT_TRUE(Convert(convert, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_TRUE(again.customer_created());
  EXPECT_EQ(Get(lead.name()).etag(), first.lead().etag());
  // Nothing was appended since: the next write comes right after it.
  v1::CreateLeadRequest next;
  next.mutable_lead()->set_display_name("Next");
  v1::CreateLeadResponse created;
  ASSERT_TRUE(stub_->CreateLead(Context().get(), next, &created).ok());
  EXPECT_EQ(created.log_position(), first.log_position() + 1);

  convert.set_owner_id("someone else");
  EXPECT_EQ(Convert(convert, &again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(LeadListServiceTest, ConvertByMergingIntoAnOpportunity) {
  v1::Lead opportunity = Create("Roof");
  v1::ConvertLeadRequest convert;
  convert.set_name(opportunity.name());
  convert.set_customer_action(v1::CUSTOMER_ACTION_NONE);
  v1::ConvertLeadResponse converted;
  ASSERT_TRUE(Convert(convert, &converted).ok());
  v1::Lead lead;
  lead.set_display_name("Roof again");
  lead.set_email("ana@acme.com");
  lead = Create(lead);

  v1::ConvertLeadRequest merge;
  merge.set_name(lead.name());
  merge.add_merge_into(opportunity.name());
  merge.set_customer_action(v1::CUSTOMER_ACTION_NONE);
  v1::ConvertLeadResponse response;
  grpc::Status status = Convert(merge, &response);
  EXPECT_EQ(BadField(status), "customer_action");
  merge.clear_customer_action();
  merge.add_merge_into(Create("Not an opportunity").name());
  status = Convert(merge, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(status), "merge_into");
  merge.mutable_merge_into()->RemoveLast();
  ASSERT_TRUE(Convert(merge, &response).ok());
  EXPECT_EQ(response.lead().name(), opportunity.name());
  EXPECT_EQ(response.lead().email(), "ana@acme.com");
  EXPECT_THAT(response.merged_leads(), ElementsAre(lead.name()));
  EXPECT_EQ(Get(lead.name()).status(), v1::LEAD_STATUS_MERGED);
}

TEST_F(LeadListServiceTest, BatchCreateIsAllOrNothing) {
  v1::BatchCreateLeadsRequest batch;
  for (const char* name : {"One", "", "Three"}) {
    batch.add_requests()->mutable_lead()->set_display_name(name);
  }
  v1::BatchCreateLeadsResponse response;
  grpc::Status status =
      stub_->BatchCreateLeads(Context().get(), batch, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(status), "requests[1].lead.display_name");
  // Nothing was written: the first lead created now is the only one.
  v1::Lead only = Create("Only");
  EXPECT_THAT(Names({}), ElementsAre(only.name()));

  batch.mutable_requests(1)->mutable_lead()->set_display_name("Two");
  batch.mutable_requests(2)->set_request_id("import-3");
  batch.set_request_id("import");
  ASSERT_TRUE(stub_->BatchCreateLeads(Context().get(), batch, &response).ok());
  ASSERT_THAT(response.leads(), SizeIs(3));
  ASSERT_THAT(response.log_positions(), SizeIs(3));
  EXPECT_EQ(response.log_positions(2), response.log_position());
  EXPECT_LT(response.log_positions(0), response.log_positions(1));
  EXPECT_EQ(response.leads(1).display_name(), "Two");
  Saw(response.log_position());
  EXPECT_THAT(Names({}),
              ElementsAre(only.name(), response.leads(0).name(),
                          response.leads(1).name(), response.leads(2).name()));
  // A retry answers the same leads and creates none.
  v1::BatchCreateLeadsResponse again;
  ASSERT_TRUE(stub_->BatchCreateLeads(Context().get(), batch, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), response.SerializeAsString());
  EXPECT_THAT(Names({}), SizeIs(4));

  // An item whose request id made a lead before fails the whole batch.
  v1::BatchCreateLeadsRequest clash;
  clash.add_requests()->mutable_lead()->set_display_name("New");
  *clash.add_requests() = batch.requests(2);
  EXPECT_EQ(
      stub_->BatchCreateLeads(Context().get(), clash, &again).error_code(),
      grpc::StatusCode::ALREADY_EXISTS);
  clash.mutable_requests(0)->set_request_id("import-3");
  EXPECT_EQ(BadField(stub_->BatchCreateLeads(Context().get(), clash, &again)),
            "requests[1].request_id");
  EXPECT_THAT(Names({}), SizeIs(4));
}

TEST_F(LeadListServiceTest, BatchCreateTakesAtMostAThousand) {
  v1::BatchCreateLeadsRequest batch;
  for (int i = 0; i < 1001; ++i) {
    batch.add_requests()->mutable_lead()->set_display_name("x");
  }
  v1::BatchCreateLeadsResponse response;
  grpc::Status status =
      stub_->BatchCreateLeads(Context().get(), batch, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(status), "requests");
  batch.mutable_requests()->RemoveLast();
  ASSERT_TRUE(stub_->BatchCreateLeads(Context().get(), batch, &response).ok());
  EXPECT_THAT(response.leads(), SizeIs(1000));
  batch.Clear();
  EXPECT_EQ(
      BadField(stub_->BatchCreateLeads(Context().get(), batch, &response)),
      "requests");
}

}  // namespace
}  // namespace leadledger::services
