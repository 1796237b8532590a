// LeadHistory: writes realistic lead histories straight into an event store,
// for tests and benchmarks that need many events fast.
//
// Each step picks a command the way users and the scheduler would issue them
// (creations, edits, classifications with their follow-ups, completed and
// created tasks, losses and restores, conversions, wins, merges, probability
// overrides), decides it with the real domain rules on the lead's state kept
// in memory, and batches the events of many commands into one append. A
// command the rules refuse is skipped, as a user's would be. The same seed
// gives the same history.
#ifndef LEADLEDGER_TESTS_TESTING_LEAD_HISTORY_H_
#define LEADLEDGER_TESTS_TESTING_LEAD_HISTORY_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/lead_decider.h"
#include "domain/workspace.h"
#include "eventstore/event_store.h"
#include "projections/event_codec.h"

namespace leadledger::testing {

class LeadHistory {
 public:
  // Ids of leads, tasks and events start with `id_prefix`: histories
  // written by several generators into one store must use distinct ones.
  LeadHistory(uint64_t seed, absl::Time start, std::string id_prefix = "")
      : random_(seed), now_(start), id_prefix_(std::move(id_prefix)) {}

  // Decides `commands` commands and appends their events, the events of up
  // to `per_append` commands per append. Returns the events appended.
  absl::StatusOr<uint64_t> Append(eventstore::EventStore& store, int commands,
                                  int per_append) {
    uint64_t appended = 0;
    for (int done = 0; done < commands;) {
      const int batch = std::min(per_append, commands - done);
      for (int i = 0; i < batch; ++i) Step();
      done += batch;
      absl::StatusOr<uint64_t> flushed = Flush(store);
      if (!flushed.ok()) return flushed.status();
      appended += *flushed;
    }
    return appended;
  }

  size_t lead_count() const { return leads_.size(); }
  const domain::WorkspaceSettings& settings() const { return settings_; }

 private:
  struct Tracked {
    domain::Lead lead;
    int64_t version = eventstore::kNoStreamVersion;
  };

  int Percent() { return static_cast<int>(random_() % 100); }

  // A lead id, skewed toward recent leads, as activity is.
  std::string SomeLead() {
    const size_t n = ids_.size();
    const size_t window = std::min<size_t>(n, 2000);
    if (Percent() < 70) return ids_[n - 1 - random_() % window];
    return ids_[random_() % n];
  }

  void Step() {
    now_ += absl::Seconds(1 + random_() % 30);
    const int roll = Percent();
    if (ids_.empty() || roll < 22) return Create();
    const std::string id = SomeLead();
    const domain::Lead& lead = leads_[id].lead;
    if (roll < 35) {
      domain::UpdateLead update{.settings = settings_, .now = now_};
      update.profile = lead.profile;
      if (Percent() < 50) {
        update.fields = {domain::LeadField::kOwner};
        update.profile.owner_id = absl::StrCat("owner-", random_() % 40);
      } else {
        update.fields = {domain::LeadField::kDisplayName,
                         domain::LeadField::kEmail};
        update.profile.display_name =
            absl::StrCat(lead.profile.display_name, " ", random_() % 10);
        update.profile.email = absl::StrCat(
            "contact", random_() % 50000, "@example", random_() % 300, ".com");
      }
      return Run(id, update);
    }
    if (roll < 57) {
      static const char* kClassifying[] = {"POTENTIAL_CONSULTANT",
                                           "HOT_PROSPECT", "THERE_IS_A_CHANCE",
                                           "ON_THE_FENCE"};
      return Run(id,
                 domain::ClassifyLead{.outcome_id = kClassifying[random_() % 4],
                                      .settings = settings_,
                                      .now = now_});
    }
    if (roll < 70 && !lead.open_tasks.empty()) {
      static const char* kOutcomes[] = {"POTENTIAL_CONSULTANT",
                                        "HOT_PROSPECT",
                                        "THERE_IS_A_CHANCE",
                                        "ON_THE_FENCE",
                                        "NOT_SURE_YET",
                                        "NOT_INTERESTED",
                                        ""};
      auto task = lead.open_tasks.begin();
      std::advance(task, random_() % lead.open_tasks.size());
      return Run(id,
                 domain::CompleteTask{.task_id = task->first,
                                      .outcome_id = kOutcomes[random_() % 7],
                                      .note = "talked",
                                      .settings = settings_,
                                      .now = now_});
    }
    if (roll < 76) {
      return Run(id, domain::CreateTask{
                         .task_id = NewId("task"),
                         .owner_id = lead.profile.owner_id,
                         .kind = domain::TaskKind::kContact,
                         .title = "Call back",
                         .due_time = now_ + absl::Hours(1 + random_() % 400),
                         .priority = static_cast<int>(random_() % 3),
                         .now = now_});
    }
    if (roll < 82) {
      return Run(id, domain::MarkLeadLost{
                         .reason = settings_.lost_reasons[random_() % 4],
                         .feedback = "",
                         .settings = settings_,
                         .now = now_});
    }
    if (roll < 85) return Run(id, domain::RestoreLead{.now = now_});
    if (roll < 89) return Convert(id);
    if (roll < 91) {
      return Run(id, domain::MarkLeadWon{.settings = settings_, .now = now_});
    }
    if (roll < 93) return Merge(id, SomeLead());
    return Run(id,
               domain::SetProbabilityOverride{
                   .value = static_cast<double>(random_() % 101), .now = now_});
  }

