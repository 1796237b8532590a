#include "projections/read_models.h"

#include "projections/agenda.h"
#include "projections/duplicate_index.h"
#include "projections/lead_list.h"

namespace leadledger::projections {

std::vector<ProjectionSpec> ReadModels(const ReadModelOptions& options) {
  std::vector<ProjectionSpec> specs;
  specs.push_back(AgendaSpec(options.zone));
  specs.push_back(LeadListSpec());
  specs.push_back(DuplicateIndexSpec());
  return specs;
}

}  // namespace leadledger::projections
