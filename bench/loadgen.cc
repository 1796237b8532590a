// loadgen: drives a running leadledgerd over gRPC the way the internal
// services do, and measures it.
//
//   loadgen --server=127.0.0.1:50051 [--concurrency=64] [--duration=20s]
//           [--calls=N] [--leads=2000] [--zipf=1.1] [--mode=both]
//
// Mixed mode keeps `concurrency` calls in flight (callback API: no thread
// per call) with the workload of the lead desk: CreateLead 20%, ClassifyLead
// 25%, CompleteTask 10%, UpdateLead 10%, GetLead 15%, ListLeads 10%,
// ListAgenda 10% (--mix changes the blend), leads chosen with a Zipf skew.
// Echo mode calls the cheapest RPC the server has, the health check, at the
// same concurrency: the baseline of the same machine in the same run. Then,
// once the read models and the scheduler have caught up with the load
// (settle_ms), one caller classifies one lead at a time, for
// classify_c1_p50_us, and then calls the health check one at a time as its
// baseline (echo_c1_p50_us).
//
// Prints per RPC: calls, throughput, p50/p90/p99/p99.9 latency and errors by
// code; per mode, the CPU time each call cost the load generator and, given
// --server_pid, the server; the last line is "summary: key=value ...". A
// progress line goes to stderr while it is a terminal.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/latency_histogram.h"
#include "google/protobuf/arena.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "leadledger/v1/admin_service.grpc.pb.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "leadledger/v1/task_service.grpc.pb.h"
#include "tools/status_code_name.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "leadledgerd's host:port");
ABSL_FLAG(int, concurrency, 64, "calls in flight");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20),
          "how long each mode runs (unless --calls ends it first)");
ABSL_FLAG(int64_t, calls, 0, "calls per mode; 0: run for --duration");
ABSL_FLAG(int, leads, 2000, "leads created before measuring, chosen by Zipf");
ABSL_FLAG(double, zipf, 1.1, "Zipf exponent of the choice of lead");
ABSL_FLAG(int, owners, 20, "owners the leads are spread over");
ABSL_FLAG(std::string, mode, "both", "mixed, echo or both");
ABSL_FLAG(std::string, mix,
          "create=20,classify=25,complete=10,update=10,get=15,list=10,"
          "agenda=10",
          "the mixed workload: weights of create, classify, complete, update, "
          "get, list and agenda calls, to measure one RPC or another blend. "
          "An RPC left out is not called, but for ListAgenda: a completion "
          "lists the agenda instead while no open task is known");
ABSL_FLAG(int, classify_c1_calls, 300,
          "classifications by a single caller, one at a time, and as many "
          "health checks as their baseline (0: skip)");
ABSL_FLAG(uint64_t, seed, 1, "random seed");
ABSL_FLAG(int, server_pid, 0,
          "leadledgerd's process id, when it runs on this machine: the CPU "
          "time it spends per call is reported too (0: not reported)");

namespace leadledger::bench {
namespace {

enum class Op {
  kCreate,
  kClassify,
  kComplete,
  kUpdate,
  kGet,
  kList,
  kAgenda,
  kEcho,
  kCount
};

const char* OpName(Op op) {
  static const char* kNames[] = {"CreateLead", "ClassifyLead", "CompleteTask",
                                 "UpdateLead", "GetLead",      "ListLeads",
                                 "ListAgenda", "Health.Check"};
  return kNames[static_cast<int>(op)];
}

// The mixed workload's weight of each RPC, indexed by Op up to kEcho.
using Mix = std::array<int, static_cast<size_t>(Op::kEcho)>;

// Parses --mix ("create=20,classify=25,..."); an error names what is wrong.
absl::StatusOr<Mix> ParseMix(absl::string_view text) {
  static const char* kKeys[] = {"create", "classify", "complete", "update",
                                "get",    "list",     "agenda"};
  Mix mix{};
  std::set<std::string> seen;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    const std::pair<std::string, std::string> key_value =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    const auto* key =
        std::find(std::begin(kKeys), std::end(kKeys), key_value.first);
    if (key == std::end(kKeys)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--mix must name create, classify, complete, update, get, list or "
          "agenda, got \"",
          key_value.first, "\""));
    }
    int weight = 0;
    if (!absl::SimpleAtoi(key_value.second, &weight) || weight < 0 ||
        weight > 1'000'000) {
      return absl::InvalidArgumentError(
          absl::StrCat("--mix: the weight of ", key_value.first,
                       " must be an integer in [0, 1000000], got \"",
                       key_value.second, "\""));
    }
    if (!seen.insert(key_value.first).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--mix must give each RPC once, got ", key_value.first, " twice"));
    }
    mix[key - std::begin(kKeys)] = weight;
  }
  if (std::accumulate(mix.begin(), mix.end(), 0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--mix must give some RPC a positive weight, got \"", text, "\""));
  }
  return mix;
}

// Ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^s.
class Zipf {
 public:
  Zipf(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
      cdf_[k] = sum;
    }
    for (double& c : cdf_) c /= sum;
  }
  template <typename Random>
  size_t Next(Random& random) {
    const double u = std::uniform_real_distribution<double>(0, 1)(random);
    return static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) -
                               cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

struct OpStats {
  LatencyHistogram latency;
  std::map<grpc::StatusCode, int64_t> errors;
  // The first message of each code, to tell the reasons apart.
  std::map<grpc::StatusCode, std::string> first_messages;
};

// CPU seconds (user and system, all threads) that process `pid` has used,
// from /proc/<pid>/stat; nullopt when that cannot be read.
std::optional<double> ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // The command name, in parentheses, may hold spaces: fields are counted
  // from the last ')'. utime and stime are fields 14 and 15 of the line,
  // the 12th and 13th after it.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  const std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
  uint64_t user_ticks = 0;
  uint64_t system_ticks = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user_ticks) ||
      !absl::SimpleAtoi(fields[12], &system_ticks)) {
    return std::nullopt;
  }
  return static_cast<double>(user_ticks + system_ticks) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The CPU time the load generator, and the server when its process is
// known, had used at one moment.
struct CpuMark {
  double loadgen = 0;
  std::optional<double> server;
};

CpuMark MarkCpu(int server_pid) {
  CpuMark mark{.loadgen = OwnCpuSeconds()};
  if (server_pid > 0) mark.server = ProcessCpuSeconds(server_pid);
  return mark;
}

struct RunResult {
  absl::Duration elapsed;
  std::map<Op, OpStats> ops;
  uint64_t calls() const {
    uint64_t n = 0;
    for (const auto& [op, stats] : ops) n += stats.latency.count();
    return n;
  }
  LatencyHistogram all() const {
    LatencyHistogram merged;
    for (const auto& [op, stats] : ops) merged.Merge(stats.latency);
    return merged;
  }
};

class Driver {
 public:
  Driver(std::shared_ptr<grpc::Channel> channel, const Mix& mix, uint64_t seed)
      : mix_(mix),
        mix_total_(std::accumulate(mix.begin(), mix.end(), 0)),
        leads_stub_(v1::LeadService::NewStub(channel)),
        tasks_stub_(v1::TaskService::NewStub(channel)),
        health_stub_(grpc::health::v1::Health::NewStub(channel)),
        admin_stub_(v1::AdminService::NewStub(channel)),
        random_(seed) {}

