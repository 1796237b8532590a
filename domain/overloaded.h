// Overloaded{lambda...}: one visitor from several lambdas, for std::visit
// over the command and event variants, so the compiler checks every case.
#ifndef LEADLEDGER_DOMAIN_OVERLOADED_H_
#define LEADLEDGER_DOMAIN_OVERLOADED_H_

namespace leadledger {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace leadledger

#endif  // LEADLEDGER_DOMAIN_OVERLOADED_H_
