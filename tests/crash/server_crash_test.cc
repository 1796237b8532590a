// System crash test: the real leadledgerd under load from clients that
// record every acknowledged mutation, SIGKILLed at random moments round
// after round and restarted each time. Afterwards:
//   - every acknowledged mutation is in the log, at the version and position
//     it was acknowledged with;
//   - every lead's row in the lead list equals the fold of its stream;
//   - the read models, caught up, equal a fold of the whole log from
//     scratch, key by key (the agenda included);
//   - no follow-up task was scheduled twice for one cause, and no lead has
//     more than one open automatic follow-up.
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "domain/id_generator.h"
#include "domain/lead_decider.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "leadledger/v1/task_service.grpc.pb.h"
#include "projections/event_codec.h"
#include "tests/testing/read_model_rows.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger {
namespace {

using ::leadledger::testing::IsOk;

constexpr int kRounds = 20;
constexpr int kClients = 6;

// A mutation the server acknowledged: the lead's etag and the log position
// of its last event at that moment.
struct Ack {
  std::string lead_id;
  int64_t version = 0;
  uint64_t position = 0;
};

class Client {
 public:
  Client(const std::string& address, int client, int round, absl::Mutex* mu,
         std::vector<Ack>* acks)
      : channel_(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        leads_(v1::LeadService::NewStub(channel_)),
        tasks_(v1::TaskService::NewStub(channel_)),
        prefix_(absl::StrCat("c", client, "r", round, "-")),
        mu_(mu),
        acks_(acks) {}

  void Run(const std::atomic<bool>& stop) {
    int n = 0;
    while (!stop) {
      const int roll = absl::Uniform(random_, 0, 100);
      if (mine_.empty() || roll < 20) {
        Create(n++);
      } else {
        const std::string& lead =
            mine_[absl::Uniform<size_t>(random_, 0, mine_.size())];
        if (roll < 55) {
          static const char* kOutcomes[] = {"POTENTIAL_CONSULTANT",
                                            "HOT_PROSPECT", "THERE_IS_A_CHANCE",
                                            "ON_THE_FENCE"};
          v1::ClassifyLeadRequest request;
          request.set_name(lead);
          request.set_classification(kOutcomes[roll % 4]);
          request.set_request_id(absl::StrCat(prefix_, "cl", n++));
          v1::ClassifyLeadResponse response;
          Record(leads_->ClassifyLead(Context().get(), request, &response),
                 response);
        } else if (roll < 75) {
          v1::CreateTaskRequest request;
          request.set_parent(lead);
          request.mutable_task()->set_title("Call");
          request.set_request_id(absl::StrCat(prefix_, "t", n++));
          v1::CreateTaskResponse created;
          grpc::Status status =
              tasks_->CreateTask(Context().get(), request, &created);
          if (!status.ok()) continue;
          v1::CompleteTaskRequest complete;
          complete.set_name(created.task().name());
          complete.set_outcome(roll % 2 == 0 ? "NOT_SURE_YET" : "HOT_PROSPECT");
          complete.set_request_id(absl::StrCat(prefix_, "ct", n++));
          v1::CompleteTaskResponse response;
          Record(tasks_->CompleteTask(Context().get(), complete, &response),
                 response);
        } else if (roll < 88) {
          v1::MarkLeadLostRequest request;
          request.set_name(lead);
          request.set_request_id(absl::StrCat(prefix_, "l", n++));
          v1::MarkLeadLostResponse response;
          Record(leads_->MarkLeadLost(Context().get(), request, &response),
                 response);
        } else {
          v1::RestoreLeadRequest request;
          request.set_name(lead);
          request.set_request_id(absl::StrCat(prefix_, "r", n++));
          v1::RestoreLeadResponse response;
          Record(leads_->RestoreLead(Context().get(), request, &response),
                 response);
        }
      }
    }
  }

 private:
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    return context;
  }

  void Create(int n) {
    v1::CreateLeadRequest request;
    request.mutable_lead()->set_display_name(absl::StrCat("Lead ", prefix_, n));
    request.mutable_lead()->set_owner_id(absl::StrCat("owner-", n % 3));
    request.set_request_id(absl::StrCat(prefix_, "c", n));
    v1::CreateLeadResponse response;
    if (Record(leads_->CreateLead(Context().get(), request, &response),
               response)) {
      mine_.push_back(response.lead().name());
    }
  }