  // Waits until every read model and the scheduler have folded the whole
  // log (the backlog a load leaves behind), up to `limit`. Returns how long
  // that took, or nullopt when the limit passed first or the server cannot
  // say.
  std::optional<absl::Duration> Settle(absl::Duration limit) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < limit) {
      v1::GetProjectionStatusRequest request;
      v1::GetProjectionStatusResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      if (!admin_stub_->GetProjectionStatus(&context, request, &response)
               .ok()) {
        return std::nullopt;
      }
      bool settled = true;
      for (const v1::ProjectionStatus& projection : response.projections()) {
        if (projection.lag() > 0) settled = false;
      }
      if (settled) return absl::Now() - start;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return std::nullopt;
  }

  // Creates the lead pool the mixed workload chooses from.
  bool Prepare(int leads, int owners, double zipf) {
    owners_ = owners;
    for (int i = 0; i < leads; ++i) {
      v1::CreateLeadRequest request;
      FillLead(*request.mutable_lead(), i);
      v1::CreateLeadResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      grpc::Status status =
          leads_stub_->CreateLead(&context, request, &response);
      if (!status.ok()) {
        std::fprintf(stderr, "loadgen: cannot create leads: %s: %s\n",
                     tools::StatusCodeName(status.error_code()).c_str(),
                     status.error_message().c_str());
        return false;
      }
      pool_.push_back(response.lead().name());
    }
    zipf_ = std::make_unique<Zipf>(pool_.size(), zipf);
    return true;
  }

  RunResult Run(bool echo, int concurrency, absl::Duration duration,
                int64_t max_calls) {
    echo_ = echo;
    result_ = RunResult{};
    issued_ = 0;
    max_calls_ = max_calls;
    stop_at_ = absl::Now() + duration;
    in_flight_ = concurrency;
    done_ = std::make_unique<absl::Notification>();
    const absl::Time start = absl::Now();
    for (int i = 0; i < concurrency; ++i) IssueNext();
    const bool tty = isatty(STDERR_FILENO);
    while (!done_->WaitForNotificationWithTimeout(absl::Seconds(1))) {
      if (tty) {
        uint64_t calls = 0;
        {
          absl::MutexLock lock(&mu_);
          calls = result_.calls();
        }
        const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
        std::fprintf(stderr, "\r%s: %llu calls, %.0f/s   ",
                     echo ? "echo" : "mixed",
                     static_cast<unsigned long long>(calls),
                     static_cast<double>(calls) / seconds);
      }
    }
    if (tty) std::fprintf(stderr, "\r%60s\r", "");
    absl::MutexLock lock(&mu_);
    result_.elapsed = absl::Now() - start;
    return result_;
  }

  // One caller, one classification at a time.
  // Classifies `calls` leads created for it (untimed), one call at a time:
  // each call changes its lead's classification, so each appends (and
  // fsyncs) its events. Leads of the mixed pool could already have the
  // outcome, which makes the call a no-op.
  // The baseline of ClassifyOneAtATime: the health check, one at a time.
  LatencyHistogram EchoOneAtATime(int calls) {
    LatencyHistogram latency;
    for (int i = 0; i < calls; ++i) {
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      const absl::Time start = absl::Now();
      if (health_stub_->Check(&context, request, &response).ok()) {
        latency.Add(absl::ToInt64Microseconds(absl::Now() - start));
      }
    }
    return latency;
  }

  LatencyHistogram ClassifyOneAtATime(int calls) {
    LatencyHistogram latency;
    std::vector<std::string> fresh;
    for (int i = 0; i < calls; ++i) {
      v1::CreateLeadRequest request;
      FillLead(*request.mutable_lead(), 1'000'000 + i);
      v1::CreateLeadResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      if (leads_stub_->CreateLead(&context, request, &response).ok()) {
        fresh.push_back(response.lead().name());
      }
    }
    static const char* kOutcomes[] = {"POTENTIAL_CONSULTANT", "HOT_PROSPECT",
                                      "THERE_IS_A_CHANCE", "ON_THE_FENCE"};
    for (size_t i = 0; i < fresh.size(); ++i) {
      v1::ClassifyLeadRequest request;
      request.set_name(fresh[i]);
      request.set_classification(kOutcomes[i % 4]);
      v1::ClassifyLeadResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      const absl::Time start = absl::Now();
      grpc::Status status =
          leads_stub_->ClassifyLead(&context, request, &response);
      if (status.ok()) {
        latency.Add(absl::ToInt64Microseconds(absl::Now() - start));
      }
    }
    return latency;
  }

 private:
  void FillLead(v1::Lead& lead, int i) {
    lead.set_display_name(absl::StrCat("Load lead ", i));
    lead.set_contact_name(absl::StrCat("Contact ", i));
    lead.set_email(absl::StrCat("contact", i, "@load.example"));
    lead.set_owner_id(absl::StrCat("owner-", i % std::max(owners_, 1)));
  }

  // Chooses the next call and starts it; called again from its completion.
  void IssueNext() {
    Op op = Op::kEcho;
    std::string lead;
    std::string task;
    int variant = 0;
    {
      absl::MutexLock lock(&mu_);
      if (absl::Now() >= stop_at_ ||
          (max_calls_ > 0 && issued_ >= max_calls_)) {
        if (--in_flight_ == 0) done_->Notify();
        return;
      }
      ++issued_;
      if (!echo_) {
        int roll = static_cast<int>(random_() % mix_total_);
        int chosen = 0;
        while (roll >= mix_[chosen]) roll -= mix_[chosen++];
        op = static_cast<Op>(chosen);
        lead = pool_[zipf_->Next(random_)];
        variant = static_cast<int>(random_() % 1000000);
        if (op == Op::kComplete) {
          if (tasks_.empty()) {
            op = Op::kAgenda;  // find open tasks first
          } else {
            // The task listed last: the one most likely still open, as a
            // user completes a task they have just seen.
            task = std::move(tasks_.back());
            tasks_.pop_back();
          }
        }
      }
    }
    switch (op) {
      case Op::kCreate: {
        v1::CreateLeadRequest request;
        FillLead(*request.mutable_lead(), variant);
        Start<v1::CreateLeadResponse>(
            op, request,
            [this](grpc::ClientContext* c, const auto* q, auto* r,
                   std::function<void(grpc::Status)> done) {
              leads_stub_->async()->CreateLead(c, q, r, std::move(done));
            });
        break;
      }
      case Op::kClassify: {
        static const char* kOutcomes[] = {"POTENTIAL_CONSULTANT",
                                          "HOT_PROSPECT", "THERE_IS_A_CHANCE",
                                          "ON_THE_FENCE"};
        v1::ClassifyLeadRequest request;
        request.set_name(lead);
        request.set_classification(kOutcomes[variant % 4]);
        Start<v1::ClassifyLeadResponse>(
            op, request,
            [this](grpc::ClientContext* c, const auto* q, auto* r,
                   std::function<void(grpc::Status)> done) {
              leads_stub_->async()->ClassifyLead(c, q, r, std::move(done));
            });
        break;
      }
      case Op::kComplete: {
        static const char* kOutcomes[] = {"NOT_SURE_YET", "HOT_PROSPECT",
                                          "NOT_INTERESTED", ""};
        v1::CompleteTaskRequest request;
        request.set_name(task);
        request.set_outcome(kOutcomes[variant % 4]);
        request.set_note("called");
        Start<v1::CompleteTaskResponse>(
            op, request,
            [this](grpc::ClientContext* c, const auto* q, auto* r,
                   std::function<void(grpc::Status)> done) {
              tasks_stub_->async()->CompleteTask(c, q, r, std::move(done));
            });
        break;
      }
      case Op::kUpdate: {
        v1::UpdateLeadRequest request;
        request.mutable_lead()->set_name(lead);
        request.mutable_lead()->set_description(
            absl::StrCat("Notes, revision ", variant));
        request.mutable_update_mask()->add_paths("description");
        Start<v1::UpdateLeadResponse>(
            op, request,
            [this](grpc::ClientContext* c, const auto* q, auto* r,
                   std::function<void(grpc::Status)> done) {
              leads_stub_->async()->UpdateLead(c, q, r, std::move(done));
            });
        break;
      }
      case Op::kGet: {
        v1::GetLeadRequest request;
        request.set_name(lead);
        Start<v1::GetLeadResponse>(
            op, request,
            [this](grpc::ClientContext* c, const auto* q, auto* r,
                   std::function<void(grpc::Status)> done) {
              leads_stub_->async()->GetLead(c, q, r, std::move(done));
            });
        break;
      }
      case Op::kList: {
        v1::ListLeadsRequest request;
        request.set_owner_id(absl::StrCat("owner-", variant % owners_));
        request.set_page_size(50);
        Start<v1::ListLeadsResponse>(
            op, request,
            [this](grpc::ClientContext* c, const auto* q, auto* r,
                   std::function<void(grpc::Status)> done) {
              leads_stub_->async()->ListLeads(c, q, r, std::move(done));
            });
        break;
      }
      case Op::kAgenda: {
        v1::ListAgendaRequest request;
        request.set_owner_id(absl::StrCat("owner-", variant % owners_));
        request.set_page_size(50);
        Start<v1::ListAgendaResponse>(
            op, request,
            [this](grpc::ClientContext* c, const auto* q, auto* r,
                   std::function<void(grpc::Status)> done) {
              tasks_stub_->async()->ListAgenda(c, q, r, std::move(done));
            },
            [this](const v1::ListAgendaResponse& response) {
              absl::MutexLock lock(&mu_);
              for (const v1::AgendaItem& item : response.items()) {
                if (tasks_.size() >= 10000) break;
                // Each open task is offered once: a second completion of it
                // would only measure a refusal.
                if (offered_.insert(item.task().name()).second) {
                  tasks_.push_back(item.task().name());
                }
              }
            });
        break;
      }
      case Op::kEcho:
      case Op::kCount: {
        grpc::health::v1::HealthCheckRequest request;
        auto* call = new Call<grpc::health::v1::HealthCheckRequest,
                              grpc::health::v1::HealthCheckResponse>(request);
        health_stub_->async()->Check(&call->context, &call->request,
                                     call->response,
                                     [this, call](grpc::Status status) {
                                       Finish(Op::kEcho, call->start, status);
                                       delete call;
                                       IssueNext();
                                     });
        break;
      }
    }
  }

  template <typename Request, typename Response>
  struct Call {
    explicit Call(Request r)
        : request(std::move(r)),
          response(google::protobuf::Arena::CreateMessage<Response>(&arena)),
          start(absl::Now()) {
      context.set_deadline(absl::ToChronoTime(start + absl::Seconds(30)));
      context.AddMetadata("x-actor", "loadgen");
    }
    grpc::ClientContext context;
    Request request;
    // A page of leads parses into one arena and is freed with it.
    google::protobuf::Arena arena;
    Response* response;
    absl::Time start;
  };

  // Starts the call `issue` makes (a stub's async method) with `request`;
  // its completion records it, hands the response to `on_ok` and starts the
  // next call.
  template <typename Response, typename Request, typename Issue>
  void Start(Op op, const Request& request, Issue issue,
             std::function<void(const Response&)> on_ok = nullptr) {
    auto* call = new Call<Request, Response>(request);
    issue(&call->context, &call->request, call->response,
          [this, op, call, on_ok](grpc::Status status) {
            Finish(op, call->start, status);
            if (status.ok() && on_ok) on_ok(*call->response);
            delete call;
            IssueNext();
          });
  }

  void Finish(Op op, absl::Time start, const grpc::Status& status) {
    const int64_t micros = absl::ToInt64Microseconds(absl::Now() - start);
    absl::MutexLock lock(&mu_);
    OpStats& stats = result_.ops[op];
    stats.latency.Add(static_cast<uint64_t>(std::max<int64_t>(micros, 0)));
    if (!status.ok()) {
      ++stats.errors[status.error_code()];
      stats.first_messages.try_emplace(status.error_code(),
                                       status.error_message());
    }
  }

  const Mix mix_;
  const int mix_total_;
  std::unique_ptr<v1::LeadService::Stub> leads_stub_;
  std::unique_ptr<v1::TaskService::Stub> tasks_stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_stub_;
  std::unique_ptr<v1::AdminService::Stub> admin_stub_;
  std::vector<std::string> pool_;
  std::unique_ptr<Zipf> zipf_;
  int owners_ = 1;
  bool echo_ = false;

  absl::Mutex mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  RunResult result_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> tasks_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> offered_ ABSL_GUARDED_BY(mu_);
  int64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_calls_ = 0;
  absl::Time stop_at_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<absl::Notification> done_;
};