  void Create() {
    const size_t n = ids_.size();
    const std::string id = NewId("lead");
    domain::LeadProfile profile{
        .display_name = absl::StrCat("Opportunity ", n),
        .contact_name = absl::StrCat(kFirst[n % 8], " ", kLast[(n / 8) % 8]),
        .company_name = absl::StrCat("Company ", n % 5000),
        .email = absl::StrCat("contact", random_() % 50000, "@example",
                              random_() % 300, ".com"),
        .phone = absl::StrCat("+1 415 555 ", 1000 + random_() % 9000),
        .owner_id = absl::StrCat("owner-", random_() % 40),
        .team_id = absl::StrCat("team-", random_() % 5),
        .priority = static_cast<int>(random_() % 4)};
    if (Percent() < 40) profile.tags.insert(kTags[random_() % 6]);
    ids_.push_back(id);
    Run(id, domain::CreateLead{.lead_id = id,
                               .profile = std::move(profile),
                               .settings = settings_,
                               .now = now_});
  }

  void Convert(const std::string& id) {
    Tracked& tracked = leads_[id];
    absl::StatusOr<domain::ConversionDecision> decision =
        domain::DecideConversion(
            tracked.lead,
            domain::ConvertLead{
                .customer_action = domain::CustomerAction::kNone,
                .settings = settings_,
                .now = now_},
            {});
    if (decision.ok()) Record(id, decision->lead_events);
  }

  void Merge(const std::string& a, const std::string& b) {
    if (a == b) return;
    absl::StatusOr<domain::MergeDecision> decision = domain::DecideMerge(
        {leads_[a].lead, leads_[b].lead},
        domain::MergeLeads{
            .lead_ids = {a, b}, .settings = settings_, .now = now_});
    if (!decision.ok()) return;
    for (const auto& [lead_id, events] : decision->events) {
      Record(lead_id, events);
    }
  }

  void Run(const std::string& id, const domain::LeadCommand& command) {
    Tracked& tracked = leads_[id];
    absl::StatusOr<std::vector<domain::LeadEvent>> events =
        domain::Decide(tracked.lead, command);
    if (!events.ok() || events->empty()) return;
    const std::vector<std::string> event_ids = Record(id, *events);
    // The scheduler's part: the follow-up of a classification or outcome.
    for (size_t i = 0; i < events->size(); ++i) {
      std::string outcome;
      if (const auto* c = std::get_if<domain::LeadClassified>(&(*events)[i])) {
        outcome = c->outcome_id;
      } else if (const auto* t =
                     std::get_if<domain::TaskCompleted>(&(*events)[i])) {
        const domain::Outcome* o =
            domain::FindOutcome(settings_.catalogue, t->outcome_id);
        if (o != nullptr && !o->classifies) outcome = t->outcome_id;
      }
      if (outcome.empty()) continue;
      std::optional<domain::ScheduleFollowUp> plan =
          domain::PlanFollowUp(tracked.lead, outcome, event_ids[i], now_,
                               absl::UTCTimeZone(), settings_);
      if (!plan.has_value()) continue;
      absl::StatusOr<std::vector<domain::LeadEvent>> follow_up =
          domain::Decide(tracked.lead, *plan);
      if (follow_up.ok()) Record(id, *follow_up);
    }
  }

  // Folds `events` into lead `id` and queues them; returns their ids.
  std::vector<std::string> Record(
      const std::string& id, const std::vector<domain::LeadEvent>& events) {
    Tracked& tracked = leads_[id];
    eventstore::StreamWrite& write = pending_[id];
    if (write.stream.empty()) {
      write.stream = absl::StrCat("lead-", id);
      write.expected_version =
          eventstore::ExpectedVersion::Exactly(tracked.version);
    }
    std::vector<std::string> event_ids;
    for (const domain::LeadEvent& event : events) {
      event_ids.push_back(NewId("event"));
      write.events.push_back(
          projections::EncodeLeadEvent(event, event_ids.back()));
      tracked.lead = domain::Evolve(std::move(tracked.lead), event);
      ++tracked.version;
    }
    return event_ids;
  }

  absl::StatusOr<uint64_t> Flush(eventstore::EventStore& store) {
    if (pending_.empty()) return 0;
    eventstore::AppendRequest request;
    request.metadata.actor = "history";
    uint64_t events = 0;
    for (auto& [id, write] : pending_) {
      events += write.events.size();
      request.writes.push_back(std::move(write));
    }
    pending_.clear();
    absl::StatusOr<eventstore::AppendResult> result =
        store.Append(std::move(request));
    if (!result.ok()) return result.status();
    return events;
  }

  std::string NewId(absl::string_view kind) {
    return absl::StrCat(id_prefix_, kind, "-", next_id_++);
  }

  static constexpr const char* kFirst[] = {"Ana",  "Ben",  "Chloe", "David",
                                           "Emma", "Femi", "Grace", "Hugo"};
  static constexpr const char* kLast[] = {"Silva", "Okafor", "Martin", "Kim",
                                          "Novak", "Rossi",  "Weber",  "Diaz"};
  static constexpr const char* kTags[] = {"solar",  "b2b",    "vip",
                                          "import", "events", "referral"};

  std::mt19937_64 random_;
  absl::Time now_;
  const std::string id_prefix_;
  uint64_t next_id_ = 1;
  domain::WorkspaceSettings settings_;
  std::vector<std::string> ids_;
  std::map<std::string, Tracked> leads_;
  std::map<std::string, eventstore::StreamWrite> pending_;
};

}  // namespace leadledger::testing

#endif  // LEADLEDGER_TESTS_TESTING_LEAD_HISTORY_H_