  // `status` is the call's, and `response` the message it filled (a
  // separate argument would be read before the call).
  template <typename Response>
  bool Record(const grpc::Status& status, const Response& response) {
    if (!status.ok()) return false;
    const v1::Lead& lead = response.lead();
    const uint64_t position = response.log_position();
    Ack ack{.lead_id = lead.name().substr(strlen("leads/")),
            .position = position};
    EXPECT_TRUE(absl::SimpleAtoi(lead.etag(), &ack.version)) << lead.etag();
    absl::MutexLock lock(mu_);
    acks_->push_back(std::move(ack));
    return true;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::TaskService::Stub> tasks_;
  const std::string prefix_;
  absl::BitGen random_;
  std::vector<std::string> mine_;
  absl::Mutex* mu_;
  std::vector<Ack>* acks_;
};

TEST(ServerCrashTest, NothingAcknowledgedIsLostAndReadModelsConverge) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  absl::Mutex mu;
  std::vector<Ack> acks;
  absl::BitGen random;
  for (int round = 0; round < kRounds; ++round) {
    testing::ServerProcess server(LEADLEDGERD_PATH, dir, data,
                                  {"--timer_interval=50ms"});
    ASSERT_TRUE(server.WaitUntilServing()) << server.log();
    std::atomic<bool> stop = false;
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(
          [&, c] { Client(server.address(), c, round, &mu, &acks).Run(stop); });
    }
    absl::SleepFor(absl::Milliseconds(absl::Uniform(random, 200, 900)));
    server.Kill();
    stop = true;
    for (std::thread& client : clients) client.join();
  }
  {
    // One clean run lets the scheduler finish what the last crash cut off.
    testing::ServerProcess server(LEADLEDGERD_PATH, dir, data);
    ASSERT_TRUE(server.WaitUntilServing()) << server.log();
    absl::SleepFor(absl::Seconds(1));
    ASSERT_EQ(server.Terminate(), 0) << server.log();
  }
  ASSERT_GT(acks.size(), 100u);

  auto store =
      eventstore::RocksDbEventStore::Open({.path = data + "/eventlog"});
  ASSERT_THAT(store.status(), IsOk());
  for (const Ack& ack : acks) {
    auto events =
        (*store)->ReadStream(absl::StrCat("lead-", ack.lead_id),
                             {.from_version = ack.version, .max_count = 1});
    ASSERT_THAT(events.status(), IsOk());
    ASSERT_EQ(events->size(), 1u) << "acknowledged version " << ack.version
                                  << " of " << ack.lead_id << " is missing";
    EXPECT_EQ((*events)[0].position, ack.position) << ack.lead_id;
  }

  // Fold every lead stream, checking follow-ups on the way.
  std::map<std::string, domain::Lead> folded;
  std::set<std::string> causes;
  for (uint64_t from = 1;;) {
    auto events = (*store)->ReadAll({.from_position = from, .max_count = 1000});
    ASSERT_THAT(events.status(), IsOk());
    if (events->empty()) break;
    for (const eventstore::RecordedEvent& event : *events) {
      from = event.position + 1;
      if (event.stream.rfind("lead-", 0) != 0) continue;
      auto decoded = projections::DecodeLeadEvent(event);
      ASSERT_THAT(decoded.status(), IsOk());
      if (const auto* scheduled =
              std::get_if<domain::TaskScheduled>(&*decoded)) {
        if (scheduled->task.automatic) {
          EXPECT_TRUE(causes.insert(scheduled->task.cause_event_id).second)
              << "two follow-ups for cause " << scheduled->task.cause_event_id;
        }
      }
      domain::Lead& lead = folded[event.stream.substr(5)];
      lead = domain::Evolve(std::move(lead), *decoded);
    }
  }
  for (const auto& [id, lead] : folded) {
    int automatic = 0;
    for (const auto& [task_id, task] : lead.open_tasks) {
      automatic += task.automatic ? 1 : 0;
    }
    EXPECT_LE(automatic, 1) << id;
  }

  const std::map<std::string, std::string> recovered =
      testing::CaughtUpRows(**store, data + "/projections");
  const std::map<std::string, std::string> fresh =
      testing::CaughtUpRows(**store, dir.Sub("fresh"));
  EXPECT_EQ(recovered.size(), fresh.size());
  EXPECT_TRUE(recovered == fresh)
      << "the server's read models differ from a fold from scratch";
  // The lead list's rows are the folds of the streams.
  int rows = 0;
  for (const auto& [key, value] : recovered) {
    if (key.rfind("leads|r/", 0) != 0) continue;
    ++rows;
    auto stored = projections::DecodeLeadRow(value);
    ASSERT_THAT(stored.status(), IsOk());
    // A row keeps all of the lead but the ids of its past tasks.
    domain::Lead expected = folded[key.substr(strlen("leads|r/"))];
    expected.known_task_ids.clear();
    EXPECT_EQ(stored->lead, expected) << key;
  }
  ::testing::Test::RecordProperty("acknowledged", acks.size());
  ::testing::Test::RecordProperty("lead_rows", rows);
}

}  // namespace
}  // namespace leadledger
