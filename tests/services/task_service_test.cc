// TaskService, the agenda read model and the follow-up scheduler through a
// real in-process server on an ephemeral port over real RocksDB, with a fake
// clock that the tests move.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "leadledger/v1/task_service.grpc.pb.h"
#include "services/lead_command_handler.h"
#include "services/server.h"
#include "tests/testing/loopback_channel.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::services {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::leadledger::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::TimeZone kUtc = absl::UTCTimeZone();
// A Tuesday, 10:00.
const absl::Time kStart =
    absl::FromCivil(absl::CivilSecond(2026, 11, 17, 10, 0, 0), kUtc);

absl::Time DayStart(absl::CivilDay day) { return absl::FromCivil(day, kUtc); }

absl::CivilDay DayOf(absl::Time time) { return absl::ToCivilDay(time, kUtc); }

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

class TaskServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(bool skip_weekends = false) {
    ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    options.ids = &ids_;
    options.timer_interval = absl::Milliseconds(20);
    options.settings.skip_weekends = skip_weekends;
    options.query_threads = query_threads_;
    options.scheduler_kept_leads = scheduler_kept_leads_;
    auto server = LeadLedgerServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    auto channel = testing::LoopbackChannel(server_->port());
    leads_ = v1::LeadService::NewStub(channel);
    tasks_ = v1::TaskService::NewStub(channel);
  }

  void Restart(bool skip_weekends = false) {
    server_.reset();
    Start(skip_weekends);
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration timeout = absl::Seconds(30)) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return context;
  }

  v1::Lead NewLead(const std::string& owner = "ana",
                   const std::string& name = "Solar roof") {
    v1::CreateLeadRequest request;
    request.mutable_lead()->set_display_name(name);
    request.mutable_lead()->set_owner_id(owner);
    v1::CreateLeadResponse response;
    grpc::Status status =
        leads_->CreateLead(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.lead();
  }

  // Classifies and returns the log position of the classification.
  uint64_t Classify(const std::string& lead, const std::string& outcome) {
    v1::ClassifyLeadRequest request;
    request.set_name(lead);
    request.set_classification(outcome);
    v1::ClassifyLeadResponse response;
    grpc::Status status =
        leads_->ClassifyLead(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.log_position();
  }

  grpc::Status Agenda(const std::string& owner, uint64_t min_position,
                      v1::ListAgendaResponse* response, int page_size = 0,
                      const std::string& page_token = "") {
    v1::ListAgendaRequest request;
    request.set_owner_id(owner);
    request.set_min_position(min_position);
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return tasks_->ListAgenda(Context().get(), request, response);
  }

  std::vector<v1::AgendaItem> AgendaOf(const std::string& owner,
                                       uint64_t min_position) {
    v1::ListAgendaResponse response;
    grpc::Status status = Agenda(owner, min_position, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.items().begin(), response.items().end()};
  }

  grpc::Status Complete(const std::string& task, const std::string& outcome,
                        v1::CompleteTaskResponse* response,
                        const std::string& request_id = "") {
    v1::CompleteTaskRequest request;
    request.set_name(task);
    request.set_outcome(outcome);
    request.set_request_id(request_id);
    return tasks_->CompleteTask(Context().get(), request, response);
  }

  v1::CreateTaskResponse CreateTask(const std::string& lead,
                                    const std::string& title, absl::Time due,
                                    int priority = 0,
                                    const std::string& request_id = "") {
    v1::CreateTaskRequest request;
    request.set_parent(lead);
    request.mutable_task()->set_title(title);
    *request.mutable_task()->mutable_due_time() = ToProto(due);
    request.mutable_task()->set_priority(priority);
    request.set_request_id(request_id);
    v1::CreateTaskResponse response;
    grpc::Status status =
        tasks_->CreateTask(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Events of `type` in lead `lead`'s stream ("leads/<id>").
  std::vector<eventstore::RecordedEvent> EventsOf(const std::string& lead,
                                                  const std::string& type) {
    auto events = server_->store().ReadStream(
        absl::StrCat("lead-", lead.substr(strlen("leads/"))),
        {.max_count = 10000});
    EXPECT_THAT(events.status(), IsOk());
    std::vector<eventstore::RecordedEvent> out;
    for (auto& event : *events) {
      if (event.type == type) out.push_back(event);
    }
    return out;
  }

  // Waits (in real time) until `done` holds, up to 10 s.
  template <typename Done>
  bool Eventually(Done done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return done();
  }

  int query_threads_ = 16;
  int scheduler_kept_leads_ = 8192;
  testing::TempDir dir_;
  FakeClock clock_{kStart};
  SequentialIdGenerator ids_{"id"};
  std::unique_ptr<LeadLedgerServer> server_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
};

TEST_F(TaskServiceTest, PulseFlowClassifyThenCompleteWithNotSureYet) {
  const v1::Lead lead = NewLead();
  const uint64_t classified = Classify(lead.name(), "POTENTIAL_CONSULTANT");

  std::vector<v1::AgendaItem> agenda = AgendaOf("ana", classified);
  ASSERT_THAT(agenda, SizeIs(1));
  const v1::Task first = agenda[0].task();
  EXPECT_EQ(FromProto(first.due_time()), DayStart(DayOf(kStart) + 7));
  EXPECT_EQ(first.kind(), v1::TASK_KIND_FOLLOW_UP);
  EXPECT_TRUE(first.automatic());
  EXPECT_EQ(first.priority(), 4);
  EXPECT_EQ(agenda[0].lead(), lead.name());
  EXPECT_EQ(agenda[0].lead_display_name(), "Solar roof");
  EXPECT_FALSE(agenda[0].overdue());

  clock_.Advance(absl::Hours(24 * 8));  // the follow-up is overdue by now
  EXPECT_TRUE(AgendaOf("ana", 0)[0].overdue());
  v1::CompleteTaskResponse completed;
  ASSERT_TRUE(Complete(first.name(), "NOT_SURE_YET", &completed).ok());
  agenda = AgendaOf("ana", completed.log_position());
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_NE(agenda[0].task().name(), first.name());
  EXPECT_EQ(FromProto(agenda[0].task().due_time()),
            DayStart(DayOf(kStart + absl::Hours(24 * 8)) + 14));
  EXPECT_TRUE(agenda[0].task().automatic());
  // NOT_SURE_YET does not classify: the lead keeps its classification.
  EXPECT_EQ(completed.lead().classification(), "POTENTIAL_CONSULTANT");
}

TEST_F(TaskServiceTest, ANewClassificationReplacesTheOpenFollowUp) {
  const v1::Lead lead = NewLead();
  Classify(lead.name(), "ON_THE_FENCE");
  const uint64_t position = Classify(lead.name(), "HOT_PROSPECT");
  std::vector<v1::AgendaItem> agenda = AgendaOf("ana", position);
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_EQ(FromProto(agenda[0].task().due_time()),
            DayStart(DayOf(kStart) + 14));
  EXPECT_THAT(EventsOf(lead.name(), "TaskCancelled"), SizeIs(1));
  EXPECT_THAT(EventsOf(lead.name(), "TaskScheduled"), SizeIs(2));
}

TEST_F(TaskServiceTest, NotInterestedAndClearingScheduleNothing) {
  const v1::Lead lead = NewLead();
  v1::CreateTaskResponse call = CreateTask(lead.name(), "Call", kStart);
  v1::CompleteTaskResponse completed;
  ASSERT_TRUE(Complete(call.task().name(), "NOT_INTERESTED", &completed).ok());
  EXPECT_THAT(AgendaOf("ana", completed.log_position()), SizeIs(0));
  EXPECT_THAT(EventsOf(lead.name(), "TaskScheduled"), SizeIs(1));
}

TEST_F(TaskServiceTest, TheWeekendRuleMovesAFollowUpToMonday) {
  Restart(/*skip_weekends=*/true);
  const v1::Lead lead = NewLead();
  // Tuesday 2026-11-17 + 60 days is Saturday 2027-01-16.
  const uint64_t position = Classify(lead.name(), "ON_THE_FENCE");
  std::vector<v1::AgendaItem> agenda = AgendaOf("ana", position);
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_EQ(FromProto(agenda[0].task().due_time()),
            DayStart(absl::CivilDay(2027, 1, 18)));
}

TEST_F(TaskServiceTest, AgendaOrdersByDayThenPriorityAndPagesWithoutGaps) {
  const v1::Lead a = NewLead("ana", "A");
  const v1::Lead b = NewLead("ana", "B");
  const v1::Lead other = NewLead("bob", "C");
  CreateTask(a.name(), "late", kStart + absl::Hours(48), 1);
  CreateTask(b.name(), "urgent tomorrow", kStart + absl::Hours(25), 3);
  CreateTask(a.name(), "calm tomorrow", kStart + absl::Hours(24), 0);
  CreateTask(b.name(), "yesterday", kStart - absl::Hours(24), 0);
  CreateTask(other.name(), "not ana's", kStart, 0);
  v1::CreateTaskResponse last = CreateTask(a.name(), "today", kStart, 2);

  std::vector<std::string> titles;
  std::string token;
  int pages = 0;
  uint64_t min_position = last.log_position();
  do {
    v1::ListAgendaResponse page;
    ASSERT_TRUE(Agenda("ana", min_position, &page, 2, token).ok());
    for (const auto& item : page.items()) titles.push_back(item.task().title());
    token = page.next_page_token();
    if (++pages == 1) {
      // Created between pages, after everything listed so far.
      min_position =
          CreateTask(b.name(), "next week", kStart + absl::Hours(24 * 7))
              .log_position();
    }
  } while (!token.empty() && pages < 10);
  EXPECT_THAT(titles,
              ::testing::ElementsAre("yesterday", "today", "urgent tomorrow",
                                     "calm tomorrow", "late", "next week"));

  v1::ListAgendaResponse response;
  EXPECT_EQ(
      Agenda("bob", 0, &response, 2, token.empty() ? "x" : token).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TaskServiceTest, ATokenOfAnotherOwnerIsRefused) {
  const v1::Lead a = NewLead("ana");
  CreateTask(a.name(), "one", kStart);
  const uint64_t position =
      CreateTask(a.name(), "two", kStart + absl::Hours(1)).log_position();
  v1::ListAgendaResponse first;
  ASSERT_TRUE(Agenda("ana", position, &first, 1).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  v1::ListAgendaResponse other;
  grpc::Status status = Agenda("bob", 0, &other, 1, first.next_page_token());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
}

TEST_F(TaskServiceTest, LostLeadsLeaveTheAgendaAndMergedOnesMoveTheirTasks) {
  const v1::Lead lost = NewLead("ana", "Lost one");
  CreateTask(lost.name(), "call the lost one", kStart);
  v1::MarkLeadLostRequest lose;
  lose.set_name(lost.name());
  v1::MarkLeadLostResponse lost_response;
  ASSERT_TRUE(leads_->MarkLeadLost(Context().get(), lose, &lost_response).ok());
  EXPECT_THAT(AgendaOf("ana", lost_response.log_position()), SizeIs(0));

  const v1::Lead head = NewLead("ana", "Head");
  const v1::Lead merged = NewLead("ana", "Duplicate");
  CreateTask(merged.name(), "call the duplicate", kStart);
  v1::MergeLeadsRequest merge;
  merge.add_names(head.name());
  merge.add_names(merged.name());
  v1::MergeLeadsResponse merge_response;
  ASSERT_TRUE(leads_->MergeLeads(Context().get(), merge, &merge_response).ok());
  std::vector<v1::AgendaItem> agenda =
      AgendaOf("ana", merge_response.log_position());
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_EQ(agenda[0].task().title(), "call the duplicate");
  EXPECT_EQ(agenda[0].lead(), merge_response.lead().name());
}

TEST_F(TaskServiceTest, TaskDueFiresOnceWhenItsTimeComes) {
  const v1::Lead lead = NewLead();
  v1::CreateTaskResponse created =
      CreateTask(lead.name(), "call", kStart + absl::Hours(1));
  AgendaOf("ana", created.log_position());
  clock_.Advance(absl::Minutes(30));
  absl::SleepFor(absl::Milliseconds(200));  // several timer rounds
  EXPECT_THAT(EventsOf(lead.name(), "TaskDue"), SizeIs(0));

  clock_.Advance(absl::Minutes(31));
  ASSERT_TRUE(
      Eventually([&] { return EventsOf(lead.name(), "TaskDue").size() == 1; }));
  ASSERT_TRUE(Eventually([&] {
    std::vector<v1::AgendaItem> agenda = AgendaOf("ana", 0);
    return agenda.size() == 1 && agenda[0].task().fell_due();
  }));
  clock_.Advance(absl::Hours(5));
  absl::SleepFor(absl::Milliseconds(200));
  Restart();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_THAT(EventsOf(lead.name(), "TaskDue"), SizeIs(1));
  const auto due = EventsOf(lead.name(), "TaskDue");
  ASSERT_THAT(due, SizeIs(1));
  EXPECT_EQ(due[0].metadata.actor, "scheduler");
}

TEST_F(TaskServiceTest, ReplayingTheWholeLogSchedulesNothingTwice) {
  const v1::Lead lead = NewLead();
  Classify(lead.name(), "HOT_PROSPECT");
  const uint64_t position = Classify(lead.name(), "THERE_IS_A_CHANCE");
  AgendaOf("ana", position);
  server_.reset();
  // Without the projection store the scheduler starts from the first event
  // again, as after the loss of its checkpoint.
  std::filesystem::remove_all(dir_.Sub("data/projections"));
  Start();
  const uint64_t head = server_->store().HeadPosition();
  std::vector<v1::AgendaItem> agenda = AgendaOf("ana", head);
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_EQ(FromProto(agenda[0].task().due_time()),
            DayStart(DayOf(kStart) + 30));
  EXPECT_THAT(EventsOf(lead.name(), "TaskScheduled"), SizeIs(2));
  EXPECT_EQ(server_->store().HeadPosition(), head);
  // Each follow-up names its cause.
  for (const auto& event : EventsOf(lead.name(), "TaskScheduled")) {
    EXPECT_FALSE(event.metadata.causation_id.empty());
  }
}

TEST_F(TaskServiceTest, TheSchedulerPlansFromTheLeadsItFolded) {
  const v1::Lead lead = NewLead();
  AgendaOf("ana", Classify(lead.name(), "HOT_PROSPECT"));
  AgendaOf("ana", Classify(lead.name(), "ON_THE_FENCE"));
  uint64_t position = Classify(lead.name(), "THERE_IS_A_CHANCE");
  std::vector<v1::AgendaItem> agenda = AgendaOf("ana", position);
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_EQ(FromProto(agenda[0].task().due_time()),
            DayStart(DayOf(kStart) + 30));
  // It saw the lead created and every event since: no stream was read.
  EXPECT_EQ(server_->scheduler().leads_read(), 0);

  // After a restart it resumes past the lead's events: it reads the lead
  // once, then folds it again.
  Restart();
  position = Classify(lead.name(), "HOT_PROSPECT");
  agenda = AgendaOf("ana", position);
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_EQ(FromProto(agenda[0].task().due_time()),
            DayStart(DayOf(kStart) + 14));
  EXPECT_EQ(server_->scheduler().leads_read(), 1);
  position = Classify(lead.name(), "THERE_IS_A_CHANCE");
  agenda = AgendaOf("ana", position);
  ASSERT_THAT(agenda, SizeIs(1));
  EXPECT_EQ(FromProto(agenda[0].task().due_time()),
            DayStart(DayOf(kStart) + 30));
  EXPECT_EQ(server_->scheduler().leads_read(), 1);
  EXPECT_THAT(EventsOf(lead.name(), "TaskScheduled"), SizeIs(5));
}

TEST_F(TaskServiceTest, TheSchedulerKeepsTheLeadsItSawLast) {
  scheduler_kept_leads_ = 2;
  Restart();
  const v1::Lead a = NewLead();
  const v1::Lead b = NewLead();
  const v1::Lead c = NewLead();
  // Two leads are kept, a and b went since: a is read.
  AgendaOf("ana", Classify(a.name(), "HOT_PROSPECT"));
  EXPECT_EQ(server_->scheduler().leads_read(), 1);
  // c, seen before a, is still kept.
  AgendaOf("ana", Classify(c.name(), "HOT_PROSPECT"));
  EXPECT_EQ(server_->scheduler().leads_read(), 1);
  AgendaOf("ana", Classify(b.name(), "HOT_PROSPECT"));
  EXPECT_EQ(server_->scheduler().leads_read(), 2);
  const uint64_t position = Classify(a.name(), "THERE_IS_A_CHANCE");
  std::vector<v1::AgendaItem> agenda = AgendaOf("ana", position);
  ASSERT_THAT(agenda, SizeIs(3));
  EXPECT_EQ(server_->scheduler().leads_read(), 3);
  for (const v1::Lead& lead : {a, b, c}) {
    EXPECT_THAT(EventsOf(lead.name(), "TaskScheduled"),
                SizeIs(lead.name() == a.name() ? 2 : 1));
  }
}

TEST_F(TaskServiceTest, ABatchOfClassificationsSchedulesInLogOrderPerLead) {
  std::vector<v1::Lead> leads;
  for (int i = 0; i < 24; ++i) leads.push_back(NewLead());
  server_.reset();
  {
    // Classified twice each while the server is down: the scheduler meets
    // all of it in one batch when it starts.
    auto store = eventstore::RocksDbEventStore::Open(
        {.path = dir_.Sub("data/eventlog")});
    ASSERT_THAT(store, IsOk());
    SequentialIdGenerator ids("offline");
    LeadCommandHandler handler(store->get(), &ids);
    const domain::WorkspaceSettings settings;
    for (const char* outcome : {"HOT_PROSPECT", "THERE_IS_A_CHANCE"}) {
      for (const v1::Lead& lead : leads) {
        ASSERT_THAT(handler.Execute(lead.name().substr(strlen("leads/")),
                                    domain::ClassifyLead{.outcome_id = outcome,
                                                         .settings = settings,
                                                         .now = kStart},
                                    {}),
                    IsOk());
      }
    }
  }
  Start();
  const uint64_t head = server_->store().HeadPosition();
  std::vector<v1::AgendaItem> agenda;
  v1::ListAgendaResponse response;
  ASSERT_TRUE(Agenda("ana", head, &response, 100).ok());
  // One open follow-up per lead, the later classification's: the earlier
  // one's was scheduled first and replaced.
  ASSERT_THAT(response.items(), SizeIs(leads.size()));
  for (const v1::AgendaItem& item : response.items()) {
    EXPECT_EQ(FromProto(item.task().due_time()), DayStart(DayOf(kStart) + 30));
  }
  for (const v1::Lead& lead : leads) {
    std::vector<eventstore::RecordedEvent> scheduled =
        EventsOf(lead.name(), "TaskScheduled");
    ASSERT_THAT(scheduled, SizeIs(2)) << lead.name();
    EXPECT_LT(scheduled[0].stream_version, scheduled[1].stream_version);
    std::vector<eventstore::RecordedEvent> classified =
        EventsOf(lead.name(), "LeadClassified");
    ASSERT_THAT(classified, SizeIs(2));
    EXPECT_EQ(scheduled[0].metadata.causation_id, classified[0].event_id);
    EXPECT_EQ(scheduled[1].metadata.causation_id, classified[1].event_id);
  }
}

TEST_F(TaskServiceTest, CreateTaskRetriesWithTheSameRequestIdWriteOnce) {
  const v1::Lead lead = NewLead();
  // Due later, so that no TaskDue moves the log meanwhile.
  const absl::Time due = kStart + absl::Hours(48);
  v1::CreateTaskResponse first =
      CreateTask(lead.name(), "call", due, 1, "req-1");
  const uint64_t head = server_->store().HeadPosition();
  v1::CreateTaskResponse again =
      CreateTask(lead.name(), "call", due, 1, "req-1");
  EXPECT_EQ(again.task().name(), first.task().name());
  EXPECT_EQ(server_->store().HeadPosition(), head);

  v1::CreateTaskRequest other;
  other.set_parent(lead.name());
  other.mutable_task()->set_title("something else");
  other.set_request_id("req-1");
  v1::CreateTaskResponse response;
  EXPECT_EQ(tasks_->CreateTask(Context().get(), other, &response).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(TaskServiceTest, CancelTaskRemovesItAndIsANoOpTheSecondTime) {
  const v1::Lead lead = NewLead();
  v1::CreateTaskResponse created =
      CreateTask(lead.name(), "call", kStart + absl::Hours(48));
  v1::CancelTaskRequest request;
  request.set_name(created.task().name());
  request.set_reason("not needed");
  v1::CancelTaskResponse response;
  ASSERT_TRUE(tasks_->CancelTask(Context().get(), request, &response).ok());
  EXPECT_THAT(AgendaOf("ana", response.log_position()), SizeIs(0));
  const uint64_t head = server_->store().HeadPosition();
  ASSERT_TRUE(tasks_->CancelTask(Context().get(), request, &response).ok());
  EXPECT_EQ(server_->store().HeadPosition(), head);
}

TEST_F(TaskServiceTest, BadRequestsNameTheirField) {
  const v1::Lead lead = NewLead();
  v1::CreateTaskResponse created = CreateTask(lead.name(), "call", kStart);
  v1::CompleteTaskResponse completed;

  grpc::Status status = Complete("leads/x", "", &completed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("name"));

  status = Complete(created.task().name(), "NO_SUCH_OUTCOME", &completed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("outcome"));

  status = Complete(absl::StrCat(lead.name(), "/tasks/nope"), "", &completed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(Complete(created.task().name(), "", &completed).ok());
  status = Complete(created.task().name(), "", &completed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListAgendaResponse agenda;
  status = Agenda("ana", 0, &agenda, 1001);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_size"));
  status = Agenda("", 0, &agenda);
  EXPECT_THAT(status.error_message(), HasSubstr("owner_id"));

  v1::CreateTaskRequest create;
  create.set_parent(lead.name());
  create.mutable_task()->set_title("");
  v1::CreateTaskResponse create_response;
  status = tasks_->CreateTask(Context().get(), create, &create_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("task.title"));
}

TEST_F(TaskServiceTest, MinPositionBeyondTheLogEndsAtTheDeadline) {
  NewLead();
  v1::ListAgendaRequest request;
  request.set_owner_id("ana");
  request.set_min_position(1'000'000);
  v1::ListAgendaResponse response;
  grpc::Status status = tasks_->ListAgenda(
      Context(absl::Milliseconds(300)).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(TaskServiceTest, QueriesAndMutationsWaitOnlyForTheirOwnKind) {
  query_threads_ = 1;
  Restart();
  // The only query worker waits for a log position that never comes.
  std::thread waiting([this] {
    v1::ListAgendaRequest request;
    request.set_owner_id("ana");
    request.set_min_position(1'000'000);
    v1::ListAgendaResponse response;
    EXPECT_EQ(
        tasks_->ListAgenda(Context(absl::Seconds(2)).get(), request, &response)
            .error_code(),
        grpc::StatusCode::DEADLINE_EXCEEDED);
  });
  absl::SleepFor(absl::Milliseconds(200));
  // Mutations have workers of their own.
  v1::CreateLeadRequest create;
  create.mutable_lead()->set_display_name("Heat pump");
  v1::CreateLeadResponse created;
  grpc::Status status =
      leads_->CreateLead(Context(absl::Seconds(1)).get(), create, &created);
  EXPECT_TRUE(status.ok()) << status.error_message();
  // Another query waits behind the first.
  v1::GetLeadRequest get;
  get.set_name(created.lead().name());
  v1::GetLeadResponse got;
  EXPECT_EQ(leads_->GetLead(Context(absl::Milliseconds(300)).get(), get, &got)
                .error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  waiting.join();
}

}  // namespace
}  // namespace leadledger::services
