// FollowUpScheduler: the process manager of SPEC §10.
//
// It follows the log with a checkpoint of its own (a ProjectionRunner with
// one fold, "scheduler", that writes no rows) and turns facts into
// commands through the ordinary command path:
//   LeadClassified                       -> the outcome's follow-up task;
//   TaskCompleted with an outcome that   -> that outcome's follow-up task
//     does not classify (NOT_SURE_YET)      (a classifying one arrives as
//                                            LeadClassified);
//   an open task's due time passing      -> TaskDue, once per task.
// Cancelling the tasks of lost and merged leads happens inside those
// commands' own decisions (atomically with the loss or the merge), so there
// is nothing left to do here for them.
//
// Exactly once: a follow-up's task id derives from the causing event, so
// folding an event again after a crash decides the same task, which the
// lead already knows; MarkTaskDue on a task that fell due is a no-op.
//
// Due times are watched through the agenda's index of tasks not yet fallen
// due: the timer looks at the earliest entries only, waking when the agenda
// changes or the earliest due time comes, never scanning all tasks.
//
// Thread-safe.
#ifndef LEADLEDGER_SERVICES_FOLLOW_UP_SCHEDULER_H_
#define LEADLEDGER_SERVICES_FOLLOW_UP_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "domain/clock.h"
#include "domain/workspace.h"
#include "eventstore/event_store.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "services/lead_command_handler.h"
#include "services/worker_pool.h"

namespace leadledger::services {

inline constexpr char kSchedulerProjection[] = "scheduler";

struct FollowUpSchedulerOptions {
  // The zone follow-up days are counted in (the owners' zone).
  absl::TimeZone owner_zone = absl::UTCTimeZone();
  // Longest real-time sleep of the due-task timer between two looks at the
  // agenda (it also wakes on every agenda commit).
  absl::Duration timer_interval = absl::Seconds(1);
  // Tasks the timer marks due per round.
  int max_due_per_round = 256;
  // Pause before retrying a command the store could not take.
  absl::Duration retry_interval = absl::Milliseconds(100);
  // Leads whose follow-ups of one batch of events are scheduled at once.
  // Each effect is an fsync'd append; run side by side they share group
  // commits instead of waiting for one another. A lead's own effects run
  // one after another, in log order.
  int parallel_effects = 16;
  // Leads whose latest state the scheduler keeps, folded from the events it
  // reads, so that planning a follow-up reads no stream; the least recently
  // seen are dropped beyond it.
  int kept_leads = 8192;
  // How long an effect's append may wait for another append to share its
  // fsync (eventstore::AppendRequest::max_sync_delay). Alone, the follow-up
  // of a classification takes an fsync of its own just as the caller sends
  // its next command, which then waits for both. SettledPosition cuts the
  // wait short for the readers that wait on effects.
  absl::Duration effect_sync_delay = absl::Milliseconds(2);
};

class FollowUpScheduler {
 public:
  // Every pointer must outlive the scheduler. `settings` returns the
  // workspace settings in force. `read_models` is the runner of the agenda.
  FollowUpScheduler(eventstore::EventStore* store,
                    projections::ProjectionDb* db,
                    projections::ProjectionRunner* read_models,
                    LeadCommandHandler* handler, const Clock* clock,
                    std::function<domain::WorkspaceSettings()> settings,
                    FollowUpSchedulerOptions options = {});
  // Stops (see Stop).
  ~FollowUpScheduler();

  // Starts following the log from the checkpoint, and the timer.
  [[nodiscard]] absl::Status Start();
  // Stops both; effects under way finish first (at once: see
  // effect_sync_delay). Idempotent.
  void Stop();

  // Waits until the scheduler has handled every event up to `position` and
  // returns the log position whose folding makes all of those effects
  // visible to the read models (at least `position`).
  // Errors: those of ProjectionRunner::WaitUntilFolded.
  [[nodiscard]] absl::StatusOr<uint64_t> SettledPosition(uint64_t position,
                                                         absl::Time deadline);

  std::vector<projections::ProjectionStatus> Status();

  // Makes the timer look at the agenda now (after an agenda commit).
  void WakeTimer();

  // Leads read from their streams to plan a follow-up: those whose state
  // the scheduler had not kept from the events it folded.
  uint64_t leads_read() const { return leads_read_.load(); }

 private:
  class Reactor;

  // Runs `command` on `lead_id` until it is decided, retrying what a later
  // attempt can fix. Returns the log position of the effect (0: none).
  absl::StatusOr<uint64_t> Effect(absl::string_view lead_id,
                                  const domain::LeadCommand& command,
                                  const CallContext& context);
  void RunTimer();
  // Marks due every task whose time has come; returns the position the agenda
  // must fold before looking again (0: nothing was marked).
  uint64_t MarkDueTasks();
  void NoteEffect(uint64_t position);

  eventstore::EventStore* const store_;
  projections::ProjectionDb* const db_;
  projections::ProjectionRunner* const read_models_;
  LeadCommandHandler* const handler_;
  const Clock* const clock_;
  const std::function<domain::WorkspaceSettings()> settings_;
  const FollowUpSchedulerOptions options_;
  // Helps the runner's thread append the effects of a batch; declared
  // before the runner, which uses it until it stops.
  std::unique_ptr<WorkerPool> effect_workers_;
  std::unique_ptr<projections::ProjectionRunner> runner_;

  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> effects_high_water_{0};
  std::atomic<uint64_t> leads_read_{0};
  absl::Mutex timer_mu_;
  bool timer_woken_ ABSL_GUARDED_BY(timer_mu_) = false;
  bool timer_stop_ ABSL_GUARDED_BY(timer_mu_) = false;
  std::thread timer_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_FOLLOW_UP_SCHEDULER_H_
