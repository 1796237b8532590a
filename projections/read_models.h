// The read models the server keeps, in one list so that the server, the
// rebuild tooling and the benchmarks fold exactly the same set.
#ifndef LEADLEDGER_PROJECTIONS_READ_MODELS_H_
#define LEADLEDGER_PROJECTIONS_READ_MODELS_H_

#include <vector>

#include "absl/time/time.h"
#include "projections/projection.h"

namespace leadledger::projections {

struct ReadModelOptions {
  // The zone due days of tasks are counted in (the owners' zone).
  absl::TimeZone zone = absl::UTCTimeZone();
};

std::vector<ProjectionSpec> ReadModels(const ReadModelOptions& options);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_READ_MODELS_H_
