// The read models the server keeps, in one list so that the server, the
// rebuild tooling and the benchmarks fold exactly the same set.
#ifndef LEADLEDGER_PROJECTIONS_READ_MODELS_H_
#define LEADLEDGER_PROJECTIONS_READ_MODELS_H_

#include <vector>

#include "projections/projection.h"

namespace leadledger::projections {

std::vector<ProjectionSpec> ReadModels();

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_READ_MODELS_H_
