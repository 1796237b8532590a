#include "projections/read_models.h"

#include "projections/agenda.h"

namespace leadledger::projections {

std::vector<ProjectionSpec> ReadModels(const ReadModelOptions& options) {
  std::vector<ProjectionSpec> specs;
  specs.push_back(AgendaSpec(options.zone));
  return specs;
}

}  // namespace leadledger::projections
