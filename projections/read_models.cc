#include "projections/read_models.h"

namespace leadledger::projections {

std::vector<ProjectionSpec> ReadModels() {
  std::vector<ProjectionSpec> specs;
  return specs;
}

}  // namespace leadledger::projections