void PrintRun(const char* title, const RunResult& run) {
  const double seconds = absl::ToDoubleSeconds(run.elapsed);
  std::printf("%s: %llu calls in %.1f s, %.0f calls/s\n", title,
              static_cast<unsigned long long>(run.calls()), seconds,
              static_cast<double>(run.calls()) / seconds);
  std::printf("  %-14s %9s %9s %9s %9s %9s %9s  %s\n", "rpc", "calls", "qps",
              "p50_us", "p90_us", "p99_us", "p99.9_us", "errors");
  for (const auto& [op, stats] : run.ops) {
    std::string errors;
    for (const auto& [code, count] : stats.errors) {
      absl::StrAppend(&errors, errors.empty() ? "" : " ",
                      tools::StatusCodeName(code), "=", count);
    }
    std::printf("  %-14s %9llu %9.0f %9.0f %9.0f %9.0f %9.0f  %s\n", OpName(op),
                static_cast<unsigned long long>(stats.latency.count()),
                static_cast<double>(stats.latency.count()) / seconds,
                stats.latency.Quantile(0.5), stats.latency.Quantile(0.9),
                stats.latency.Quantile(0.99), stats.latency.Quantile(0.999),
                errors.empty() ? "-" : errors.c_str());
  }
  for (const auto& [op, stats] : run.ops) {
    for (const auto& [code, message] : stats.first_messages) {
      std::printf("  %s %s, first: %s\n", OpName(op),
                  tools::StatusCodeName(code).c_str(), message.c_str());
    }
  }
}

