#include "services/follow_up_scheduler.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "domain/classification.h"
#include "domain/lead_decider.h"
#include "domain/overloaded.h"
#include "domain/status_macros.h"
#include "eventstore/rocksdb_thread.h"
#include "projections/agenda.h"
#include "projections/decoded_event.h"
#include "projections/event_codec.h"
#include "projections/lead_event_types.h"

namespace leadledger::services {
namespace {

constexpr absl::string_view kLeadStreamPrefix = "lead-";
constexpr char kSchedulerActor[] = "scheduler";

// Errors a later attempt cannot fix: the lead was closed, merged or deleted
// meanwhile, so the effect no longer applies.
bool EffectNoLongerApplies(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

}  // namespace

// The scheduler's fold: effects, and no rows but its checkpoint.
class FollowUpScheduler::Reactor final : public projections::Projection {
 public:
  explicit Reactor(FollowUpScheduler* scheduler) : scheduler_(scheduler) {}

  // Every lead event: the reactor folds the leads it sees, so that planning
  // a follow-up rarely reads a stream (see FoldIntoKept).
  bool Wants(absl::string_view type) const override {
    return projections::IsLeadEventType(type);
  }

  absl::Status Apply(const eventstore::RecordedEvent& event,
                     projections::RowBatch& rows) override {
    return ApplyDecoded(projections::DecodedEvent(event), rows);
  }

