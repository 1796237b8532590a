# leadledger_proto_library(TARGET PROTOS file.proto... [GRPC] [DEPS target...])
#
# Generates C++ (and, with GRPC, gRPC service) code for .proto files that live
# under proto/ and import each other relative to it, and wraps the result in a
# static library. Generated headers are included as "leadledger/v1/x.pb.h".
set(LEADLEDGER_PROTO_ROOT "${PROJECT_SOURCE_DIR}/proto")
set(LEADLEDGER_PROTO_OUT "${PROJECT_BINARY_DIR}/proto_gen")
file(MAKE_DIRECTORY "${LEADLEDGER_PROTO_OUT}")

function(leadledger_proto_library target)
  cmake_parse_arguments(ARG "GRPC" "" "PROTOS;DEPS" ${ARGN})
  set(sources)
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
    set(outputs "${LEADLEDGER_PROTO_OUT}/${stem}.pb.cc" "${LEADLEDGER_PROTO_OUT}/${stem}.pb.h")
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND outputs "${LEADLEDGER_PROTO_OUT}/${stem}.grpc.pb.cc"
                          "${LEADLEDGER_PROTO_OUT}/${stem}.grpc.pb.h")
      set(plugin_args "--grpc_out=${LEADLEDGER_PROTO_OUT}"
                      "--plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND protobuf::protoc
              "--proto_path=${LEADLEDGER_PROTO_ROOT}"
              "--cpp_out=${LEADLEDGER_PROTO_OUT}" ${plugin_args}
              "${LEADLEDGER_PROTO_ROOT}/${proto}"
      DEPENDS "${LEADLEDGER_PROTO_ROOT}/${proto}" protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND sources ${outputs})
  endforeach()
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} SYSTEM PUBLIC "${LEADLEDGER_PROTO_OUT}")
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${target} PUBLIC gRPC::grpc++)
  endif()
endfunction()