// What is wrong with the flags, naming the first bad one; empty when
// nothing is. Checked before the server is called: a run that cannot end,
// or would divide by an empty run, is refused up front.
std::string FlagError() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "mixed" && mode != "echo" && mode != "both") {
    return absl::StrCat("--mode must be mixed, echo or both, got \"", mode,
                        "\"");
  }
  if (absl::GetFlag(FLAGS_server).empty()) return "--server must be set";
  if (absl::StatusOr<Mix> mix = ParseMix(absl::GetFlag(FLAGS_mix)); !mix.ok()) {
    return std::string(mix.status().message());
  }
  for (const std::string& error :
       {FlagOutOfRange("concurrency", absl::GetFlag(FLAGS_concurrency), 1,
                       10'000),
        FlagOutOfRange("leads", absl::GetFlag(FLAGS_leads), 1, 1'000'000),
        FlagOutOfRange("owners", absl::GetFlag(FLAGS_owners), 1, 10'000),
        FlagOutOfRange("classify_c1_calls",
                       absl::GetFlag(FLAGS_classify_c1_calls), 0, 1'000'000)}) {
    if (!error.empty()) return error;
  }
  const int64_t calls = absl::GetFlag(FLAGS_calls);
  if (calls < 0) {
    return absl::StrCat("--calls must not be negative, got ", calls);
  }
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  if (calls == 0 && (duration <= absl::ZeroDuration() ||
                     duration == absl::InfiniteDuration())) {
    return absl::StrCat(
        "--duration must be positive and finite when --calls is 0, got ",
        absl::FormatDuration(duration));
  }
  if (const double zipf = absl::GetFlag(FLAGS_zipf);
      !std::isfinite(zipf) || zipf < 0) {
    return absl::StrCat("--zipf must be a finite number >= 0, got ", zipf);
  }
  if (const int pid = absl::GetFlag(FLAGS_server_pid);
      pid < 0 || (pid > 0 && !ProcessCpuSeconds(pid).has_value())) {
    return absl::StrCat(
        "--server_pid must be 0 or a process of this machine whose "
        "/proc/<pid>/stat is readable, got ",
        pid);
  }
  return "";
}

int Main() {
  if (const std::string error = FlagError(); !error.empty()) {
    std::fprintf(stderr, "loadgen: %s\n", error.c_str());
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  grpc::ChannelArguments arguments;
  // Separate connections per channel object would spread load over the
  // server's pollers like several client processes do.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server),
                                grpc::InsecureChannelCredentials(), arguments);
  Driver driver(channel, *ParseMix(absl::GetFlag(FLAGS_mix)),
                absl::GetFlag(FLAGS_seed));
  std::map<std::string, double> summary;
  if (mode != "echo") {
    if (!driver.Prepare(absl::GetFlag(FLAGS_leads), absl::GetFlag(FLAGS_owners),
                        absl::GetFlag(FLAGS_zipf))) {
      return 1;
    }
  }
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const int64_t calls = absl::GetFlag(FLAGS_calls);
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  // CPU time per call of a mode, of both processes: on a shared machine it
  // tells what the throughput ratio is made of. The server's is read as the
  // mode ends; what it folds after that (settle_ms) is left out.
  auto cpu_per_call = [&](const std::string& name, const CpuMark& before,
                          uint64_t mode_calls) {
    const CpuMark after = MarkCpu(server_pid);
    if (mode_calls == 0) return;
    const double per_call = 1e6 / static_cast<double>(mode_calls);
    summary[name + "_loadgen_cpu_us"] =
        (after.loadgen - before.loadgen) * per_call;
    std::string line = absl::StrFormat("  CPU per call: loadgen %.0f us",
                                       summary[name + "_loadgen_cpu_us"]);
    if (before.server.has_value() && after.server.has_value()) {
      summary[name + "_server_cpu_us"] =
          (*after.server - *before.server) * per_call;
      absl::StrAppendFormat(&line, ", leadledgerd %.0f us",
                            summary[name + "_server_cpu_us"]);
    }
    std::printf("%s\n", line.c_str());
  };
  if (mode != "mixed") {
    const CpuMark before = MarkCpu(server_pid);
    RunResult echo = driver.Run(true, concurrency, duration, calls);
    PrintRun("echo", echo);
    cpu_per_call("echo", before, echo.calls());
    summary["echo_qps"] =
        static_cast<double>(echo.calls()) / absl::ToDoubleSeconds(echo.elapsed);
    summary["echo_p99_us"] = echo.all().Quantile(0.99);
  }
  if (mode != "echo") {
    const CpuMark before = MarkCpu(server_pid);
    RunResult mixed = driver.Run(false, concurrency, duration, calls);
    PrintRun("mixed", mixed);
    std::printf("  mix: %s\n", absl::GetFlag(FLAGS_mix).c_str());
    cpu_per_call("mixed", before, mixed.calls());
    uint64_t errors = 0;
    for (const auto& [op, stats] : mixed.ops) {
      for (const auto& [code, count] : stats.errors) errors += count;
    }
    summary["mixed_qps"] = static_cast<double>(mixed.calls()) /
                           absl::ToDoubleSeconds(mixed.elapsed);
    summary["mixed_p50_us"] = mixed.all().Quantile(0.5);
    summary["mixed_p99_us"] = mixed.all().Quantile(0.99);
    summary["mixed_errors"] = static_cast<double>(errors);
    const int c1_calls = absl::GetFlag(FLAGS_classify_c1_calls);
    if (c1_calls > 0) {
      // One caller measures a server at rest, not one still folding what
      // the mixed load left behind.
      std::optional<absl::Duration> settled = driver.Settle(absl::Seconds(60));
      if (settled.has_value()) {
        std::printf(
            "read models and scheduler caught up %.2f s after the "
            "load\n",
            absl::ToDoubleSeconds(*settled));
        summary["settle_ms"] = absl::ToDoubleMilliseconds(*settled);
      } else {
        std::printf("read models and scheduler still behind after 60 s\n");
      }
      LatencyHistogram c1 = driver.ClassifyOneAtATime(c1_calls);
      std::printf(
          "classify, one caller: %llu calls, p50 %.0f us, p99 %.0f us\n",
          static_cast<unsigned long long>(c1.count()), c1.Quantile(0.5),
          c1.Quantile(0.99));
      summary["classify_c1_p50_us"] = c1.Quantile(0.5);
      LatencyHistogram echo_c1 = driver.EchoOneAtATime(c1_calls);
      std::printf("health check, one caller: %llu calls, p50 %.0f us\n",
                  static_cast<unsigned long long>(echo_c1.count()),
                  echo_c1.Quantile(0.5));
      summary["echo_c1_p50_us"] = echo_c1.Quantile(0.5);
    }
  }
  if (summary.count("mixed_qps") && summary.count("echo_qps") &&
      summary["echo_qps"] > 0) {
    summary["mixed_over_echo"] = summary["mixed_qps"] / summary["echo_qps"];
  }
  std::string line = "summary:";
  for (const auto& [key, value] : summary) {
    absl::StrAppend(&line, " ", key, "=", absl::StrFormat("%.6g", value));
  }
  absl::StrAppend(&line, " concurrency=", concurrency);
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace
}  // namespace leadledger::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "loadgen --server=HOST:PORT [--concurrency=64] [--duration=20s] "
      "[--mode=both|mixed|echo]");
  absl::ParseCommandLine(argc, argv);
  return leadledger::bench::Main();
}
