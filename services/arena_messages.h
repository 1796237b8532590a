// ArenaMessages: a gRPC message allocator that puts each call's request and
// response on a protobuf arena of the call's own.
//
// A page of fifty leads is hundreds of strings and sub-messages. On the heap
// each is allocated alone and freed alone when gRPC destroys the response;
// on an arena they are carved from a few blocks and freed at once when the
// call ends.
#ifndef LEADLEDGER_SERVICES_ARENA_MESSAGES_H_
#define LEADLEDGER_SERVICES_ARENA_MESSAGES_H_

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace leadledger::services {

template <typename Request, typename Response>
class ArenaMessages final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder();
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(
          google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    // gRPC calls it once the call is over and neither message is used.
    void Release() override { delete this; }

   private:
    google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.initial_block = initial_block_;
      options.initial_block_size = sizeof(initial_block_);
      return options;
    }

    // The arena's first block, held with it: a request and a small answer
    // cost the arena no allocation of its own; a page grows it block by
    // block.
    alignas(8) char initial_block_[8 << 10];
    google::protobuf::Arena arena_;
  };
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_ARENA_MESSAGES_H_
