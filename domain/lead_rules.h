// Helpers shared by the lead decider's source files. Internal to domain/.
#ifndef LEADLEDGER_DOMAIN_LEAD_RULES_H_
#define LEADLEDGER_DOMAIN_LEAD_RULES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "domain/lead.h"
#include "domain/lead_commands.h"
#include "domain/lead_events.h"

namespace leadledger::domain::internal {

using Events = std::vector<LeadEvent>;

inline absl::Status Invalid(absl::string_view field,
                            absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

// OK for a lead that exists and was not merged away.
absl::Status RequireLive(const Lead& lead);
// OK for a live lead whose status is ACTIVE; `action` completes "cannot ...".
absl::Status RequireActive(const Lead& lead, absl::string_view action);

// Trims `value` and checks that it holds 1 to `max_length` bytes.
absl::Status RequiredText(absl::string_view field, std::string& value,
                          size_t max_length);

absl::StatusOr<Events> DecideScheduleFollowUp(const Lead& lead,
                                              const ScheduleFollowUp& command);
absl::StatusOr<Events> DecideCreateTask(const Lead& lead,
                                        const CreateTask& command);
absl::StatusOr<Events> DecideCompleteTask(const Lead& lead,
                                          const CompleteTask& command);
absl::StatusOr<Events> DecideCancelTask(const Lead& lead,
                                        const CancelTask& command);
absl::StatusOr<Events> DecideMarkTaskDue(const Lead& lead,
                                         const MarkTaskDue& command);

}  // namespace leadledger::domain::internal

#endif  // LEADLEDGER_DOMAIN_LEAD_RULES_H_
