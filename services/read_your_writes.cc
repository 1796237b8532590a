#include "services/read_your_writes.h"

#include "domain/status_macros.h"

namespace leadledger::services {

absl::Status WaitForReadModels(projections::ProjectionRunner& read_models,
                               FollowUpScheduler& scheduler,
                               const std::vector<std::string>& names,
                               uint64_t min_position, absl::Time deadline) {
  if (min_position == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(uint64_t settled,
                   scheduler.SettledPosition(min_position, deadline));
  return read_models.WaitUntilFolded(names, settled, deadline);
}

}  // namespace leadledger::services
