// HistoryService through a real in-process gRPC server on an ephemeral
// loopback port, over a real RocksDB in a temporary directory: a lead's
// history, the lead as of a version or a time, the whole log in pages, and
// subscriptions (catch-up then live, filters, cancellation, shutdown).
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/events/v1/lead_events.pb.h"
#include "leadledger/v1/history_service.grpc.pb.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/loopback_channel.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::leadledger::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

google::protobuf::Timestamp At(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

// The field a rich INVALID_ARGUMENT names in its google.rpc.BadRequest.
std::string ViolatedField(const grpc::Status& status) {
  google::rpc::Status rich;
  google::rpc::BadRequest bad_request;
  if (!rich.ParseFromString(status.error_details()) ||
      rich.details_size() != 1 || !rich.details(0).UnpackTo(&bad_request) ||
      bad_request.field_violations_size() != 1) {
    return "";
  }
  return bad_request.field_violations(0).field();
}

std::vector<uint64_t> Consecutive(uint64_t first, uint64_t last) {
  std::vector<uint64_t> positions;
  for (uint64_t p = first; p <= last; ++p) positions.push_back(p);
  return positions;
}

class HistoryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(HistoryServiceOptions()); }

  void StartServer(HistoryServiceOptions history) {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    options.ids = &ids_;
    options.history = history;
    auto server = LeadLedgerServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    auto channel = testing::LoopbackChannel(server_->port());
    leads_ = v1::LeadService::NewStub(channel);
    history_ = v1::HistoryService::NewStub(channel);
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const std::string& actor = "",
      absl::Duration timeout = absl::Seconds(30)) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    if (!actor.empty()) context->AddMetadata("x-actor", actor);
    return context;
  }

  v1::CreateLeadResponse Create(const std::string& display_name,
                                const std::string& actor = "") {
    v1::CreateLeadRequest request;
    request.mutable_lead()->set_display_name(display_name);
    v1::CreateLeadResponse response;
    grpc::Status status =
        leads_->CreateLead(Context(actor).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // The mutations below return the log position of the event they append.
  // None of them is a classification, whose follow-up task the scheduler
  // appends at a moment of its own.
  uint64_t SetProbability(const std::string& name, double percent,
                          const std::string& actor = "") {
    v1::SetProbabilityOverrideRequest request;
    request.set_name(name);
    request.set_probability(percent);
    v1::SetProbabilityOverrideResponse response;
    grpc::Status status = leads_->SetProbabilityOverride(Context(actor).get(),
                                                         request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.log_position();
  }

  uint64_t Lose(const std::string& name, const std::string& actor = "") {
    v1::MarkLeadLostRequest request;
    request.set_name(name);
    v1::MarkLeadLostResponse response;
    grpc::Status status =
        leads_->MarkLeadLost(Context(actor).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.log_position();
  }

  uint64_t Restore(const std::string& name, const std::string& actor = "") {
    v1::RestoreLeadRequest request;
    request.set_name(name);
    v1::RestoreLeadResponse response;
    grpc::Status status =
        leads_->RestoreLead(Context(actor).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.log_position();
  }

  grpc::Status History(const v1::GetLeadHistoryRequest& request,
                       v1::GetLeadHistoryResponse* response,
                       absl::Duration timeout = absl::Seconds(30)) {
    return history_->GetLeadHistory(Context("", timeout).get(), request,
                                    response);
  }

  grpc::Status AsOf(const v1::GetLeadAsOfRequest& request,
                    v1::GetLeadAsOfResponse* response) {
    return history_->GetLeadAsOf(Context().get(), request, response);
  }

  grpc::Status ReadAll(const v1::ReadAllRequest& request,
                       v1::ReadAllResponse* response,
                       absl::Duration timeout = absl::Seconds(30)) {
    return history_->ReadAll(Context("", timeout).get(), request, response);
  }

  // Every page of `request`'s history, following the tokens.
  std::vector<v1::GetLeadHistoryResponse> HistoryPages(
      v1::GetLeadHistoryRequest request) {
    std::vector<v1::GetLeadHistoryResponse> pages;
    do {
      v1::GetLeadHistoryResponse page;
      grpc::Status status = History(request, &page);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok() || pages.size() > 100) break;
      request.set_page_token(page.next_page_token());
      pages.push_back(std::move(page));
    } while (!request.page_token().empty());
    return pages;
  }

  std::vector<v1::ReadAllResponse> ReadAllPages(v1::ReadAllRequest request) {
    std::vector<v1::ReadAllResponse> pages;
    do {
      v1::ReadAllResponse page;
      grpc::Status status = ReadAll(request, &page);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok() || pages.size() > 100) break;
      request.set_page_token(page.next_page_token());
      pages.push_back(std::move(page));
    } while (!request.page_token().empty());
    return pages;
  }

  leadledger::testing::TempDir dir_;
  FakeClock clock_{kStart};
  SequentialIdGenerator ids_{"id"};
  std::unique_ptr<LeadLedgerServer> server_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::HistoryService::Stub> history_;
};

// One open Subscribe call.
struct Subscriber {
  Subscriber(v1::HistoryService::Stub& stub,
             const v1::SubscribeRequest& request) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    reader = stub.Subscribe(&context, request);
  }
  ~Subscriber() {
    if (!finished) Cancel();
  }

  // Ends the call from the client's side.
  void Cancel() {
    context.TryCancel();
    Finish();
  }

  grpc::Status Finish() {
    finished = true;
    return reader->Finish();
  }

  // The positions of the next `count` events; fewer if the stream ends.
  std::vector<uint64_t> Take(size_t count) {
    std::vector<uint64_t> positions;
    v1::SubscribeResponse message;
    while (positions.size() < count && reader->Read(&message)) {
      events.push_back(message.event());
      positions.push_back(message.event().log_position());
    }
    return positions;
  }

  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader;
  std::vector<v1::LogEvent> events;
  bool finished = false;
};

TEST_F(HistoryServiceTest, HistoryListsEveryEventOfTheLeadInOrder) {
  v1::CreateLeadRequest create;
  create.mutable_lead()->set_display_name("Solar roof");
  auto context = Context("alice");
  context->AddMetadata("x-correlation-id", "import-7");
  v1::CreateLeadResponse created;
  ASSERT_TRUE(leads_->CreateLead(context.get(), create, &created).ok());
  const std::string name = created.lead().name();
  Create("Another lead");
  clock_.Advance(absl::Minutes(1));
  const uint64_t overridden = SetProbability(name, 40, "bob");
  clock_.Advance(absl::Minutes(1));
  const uint64_t lost = Lose(name, "bob");
  clock_.Advance(absl::Minutes(1));
  const uint64_t restored = Restore(name, "carol");

  v1::GetLeadHistoryRequest request;
  request.set_name(name);
  v1::GetLeadHistoryResponse history;
  grpc::Status status = History(request, &history);
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::vector<std::string> types, actors, ids;
  std::vector<int64_t> versions;
  std::vector<uint64_t> positions;
  std::vector<absl::Time> times;
  for (const v1::LeadHistoryEvent& event : history.events()) {
    types.push_back(event.type());
    actors.push_back(event.actor());
    ids.push_back(event.event_id());
    versions.push_back(event.stream_version());
    positions.push_back(event.log_position());
    times.push_back(absl::FromUnixNanos(
        TimeUtil::TimestampToNanoseconds(event.recorded_time())));
  }
  EXPECT_THAT(types, ElementsAre("LeadCreated", "ProbabilityOverridden",
                                 "LeadLost", "LeadRestored"));
  EXPECT_THAT(versions, ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(positions,
              ElementsAre(created.log_position(), overridden, lost, restored));
  EXPECT_THAT(actors, ElementsAre("alice", "bob", "bob", "carol"));
  EXPECT_THAT(
      times, ElementsAre(kStart, kStart + absl::Minutes(1),
                         kStart + absl::Minutes(2), kStart + absl::Minutes(3)));
  EXPECT_EQ(history.events(0).correlation_id(), "import-7");
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_TRUE(history.next_page_token().empty());

  // The payload is the stored event message, and its JSON rendering.
  events::v1::ProbabilityOverridden payload;
  ASSERT_TRUE(payload.ParseFromString(history.events(1).payload()));
  EXPECT_EQ(payload.value(), 40);
  EXPECT_THAT(history.events(1).payload_json(), HasSubstr("\"value\":40"));
  EXPECT_THAT(history.events(0).payload_json(), HasSubstr("Solar roof"));
}

TEST_F(HistoryServiceTest, HistoryOfALeadWithoutEventsIsNotFound) {
  v1::GetLeadHistoryRequest request;
  request.set_name("leads/nobody");
  v1::GetLeadHistoryResponse response;
  grpc::Status status = History(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("nobody"));
}

TEST_F(HistoryServiceTest, MalformedLeadNameIsInvalidArgument) {
  v1::GetLeadHistoryRequest request;
  request.set_name("tasks/x");
  v1::GetLeadHistoryResponse response;
  grpc::Status status = History(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "name");
}

TEST_F(HistoryServiceTest, HistoryPagesHaveNoGapAndNoDuplicate) {
  const std::string name = Create("Roof").lead().name();
  for (int i = 1; i <= 6; ++i) SetProbability(name, 10 * i);
  v1::GetLeadHistoryRequest request;
  request.set_name(name);
  request.set_page_size(3);
  std::vector<int64_t> versions;
  std::vector<int> sizes;
  for (const v1::GetLeadHistoryResponse& page : HistoryPages(request)) {
    sizes.push_back(page.events_size());
    for (const auto& event : page.events()) {
      versions.push_back(event.stream_version());
    }
  }
  EXPECT_THAT(sizes, ElementsAre(3, 3, 1));
  EXPECT_THAT(versions, ElementsAre(0, 1, 2, 3, 4, 5, 6));

  // A page that ends exactly with the last event has no next page.
  request.set_page_size(7);
  v1::GetLeadHistoryResponse whole;
  ASSERT_TRUE(History(request, &whole).ok());
  EXPECT_EQ(whole.events_size(), 7);
  EXPECT_TRUE(whole.next_page_token().empty());
}

TEST_F(HistoryServiceTest, PageSizeDefaultsTo50AndAllows1000) {
  const std::string name = Create("Roof").lead().name();
  for (int i = 1; i <= 30; ++i) SetProbability(name, i);
  v1::GetLeadHistoryRequest request;
  request.set_name(name);
  v1::GetLeadHistoryResponse page;
  ASSERT_TRUE(History(request, &page).ok());
  EXPECT_EQ(page.events_size(), 31);
  request.set_page_size(1000);
  ASSERT_TRUE(History(request, &page).ok());
  EXPECT_EQ(page.events_size(), 31);
}

TEST_F(HistoryServiceTest, BadPageSizeIsInvalidArgumentNamingPageSize) {
  const std::string name = Create("Roof").lead().name();
  for (int page_size : {-1, 1001}) {
    v1::GetLeadHistoryRequest history_request;
    history_request.set_name(name);
    history_request.set_page_size(page_size);
    v1::GetLeadHistoryResponse history_response;
    grpc::Status status = History(history_request, &history_response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ViolatedField(status), "page_size") << status.error_message();

    v1::ReadAllRequest read_request;
    read_request.set_page_size(page_size);
    v1::ReadAllResponse read_response;
    status = ReadAll(read_request, &read_response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ViolatedField(status), "page_size") << status.error_message();
  }
}

TEST_F(HistoryServiceTest, BadPageTokenIsInvalidArgumentNamingPageToken) {
  const std::string first = Create("Roof").lead().name();
  const std::string second = Create("Porch").lead().name();
  SetProbability(first, 40);
  v1::GetLeadHistoryRequest request;
  request.set_name(first);
  request.set_page_size(1);
  v1::GetLeadHistoryResponse page;
  ASSERT_TRUE(History(request, &page).ok());
  ASSERT_FALSE(page.next_page_token().empty());
  const std::string first_token = page.next_page_token();

  v1::ReadAllRequest read;
  read.set_page_size(1);
  v1::ReadAllResponse read_page;
  ASSERT_TRUE(ReadAll(read, &read_page).ok());
  ASSERT_FALSE(read_page.next_page_token().empty());

  const std::vector<std::pair<std::string, std::string>> bad_history = {
      {first, "garbage!"},
      {first, absl::WebSafeBase64Escape("h1/x")},
      {first, absl::WebSafeBase64Escape("h1/" + first.substr(6) + "/-4")},
      {second, first_token},
      {first, read_page.next_page_token()}};
  for (const auto& [name, token] : bad_history) {
    request.set_name(name);
    request.set_page_token(token);
    grpc::Status status = History(request, &page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_EQ(ViolatedField(status), "page_token") << status.error_message();
  }

  for (const std::string& token : {std::string("%%%"), first_token}) {
    read.set_page_token(token);
    grpc::Status status = ReadAll(read, &read_page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_EQ(ViolatedField(status), "page_token") << status.error_message();
  }
}

TEST_F(HistoryServiceTest, AsOfVersionShowsTheLeadRightAfterThatEvent) {
  const v1::CreateLeadResponse created = Create("Roof");
  const std::string name = created.lead().name();
  const uint64_t overridden = SetProbability(name, 40);
  Lose(name);

  v1::GetLeadAsOfRequest request;
  request.set_name(name);
  request.set_version(0);
  v1::GetLeadAsOfResponse response;
  grpc::Status status = AsOf(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.version(), 0);
  EXPECT_EQ(response.log_position(), created.log_position());
  EXPECT_EQ(response.lead().etag(), "0");
  EXPECT_FALSE(response.lead().has_probability_override());
  EXPECT_EQ(response.lead().status(), v1::LEAD_STATUS_ACTIVE);

  request.set_version(1);
  ASSERT_TRUE(AsOf(request, &response).ok());
  EXPECT_EQ(response.version(), 1);
  EXPECT_EQ(response.log_position(), overridden);
  EXPECT_EQ(response.lead().etag(), "1");
  EXPECT_EQ(response.lead().probability_override(), 40);
  EXPECT_EQ(response.lead().status(), v1::LEAD_STATUS_ACTIVE);

  request.set_version(2);
  ASSERT_TRUE(AsOf(request, &response).ok());
  EXPECT_EQ(response.lead().status(), v1::LEAD_STATUS_LOST);

  request.set_version(3);
  status = AsOf(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("version 3"));
}

TEST_F(HistoryServiceTest, AsOfWithoutAVersionOrTimeIsInvalidArgument) {
  const std::string name = Create("Roof").lead().name();
  v1::GetLeadAsOfRequest request;
  request.set_name(name);
  v1::GetLeadAsOfResponse response;
  grpc::Status status = AsOf(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "as_of") << status.error_message();

  request.set_version(-1);
  status = AsOf(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "version") << status.error_message();

  request.mutable_time()->set_nanos(-1);
  status = AsOf(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "time") << status.error_message();
}

TEST_F(HistoryServiceTest, AsOfTimeShowsTheLeadAsTheLogKnewItThen) {
  const std::string name = Create("Roof").lead().name();
  clock_.Advance(absl::Hours(1));
  SetProbability(name, 40);
  clock_.Advance(absl::Hours(1));
  Lose(name);

  auto version_at = [&](absl::Time time) -> int64_t {
    v1::GetLeadAsOfRequest request;
    request.set_name(name);
    *request.mutable_time() = At(time);
    v1::GetLeadAsOfResponse response;
    grpc::Status status = AsOf(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.lead().etag(), absl::StrCat(response.version()));
    return response.version();
  };
  EXPECT_EQ(version_at(kStart), 0);
  EXPECT_EQ(version_at(kStart + absl::Minutes(30)), 0);
  EXPECT_EQ(version_at(kStart + absl::Hours(1)), 1);
  EXPECT_EQ(version_at(kStart + absl::Minutes(90)), 1);
  EXPECT_EQ(version_at(kStart + absl::Hours(2)), 2);
  EXPECT_EQ(version_at(kStart + absl::Hours(24 * 365)), 2);

  v1::GetLeadAsOfRequest before;
  before.set_name(name);
  *before.mutable_time() = At(kStart - absl::Seconds(1));
  v1::GetLeadAsOfResponse response;
  grpc::Status status = AsOf(before, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("did not exist yet"));

  before.set_name("leads/nobody");
  status = AsOf(before, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("nobody"));
}

TEST_F(HistoryServiceTest, ReadAllReturnsEveryStreamInCommitOrder) {
  const std::string first = Create("Roof", "alice").lead().name();
  const std::string second = Create("Porch").lead().name();
  SetProbability(first, 40);

  v1::ReadAllResponse response;
  ASSERT_TRUE(ReadAll(v1::ReadAllRequest(), &response).ok());
  ASSERT_EQ(response.events_size(), 3);
  EXPECT_EQ(response.head_position(), 3u);
  EXPECT_TRUE(response.next_page_token().empty());
  EXPECT_EQ(response.events(0).stream(), "lead-" + first.substr(6));
  EXPECT_EQ(response.events(1).stream(), "lead-" + second.substr(6));
  EXPECT_EQ(response.events(2).stream(), "lead-" + first.substr(6));
  EXPECT_EQ(response.events(0).type(), "LeadCreated");
  EXPECT_EQ(response.events(0).actor(), "alice");
  EXPECT_EQ(response.events(2).type(), "ProbabilityOverridden");
  EXPECT_EQ(response.events(2).stream_version(), 1);
  EXPECT_THAT(response.events(2).payload_json(), HasSubstr("\"value\":40"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(response.events(i).log_position(), static_cast<uint64_t>(i + 1));
  }

  v1::ReadAllRequest from_two;
  from_two.set_from_position(2);
  ASSERT_TRUE(ReadAll(from_two, &response).ok());
  ASSERT_EQ(response.events_size(), 2);
  EXPECT_EQ(response.events(0).log_position(), 2u);
}

TEST_F(HistoryServiceTest, ReadAllPagesHaveNoGapAndNoDuplicate) {
  for (int i = 0; i < 5; ++i) {
    const std::string name = Create(absl::StrCat("Lead ", i)).lead().name();
    SetProbability(name, 40);
  }
  v1::ReadAllRequest request;
  request.set_page_size(3);
  std::vector<uint64_t> positions;
  std::vector<int> sizes;
  for (const v1::ReadAllResponse& page : ReadAllPages(request)) {
    sizes.push_back(page.events_size());
    EXPECT_EQ(page.head_position(), 10u);
    for (const auto& event : page.events()) {
      positions.push_back(event.log_position());
    }
  }
  EXPECT_THAT(sizes, ElementsAre(3, 3, 3, 1));
  EXPECT_THAT(positions, ElementsAreArray(Consecutive(1, 10)));
}

TEST_F(HistoryServiceTest, ReadAllFiltersByTypeAcrossPages) {
  std::vector<uint64_t> lost_or_overridden;
  for (int i = 0; i < 4; ++i) {
    const std::string name = Create(absl::StrCat("Lead ", i)).lead().name();
    lost_or_overridden.push_back(SetProbability(name, 40));
    if (i % 2 == 0) lost_or_overridden.push_back(Lose(name));
  }
  v1::ReadAllRequest request;
  request.add_event_types("LeadLost");
  request.add_event_types("ProbabilityOverridden");
  request.set_page_size(2);
  std::vector<uint64_t> positions;
  for (const v1::ReadAllResponse& page : ReadAllPages(request)) {
    for (const auto& event : page.events()) {
      EXPECT_TRUE(event.type() == "LeadLost" ||
                  event.type() == "ProbabilityOverridden")
          << event.type();
      positions.push_back(event.log_position());
    }
  }
  EXPECT_THAT(positions, ElementsAreArray(lost_or_overridden));

  // A token carries its filter: another filter may not continue it.
  v1::ReadAllResponse first_page;
  ASSERT_TRUE(ReadAll(request, &first_page).ok());
  ASSERT_FALSE(first_page.next_page_token().empty());
  request.set_page_token(first_page.next_page_token());
  request.clear_event_types();
  request.add_event_types("LeadLost");
  v1::ReadAllResponse refused;
  grpc::Status status = ReadAll(request, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "page_token") << status.error_message();
}

TEST_F(HistoryServiceTest, UnknownEventTypeIsInvalidArgumentNamingIt) {
  v1::ReadAllRequest request;
  request.add_event_types("LeadCreated");
  request.add_event_types("LeadTeleported");
  v1::ReadAllResponse response;
  grpc::Status status = ReadAll(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "event_types[1]") << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("LeadTeleported"));

  // Customer events are in the log too, so their type is a valid filter.
  request.set_event_types(1, "CustomerCreated");
  EXPECT_TRUE(ReadAll(request, &response).ok());

  v1::SubscribeRequest subscribe;
  subscribe.add_event_types("Nonsense");
  Subscriber subscriber(*history_, subscribe);
  EXPECT_THAT(subscriber.Take(1), IsEmpty());
  status = subscriber.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "event_types[0]") << status.error_message();
}

TEST_F(HistoryServiceTest, MinPositionAlreadyReachedAnswersAtOnce) {
  const v1::CreateLeadResponse created = Create("Roof");
  v1::GetLeadHistoryRequest history;
  history.set_name(created.lead().name());
  history.set_min_position(created.log_position());
  v1::GetLeadHistoryResponse history_response;
  ASSERT_TRUE(History(history, &history_response).ok());
  EXPECT_EQ(history_response.events_size(), 1);

  v1::ReadAllRequest read;
  read.set_min_position(created.log_position());
  v1::ReadAllResponse read_response;
  ASSERT_TRUE(ReadAll(read, &read_response).ok());
  EXPECT_EQ(read_response.events_size(), 1);
}

TEST_F(HistoryServiceTest, MinPositionWaitsForTheWriteItNames) {
  const v1::CreateLeadResponse created = Create("Roof");
  const std::string name = created.lead().name();
  v1::GetLeadHistoryRequest request;
  request.set_name(name);
  request.set_min_position(created.log_position() + 1);
  v1::GetLeadHistoryResponse response;
  grpc::Status status;
  std::thread reader([&] { status = History(request, &response); });
  absl::SleepFor(absl::Milliseconds(100));
  SetProbability(name, 40);
  reader.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.events_size(), 2);
  EXPECT_EQ(response.events(1).type(), "ProbabilityOverridden");
}

TEST_F(HistoryServiceTest, MinPositionBeyondTheHeadIsDeadlineExceeded) {
  const v1::CreateLeadResponse created = Create("Roof");
  v1::GetLeadHistoryRequest history;
  history.set_name(created.lead().name());
  history.set_min_position(created.log_position() + 5);
  v1::GetLeadHistoryResponse history_response;
  grpc::Status status =
      History(history, &history_response, absl::Milliseconds(200));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  v1::ReadAllRequest read;
  read.set_min_position(created.log_position() + 5);
  v1::ReadAllResponse read_response;
  status = ReadAll(read, &read_response, absl::Milliseconds(200));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(HistoryServiceTest, SubscribeCatchesUpThenFollowsLiveAppends) {
  const std::string name = Create("Roof").lead().name();
  SetProbability(name, 40);
  Lose(name);
  Subscriber subscriber(*history_, v1::SubscribeRequest());
  ASSERT_THAT(subscriber.Take(3), ElementsAre(1, 2, 3));
  EXPECT_EQ(subscriber.events[0].type(), "LeadCreated");
  EXPECT_EQ(subscriber.events[0].stream(), "lead-" + name.substr(6));
  EXPECT_EQ(subscriber.events[2].type(), "LeadLost");

  // 50 events from two writers while the subscription is live.
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([this, w] {
      for (int i = 0; i < 25; ++i) Create(absl::StrCat("Lead ", w, "-", i));
    });
  }
  const std::vector<uint64_t> live = subscriber.Take(50);
  for (std::thread& writer : writers) writer.join();
  EXPECT_THAT(live, ElementsAreArray(Consecutive(4, 53)));

  subscriber.context.TryCancel();
  EXPECT_EQ(subscriber.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(HistoryServiceTest, SubscribeDeliversOnlyTheRequestedTypes) {
  const std::string first = Create("Roof").lead().name();
  const uint64_t first_lost = Lose(first);
  Restore(first);
  v1::SubscribeRequest request;
  request.add_event_types("LeadLost");
  Subscriber subscriber(*history_, request);
  ASSERT_THAT(subscriber.Take(1), ElementsAre(first_lost));

  const std::string second = Create("Porch").lead().name();
  SetProbability(second, 40);
  const uint64_t second_lost = Lose(second);
  ASSERT_THAT(subscriber.Take(1), ElementsAre(second_lost));
  EXPECT_EQ(subscriber.events[1].type(), "LeadLost");
  EXPECT_EQ(subscriber.events[1].stream(), "lead-" + second.substr(6));
  subscriber.Cancel();
}

TEST_F(HistoryServiceTest, SubscribeFromAPositionPastTheHeadWaitsForIt) {
  Create("Roof");
  v1::SubscribeRequest request;
  request.set_from_position(3);
  Subscriber subscriber(*history_, request);
  Create("Porch");
  Create("Shed");
  Create("Barn");
  EXPECT_THAT(subscriber.Take(2), ElementsAre(3, 4));
  subscriber.Cancel();
}

TEST_F(HistoryServiceTest, SubscriptionsBeyondTheLimitAreResourceExhausted) {
  server_.reset();
  StartServer({.max_subscriptions = 1});
  Create("Roof");
  Subscriber first(*history_, v1::SubscribeRequest());
  ASSERT_THAT(first.Take(1), ElementsAre(1));

  Subscriber second(*history_, v1::SubscribeRequest());
  EXPECT_THAT(second.Take(1), IsEmpty());
  grpc::Status status = second.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("1 subscriptions"));
}

TEST_F(HistoryServiceTest, ClientCancellationEndsTheServerSideSubscription) {
  server_.reset();
  StartServer({.max_subscriptions = 1});
  Create("Roof");
  auto first = std::make_unique<Subscriber>(*history_, v1::SubscribeRequest());
  ASSERT_THAT(first->Take(1), ElementsAre(1));
  first->context.TryCancel();
  EXPECT_EQ(first->Finish().error_code(), grpc::StatusCode::CANCELLED);
  first.reset();

  // The server frees the only place once it has seen the cancellation; until
  // then a new subscription is refused.
  bool admitted = false;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (!admitted && absl::Now() < give_up) {
    Subscriber next(*history_, v1::SubscribeRequest());
    admitted = next.Take(1) == std::vector<uint64_t>{1};
    if (!admitted) {
      grpc::Status status = next.Finish();
      ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << status.error_message();
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  EXPECT_TRUE(admitted);
  // Nothing is left that could hold the server up (the grace is an hour).
  server_->Shutdown(absl::Hours(1));
}

TEST_F(HistoryServiceTest, ServerShutdownEndsOpenSubscriptions) {
  Create("Roof");
  Subscriber subscriber(*history_, v1::SubscribeRequest());
  ASSERT_THAT(subscriber.Take(1), ElementsAre(1));

  // Returns although the subscription would never end by itself and the
  // grace is an hour.
  server_->Shutdown(absl::Hours(1));
  EXPECT_THAT(subscriber.Take(1), IsEmpty());
  grpc::Status status = subscriber.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("from_position 2"));
}

}  // namespace
}  // namespace leadledger::services