  absl::Status ApplyDecoded(const projections::DecodedEvent& decoded_event,
                            projections::RowBatch&) override {
    const eventstore::RecordedEvent& event = decoded_event.recorded();
    absl::string_view lead_id = event.stream;
    if (!absl::ConsumePrefix(&lead_id, kLeadStreamPrefix)) {
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(decoded_event.lead().status());
    const domain::LeadEvent& decoded = *decoded_event.lead();
    const LeadSnapshot* kept = FoldIntoKept(lead_id, event, decoded);
    const auto* classified = std::get_if<domain::LeadClassified>(&decoded);
    const auto* completed = std::get_if<domain::TaskCompleted>(&decoded);
    if (classified == nullptr && completed == nullptr) {
      return absl::OkStatus();
    }
    const domain::WorkspaceSettings settings = scheduler_->settings_();
    std::string outcome_id;
    if (classified != nullptr) {
      outcome_id = classified->outcome_id;
    } else {
      const domain::Outcome* outcome =
          domain::FindOutcome(settings.catalogue, completed->outcome_id);
      // A classifying outcome schedules from the LeadClassified that
      // follows this event.
      if (outcome == nullptr || outcome->classifies) return absl::OkStatus();
      outcome_id = completed->outcome_id;
    }

    // The plan reads the lead as the event left it, so that a replay plans
    // the same task whatever happened to the lead since.
    const LeadSnapshot* then = kept;
    absl::StatusOr<LeadSnapshot> read;
    if (then == nullptr) {
      read = ReadLeadAt(lead_id, event.stream_version);
      if (!read.ok()) {
        // An effect that no longer applies is dropped; data loss and a stop
        // end the fold here.
        return EffectNoLongerApplies(read.status()) ? absl::OkStatus()
                                                    : read.status();
      }
      then = &*read;
    }
    std::optional<domain::ScheduleFollowUp> plan = domain::PlanFollowUp(
        then->lead, outcome_id, event.event_id, domain::TimeOf(decoded),
        scheduler_->options_.owner_zone, settings);
    if (!plan.has_value()) return absl::OkStatus();
    auto [lead, inserted] = planned_.try_emplace(lead_id);
    if (inserted) order_.emplace_back(lead_id);
    lead->second.push_back(PlannedEffect{
        .command = *std::move(plan),
        .context = CallContext{.actor = kSchedulerActor,
                               .correlation_id = event.metadata.correlation_id,
                               .causation_id = event.event_id}});
    return absl::OkStatus();
  }

  // Appends the follow-ups the batch planned before the runner commits its
  // checkpoint: a crash in between replays them, and their ids, derived
  // from their causes, make the replay a no-op.
  absl::Status Flush(projections::RowBatch&) override {
    std::vector<std::string> leads = std::move(order_);
    absl::flat_hash_map<std::string, std::vector<PlannedEffect>> planned =
        std::move(planned_);
    order_.clear();
    planned_.clear();
    std::atomic<size_t> next{0};
    absl::Mutex failure_mu;
    absl::Status failure;
    auto work = [&] {
      for (size_t i = next++; i < leads.size(); i = next++) {
        for (const PlannedEffect& effect : planned[leads[i]]) {
          absl::StatusOr<uint64_t> position =
              scheduler_->Effect(leads[i], effect.command, effect.context);
          if (!position.ok()) {
            absl::MutexLock lock(&failure_mu);
            if (failure.ok()) failure = position.status();
            return;
          }
          scheduler_->NoteEffect(*position);
        }
      }
    };
    // This thread works too; the pool's threads help with the other leads.
    const size_t helpers = std::min<size_t>(
        leads.empty() ? 0 : leads.size() - 1,
        static_cast<size_t>(scheduler_->effect_workers_->threads()));
    absl::BlockingCounter helped(static_cast<int>(helpers));
    for (size_t i = 0; i < helpers; ++i) {
      if (!scheduler_->effect_workers_->Schedule([&] {
            work();
            helped.DecrementCount();
          })) {
        helped.DecrementCount();
      }
    }
    work();
    helped.Wait();
    return failure;
  }

 private:
  struct PlannedEffect {
    domain::ScheduleFollowUp command;
    CallContext context;
  };

  LeadCommandHandler& handler() { return *scheduler_->handler_; }

  // Folds `event` into the kept state of lead `lead_id` when the state just
  // before it is kept (or the event starts the stream), and returns the
  // state it leaves; nullptr otherwise. Every lead event passes here in log
  // order, so a lead seen since the reactor started is never read again.
  const LeadSnapshot* FoldIntoKept(absl::string_view lead_id,
                                   const eventstore::RecordedEvent& event,
                                   const domain::LeadEvent& decoded) {
    LeadSnapshot* kept = FindKept(lead_id);
    if (kept == nullptr && event.stream_version == 0) kept = &Keep(lead_id);
    if (kept == nullptr || kept->version != event.stream_version - 1) {
      return nullptr;
    }
    domain::EvolveInPlace(kept->lead, decoded);
    kept->version = event.stream_version;
    kept->log_position = event.position;
    return kept;
  }

  // The kept state of lead `lead_id`, or nullptr.
  LeadSnapshot* FindKept(absl::string_view lead_id) {
    if (auto it = recent_.find(lead_id); it != recent_.end()) {
      return &it->second;
    }
    auto it = older_.find(lead_id);
    if (it == older_.end()) return nullptr;
    LeadSnapshot state = std::move(it->second);
    older_.erase(it);
    LeadSnapshot& kept = Keep(lead_id);
    kept = std::move(state);
    return &kept;
  }

  // A fresh kept state for lead `lead_id`. The leads seen least recently go
  // first: when the recent half is full it becomes the older half, and the
  // older half is dropped.
  LeadSnapshot& Keep(absl::string_view lead_id) {
    const size_t half =
        std::max<size_t>(1, scheduler_->options_.kept_leads / 2);
    if (recent_.size() >= half) {
      older_ = std::move(recent_);
      recent_.clear();
    }
    LeadSnapshot& kept = recent_[lead_id];
    kept = LeadSnapshot{};
    return kept;
  }

  // Lead `lead_id` at `version`, read from its stream (and kept), retrying
  // what a later attempt can fix.
  absl::StatusOr<LeadSnapshot> ReadLeadAt(absl::string_view lead_id,
                                          int64_t version) {
    absl::StatusOr<LeadSnapshot> read = handler().LoadAt(lead_id, version);
    while (!read.ok() && !absl::IsDataLoss(read.status()) &&
           !EffectNoLongerApplies(read.status())) {
      if (scheduler_->stopping_) return absl::CancelledError("stopping");
      absl::SleepFor(scheduler_->options_.retry_interval);
      read = handler().LoadAt(lead_id, version);
    }
    if (read.ok()) {
      scheduler_->leads_read_.fetch_add(1, std::memory_order_relaxed);
      Keep(lead_id) = *read;
    }
    return read;
  }

  FollowUpScheduler* const scheduler_;
  // The effects the batch planned, per lead in log order, and the leads in
  // the order of their first effect.
  absl::flat_hash_map<std::string, std::vector<PlannedEffect>> planned_;
  std::vector<std::string> order_;
  // Leads as the events folded so far left them (see Keep).
  absl::flat_hash_map<std::string, LeadSnapshot> recent_;
  absl::flat_hash_map<std::string, LeadSnapshot> older_;
};

FollowUpScheduler::FollowUpScheduler(
    eventstore::EventStore* store, projections::ProjectionDb* db,
    projections::ProjectionRunner* read_models, LeadCommandHandler* handler,
    const Clock* clock, std::function<domain::WorkspaceSettings()> settings,
    FollowUpSchedulerOptions options)
    : store_(store),
      db_(db),
      read_models_(read_models),
      handler_(handler),
      clock_(clock),
      settings_(std::move(settings)),
      options_(options) {
  effect_workers_ = std::make_unique<WorkerPool>(
      std::max(1, options_.parallel_effects - 1), /*max_queued=*/4096);
  std::vector<projections::ProjectionSpec> specs;
  specs.push_back(projections::ProjectionSpec{
      .name = kSchedulerProjection,
      .version = 1,
      .rebuildable = false,
      .make = [this] { return std::make_unique<Reactor>(this); }});
  runner_ = std::make_unique<projections::ProjectionRunner>(store_, db_,
                                                            std::move(specs));
}

FollowUpScheduler::~FollowUpScheduler() { Stop(); }

absl::Status FollowUpScheduler::Start() {
  RETURN_IF_ERROR(runner_->Start());
  timer_ = std::thread([this] { RunTimer(); });
  return absl::OkStatus();
}

void FollowUpScheduler::Stop() {
  stopping_ = true;
  {
    absl::MutexLock lock(&timer_mu_);
    timer_stop_ = true;
  }
  if (timer_.joinable()) timer_.join();
  // Effects under way finish first, without waiting for company.
  eventstore::ExpeditedAppends expedited(*store_);
  runner_->Stop();
}

void FollowUpScheduler::WakeTimer() {
  absl::MutexLock lock(&timer_mu_);
  timer_woken_ = true;
}

void FollowUpScheduler::NoteEffect(uint64_t position) {
  uint64_t seen = effects_high_water_.load();
  while (position > seen &&
         !effects_high_water_.compare_exchange_weak(seen, position)) {
  }
}

absl::StatusOr<uint64_t> FollowUpScheduler::SettledPosition(
    uint64_t position, absl::Time deadline) {
  const std::vector<std::string> names = {kSchedulerProjection};
  {
    eventstore::ExpeditedAppends expedited(*store_);
    RETURN_IF_ERROR(runner_->WaitUntilFolded(names, position, deadline));
  }
  // Effects of events up to `position` were appended before the checkpoint
  // passed it; later ones only make the answer more conservative.
  return std::max(position, effects_high_water_.load());
}

std::vector<projections::ProjectionStatus> FollowUpScheduler::Status() {
  return runner_->Status();
}

absl::StatusOr<uint64_t> FollowUpScheduler::Effect(
    absl::string_view lead_id, const domain::LeadCommand& command,
    const CallContext& context) {
  const MutationOptions mutation{.max_sync_delay = options_.effect_sync_delay};
  while (true) {
    absl::StatusOr<LeadSnapshot> done =
        handler_->Execute(lead_id, command, context, mutation);
    if (done.ok()) return done->log_position;
    if (EffectNoLongerApplies(done.status())) return 0;
    if (absl::IsDataLoss(done.status())) return done.status();
    // UNAVAILABLE, ABORTED after many races, ...: the effect still applies
    // and must not be lost, so it waits for the store.
    if (stopping_) return absl::CancelledError("the scheduler is stopping");
    absl::SleepFor(options_.retry_interval);
  }
}

uint64_t FollowUpScheduler::MarkDueTasks() {
  projections::KeyspaceRef agenda = db_->Live(projections::kAgendaProjection);
  if (agenda == nullptr) return 0;
  std::unique_ptr<projections::ProjectionReader> reader = db_->NewReader();
  const absl::Time now = clock_->Now();
  absl::StatusOr<std::vector<projections::DueTask>> due =
      projections::TasksFallingDue(*reader, *agenda, now,
                                   options_.max_due_per_round);
  if (!due.ok()) return 0;
  uint64_t last = 0;
  for (const projections::DueTask& task : *due) {
    if (stopping_) break;
    absl::StatusOr<uint64_t> position = Effect(
        task.lead_id, domain::MarkTaskDue{.task_id = task.task_id, .now = now},
        CallContext{.actor = kSchedulerActor});
    if (position.ok()) last = std::max(last, *position);
  }
  return last;
}

void FollowUpScheduler::RunTimer() {
  eventstore::DisableRocksDbPerfCountersOnThisThread();
  const std::vector<std::string> agenda = {projections::kAgendaProjection};
  while (!stopping_) {
    const uint64_t marked = MarkDueTasks();
    if (marked > 0) {
      // The marked tasks leave the due index once the agenda folds their
      // TaskDue; looking again before that would mark them again (a no-op,
      // but a busy one).
      (void)read_models_->WaitUntilFolded(agenda, marked,
                                          absl::Now() + absl::Seconds(5));
    }
    absl::Duration sleep = options_.timer_interval;
    projections::KeyspaceRef keyspace =
        db_->Live(projections::kAgendaProjection);
    if (keyspace != nullptr) {
      std::unique_ptr<projections::ProjectionReader> reader = db_->NewReader();
      absl::StatusOr<std::optional<absl::Time>> next =
          projections::NextDueTime(*reader, *keyspace);
      if (next.ok() && next->has_value()) {
        sleep = std::clamp(**next - clock_->Now(), absl::ZeroDuration(),
                           options_.timer_interval);
      }
    }
    // Something is due but nothing could be marked (the lead moved on):
    // do not spin on it.
    if (marked == 0) sleep = std::max(sleep, options_.timer_interval / 20);
    absl::MutexLock lock(&timer_mu_);
    auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(timer_mu_) {
      return timer_woken_ || timer_stop_;
    };
    timer_mu_.AwaitWithTimeout(absl::Condition(&woken), sleep);
    timer_woken_ = false;
    if (timer_stop_) return;
    // Agenda commits wake the timer many times a second under load; each
    // look seeks the due index. Looking at most every twentieth of the
    // interval makes a task due that much later, at worst.
    auto stopped = [this]() ABSL_SHARED_LOCKS_REQUIRED(timer_mu_) {
      return timer_stop_;
    };
    timer_mu_.AwaitWithTimeout(absl::Condition(&stopped),
                               options_.timer_interval / 20);
    if (timer_stop_) return;
  }
}

}  // namespace leadledger::services
