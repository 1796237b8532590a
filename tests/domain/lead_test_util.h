// Given-events / when-command / then-events helpers for lead decider tests.
#ifndef LEADLEDGER_TESTS_DOMAIN_LEAD_TEST_UTIL_H_
#define LEADLEDGER_TESTS_DOMAIN_LEAD_TEST_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "domain/lead_decider.h"
#include "gtest/gtest.h"

namespace leadledger::domain::testing {

inline const absl::Time kT0 = absl::FromUnixSeconds(1'790'000'000);

inline absl::Time At(int minutes) { return kT0 + absl::Minutes(minutes); }

// The state after `events`, in order.
inline Lead Given(const std::vector<LeadEvent>& events) {
  Lead lead;
  for (const LeadEvent& event : events) lead = Evolve(std::move(lead), event);
  return lead;
}

inline LeadCreated Created(const std::string& id,
                           LeadKind kind = LeadKind::kLead,
                           absl::Time time = kT0) {
  LeadCreated created;
  created.lead_id = id;
  created.kind = kind;
  created.stage = kind == LeadKind::kOpportunity ? "New" : "";
  created.profile.display_name = "Lead " + id;
  created.time = time;
  return created;
}

inline Task FollowUpTask(const std::string& id, absl::Time due,
                         bool automatic = true) {
  return Task{.id = id,
              .owner_id = "u1",
              .kind = TaskKind::kFollowUp,
              .title = "Follow up",
              .due_time = due,
              .priority = 1,
              .automatic = automatic};
}

// Decides `command` on the state after `given`; fails the test on an error.
inline std::vector<LeadEvent> When(const std::vector<LeadEvent>& given,
                                   const LeadCommand& command) {
  absl::StatusOr<std::vector<LeadEvent>> events = Decide(Given(given), command);
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? *std::move(events) : std::vector<LeadEvent>{};
}

// The single event of `events`, as an E; fails the test otherwise.
template <typename E>
E Only(const std::vector<LeadEvent>& events) {
  EXPECT_EQ(events.size(), 1u);
  if (events.size() != 1 || !std::holds_alternative<E>(events[0])) {
    ADD_FAILURE() << "expected exactly one event of the asked type";
    return E{};
  }
  return std::get<E>(events[0]);
}

// The states after `given` and then `more`.
inline Lead Then(std::vector<LeadEvent> given,
                 const std::vector<LeadEvent>& more) {
  given.insert(given.end(), more.begin(), more.end());
  return Given(given);
}

}  // namespace leadledger::domain::testing

#endif  // LEADLEDGER_TESTS_DOMAIN_LEAD_TEST_UTIL_H_
