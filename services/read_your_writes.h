// Read-your-writes for queries: a query given a log position (`min_position`,
// returned by a mutation) waits until the read models it reads have folded
// that position and every effect the scheduler had for the events up to it,
// so that after ClassifyLead the agenda shows the follow-up.
#ifndef LEADLEDGER_SERVICES_READ_YOUR_WRITES_H_
#define LEADLEDGER_SERVICES_READ_YOUR_WRITES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "projections/projection_runner.h"
#include "services/follow_up_scheduler.h"

namespace leadledger::services {

// Waits, until `deadline`, for read models `names` to reflect `min_position`
// (0 returns at once). Errors: DEADLINE_EXCEEDED naming min_position;
// UNAVAILABLE when a read model has stopped.
[[nodiscard]] absl::Status WaitForReadModels(
    projections::ProjectionRunner& read_models, FollowUpScheduler& scheduler,
    const std::vector<std::string>& names, uint64_t min_position,
    absl::Time deadline);

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_READ_YOUR_WRITES_H_
