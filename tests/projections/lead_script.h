// LeadScript: writes the lead histories a read-model test spells out (this
// lead created, that one converted, those merged) into an event store: the
// domain decides every command on the state it keeps in memory, and the
// events go to the log through the codec, exactly as the command path
// writes them. WriteRandomHistory scripts many such commands over small
// pools of names, emails and phones, so that filters and duplicates find
// company; testing::LeadHistory writes larger, realistic histories.
#ifndef LEADLEDGER_TESTS_PROJECTIONS_LEAD_SCRIPT_H_
#define LEADLEDGER_TESTS_PROJECTIONS_LEAD_SCRIPT_H_

#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/customer.h"
#include "domain/lead_decider.h"
#include "domain/status_macros.h"
#include "domain/workspace.h"
#include "eventstore/event_store.h"
#include "projections/event_codec.h"

namespace leadledger::projections {

class LeadScript {
 public:
  // With `auto_commit`, each operation is its own append; otherwise the
  // operations queue until Commit(), which appends them as one.
  explicit LeadScript(eventstore::EventStore* store, bool auto_commit = true)
      : store_(store), auto_commit_(auto_commit) {}

  absl::Time Now() {
    now_ += absl::Minutes(1);
    return now_;
  }
  const domain::WorkspaceSettings& settings() const { return settings_; }

  absl::Status Create(const std::string& id, domain::LeadProfile profile) {
    return Run(id, domain::CreateLead{.lead_id = id,
                                      .profile = std::move(profile),
                                      .settings = settings_,
                                      .now = Now()});
  }

  absl::Status Run(const std::string& id, const domain::LeadCommand& command) {
    ASSIGN_OR_RETURN(std::vector<domain::LeadEvent> events,
                     domain::Decide(leads_[id].lead, command));
    if (events.empty()) return absl::OkStatus();
    Queue(id, events);
    return MaybeCommit();
  }

  absl::Status Merge(const std::vector<std::string>& ids) {
    std::vector<domain::Lead> states;
    for (const std::string& id : ids) states.push_back(leads_[id].lead);
    ASSIGN_OR_RETURN(
        domain::MergeDecision decision,
        domain::DecideMerge(
            states, domain::MergeLeads{
                        .lead_ids = ids, .settings = settings_, .now = Now()}));
    for (const auto& [id, events] : decision.events) Queue(id, events);
    return MaybeCommit();
  }

  // Converts lead `id`; a created customer goes to its own stream in the
  // same append. `email_match` is the customer the default action may link.
  absl::Status Convert(const std::string& id, domain::ConvertLead command,
                       const std::string& email_match = "") {
    command.settings = settings_;
    command.now = Now();
    if (command.new_customer_id.empty()) {
      command.new_customer_id = absl::StrCat("cust-", ++customer_count_);
    }
    domain::ConversionContext context;
    if (auto it = customers_.find(command.customer_id);
        it != customers_.end()) {
      context.linked_customer = it->second;
    }
    if (auto it = customers_.find(email_match); it != customers_.end()) {
      context.email_match = it->second;
    }
    ASSIGN_OR_RETURN(
        domain::ConversionDecision decision,
        domain::DecideConversion(leads_[id].lead, command, context));
    Queue(id, decision.lead_events);
    if (!decision.created_customer_id.empty()) {
      domain::Customer customer;
      eventstore::StreamWrite write{
          .stream = absl::StrCat("customer-", decision.created_customer_id),
          .expected_version = eventstore::ExpectedVersion::NoStream()};
      for (const domain::CustomerEvent& event : decision.customer_events) {
        write.events.push_back(EncodeCustomerEvent(event, NewEventId()));
        customer = domain::EvolveCustomer(std::move(customer), event);
      }
      pending_.writes.push_back(std::move(write));
      customers_[decision.created_customer_id] = std::move(customer);
      customer_ids_.push_back(decision.created_customer_id);
    }
    return MaybeCommit();
  }

  // Appends what is queued, as one append.
  absl::Status Commit() {
    touched_.clear();
    if (pending_.writes.empty()) return absl::OkStatus();
    eventstore::AppendRequest request = std::move(pending_);
    pending_ = {};
    return store_->Append(std::move(request)).status();
  }

  const domain::Lead& lead(const std::string& id) { return leads_[id].lead; }
  // The leads created so far, in order of creation.
  const std::vector<std::string>& ids() const { return ids_; }
  const std::vector<std::string>& customer_ids() const { return customer_ids_; }

 private:
  struct State {
    domain::Lead lead;
    int64_t version = eventstore::kNoStreamVersion;
  };

  // An append names each stream once: a lead's later events in the same
  // append join its write.
  void Queue(const std::string& id,
             const std::vector<domain::LeadEvent>& events) {
    State& state = leads_[id];
    auto [write_index, added] = touched_.emplace(id, pending_.writes.size());
    if (added) {
      pending_.writes.push_back(eventstore::StreamWrite{
          .stream = absl::StrCat("lead-", id),
          .expected_version =
              eventstore::ExpectedVersion::Exactly(state.version)});
    }
    eventstore::StreamWrite& write = pending_.writes[write_index->second];
    if (!state.lead.exists) ids_.push_back(id);
    for (const domain::LeadEvent& event : events) {
      write.events.push_back(EncodeLeadEvent(event, NewEventId()));
      state.lead = domain::Evolve(std::move(state.lead), event);
      ++state.version;
    }
  }

  absl::Status MaybeCommit() {
    return auto_commit_ ? Commit() : absl::OkStatus();
  }

  std::string NewEventId() { return absl::StrCat("ev-", ++event_count_); }

  eventstore::EventStore* const store_;
  const bool auto_commit_;
  domain::WorkspaceSettings settings_;
  absl::Time now_ = absl::FromUnixSeconds(1'790'000'000);
  std::map<std::string, State> leads_;
  std::vector<std::string> ids_;
  std::map<std::string, domain::Customer> customers_;
  std::vector<std::string> customer_ids_;
  eventstore::AppendRequest pending_;
  // The leads in the open append, and the index of their write.
  std::map<std::string, size_t> touched_;
  int event_count_ = 0;
  int customer_count_ = 0;
};

// Runs about `commands` random commands over a growing set of leads: creates,
// updates of names, emails, phones, owners, teams and tags drawn from small
// pools (so that filters and duplicates have company), classifications,
// lost / restore, conversions (creating customers), wins, merges and
// probability overrides. Commands the domain refuses are skipped. Several
// commands share each append.
inline absl::Status WriteRandomHistory(LeadScript& history, int commands,
                                       uint32_t seed) {
  std::mt19937 random(seed);
  auto pick = [&](const std::vector<std::string>& pool) {
    return pool[absl::Uniform<size_t>(random, 0, pool.size())];
  };
  const std::vector<std::string> words = {"ana",  "anabel", "solar", "roof",
                                          "pump", "garcia", "acme",  "bob",
                                          "ruiz", "school", "heat",  "b2b"};
  const std::vector<std::string> emails = {
      "",       "ana@acme.com", "bob@acme.com", "Ana@Acme.com", "solar@roof.es",
      "x@y.org"};
  const std::vector<std::string> phones = {"", "+34600123456", "+34912345678",
                                           "+16502530000", "12"};
  const std::vector<std::string> people = {"", "u1", "u2", "u3"};
  const std::vector<std::string> tags = {"vip", "b2b", "solar", "cold"};
  auto name = [&] { return absl::StrCat(pick(words), " ", pick(words)); };
  auto profile = [&] {
    domain::LeadProfile p;
    p.display_name = name();
    p.contact_name = absl::Uniform(random, 0, 2) ? name() : "";
    p.company_name = absl::Uniform(random, 0, 3) ? "" : pick(words);
    p.email = pick(emails);
    p.phone = pick(phones);
    p.mobile = pick(phones);
    p.owner_id = pick(people);
    p.team_id = pick(people);
    if (absl::Uniform(random, 0, 2)) p.tags.insert(pick(tags));
    return p;
  };
  int next_id = 0;
  for (int done = 0; done < commands;) {
    // One append per round of up to 16 commands.
    for (int in_round = 0; in_round < 16 && done < commands; ++done) {
      const std::vector<std::string>& ids = history.ids();
      const int choice = ids.size() < 5 ? 0 : absl::Uniform(random, 0, 12);
      const std::string id = ids.empty() ? "" : pick(ids);
      absl::Status status;
      const absl::Time now = history.Now();
      const domain::WorkspaceSettings& settings = history.settings();
      switch (choice) {
        case 0:
          status = history.Create(absl::StrCat("l", next_id++), profile());
          break;
        case 1:
        case 2: {
          domain::UpdateLead update{
              .profile = profile(), .settings = settings, .now = now};
          const std::vector<domain::LeadField> fields = {
              domain::LeadField::kDisplayName, domain::LeadField::kEmail,
              domain::LeadField::kPhone,       domain::LeadField::kMobile,
              domain::LeadField::kOwner,       domain::LeadField::kTeam,
              domain::LeadField::kTags,        domain::LeadField::kContactName};
          for (domain::LeadField field : fields) {
            if (absl::Uniform(random, 0, 3) == 0) update.fields.insert(field);
          }
          if (update.fields.empty()) update.fields.insert(fields[0]);
          status = history.Run(id, update);
          break;
        }
        case 3: {
          const std::vector<std::string> outcomes = {
              "", "HOT_PROSPECT", "ON_THE_FENCE", "POTENTIAL_CONSULTANT"};
          status =
              history.Run(id, domain::ClassifyLead{.outcome_id = pick(outcomes),
                                                   .settings = settings,
                                                   .now = now});
          break;
        }
        case 4:
          status = history.Run(
              id, domain::MarkLeadLost{.settings = settings, .now = now});
          break;
        case 5:
          status = history.Run(id, domain::RestoreLead{.now = now});
          break;
        case 6:
        case 7: {
          const std::vector<std::string>& customers = history.customer_ids();
          domain::ConvertLead convert{
              .owner_id = pick(people),
              .customer_action = static_cast<domain::CustomerAction>(
                  absl::Uniform(random, 0, 4))};
          if (!customers.empty()) convert.customer_id = pick(customers);
          status = history.Convert(id, convert,
                                   customers.empty() ? "" : pick(customers));
          break;
        }
        case 8:
          status = history.Run(
              id, domain::MarkLeadWon{.settings = settings, .now = now});
          break;
        case 9: {
          const std::string other = pick(ids);
          if (other == id) continue;
          status = history.Merge({id, other});
          break;
        }
        case 10:
          status = history.Run(
              id,
              domain::SetProbabilityOverride{
                  .value = static_cast<double>(absl::Uniform(random, 0, 101)),
                  .now = now});
          break;
        default:
          status = history.Run(
              id, domain::UpdateLead{.fields = {domain::LeadField::kStage},
                                     .stage = pick(settings.pipeline_stages),
                                     .settings = settings,
                                     .now = now});
          break;
      }
      if (status.ok()) ++in_round;
    }
    RETURN_IF_ERROR(history.Commit());
  }
  return absl::OkStatus();
}

}  // namespace leadledger::projections

#endif  // LEADLEDGER_TESTS_PROJECTIONS_LEAD_SCRIPT_H_
