# leadledger_python_stubs(TARGET PROTOS file.proto...)
#
# Generates Python messages and gRPC stubs for the API protos at build time,
# into ${PROJECT_BINARY_DIR}/python_gen (put it on PYTHONPATH), with Debian's
# protoc and grpc_python_plugin. The Python tests import them with Debian's
# python3-grpcio and python3-protobuf.
set(LEADLEDGER_PYTHON_OUT "${PROJECT_BINARY_DIR}/python_gen")
find_program(LEADLEDGER_GRPC_PYTHON_PLUGIN grpc_python_plugin REQUIRED)

function(leadledger_python_stubs target)
  cmake_parse_arguments(ARG "" "" "PROTOS" ${ARGN})
  file(MAKE_DIRECTORY "${LEADLEDGER_PYTHON_OUT}")
  set(outputs)
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
    set(generated "${LEADLEDGER_PYTHON_OUT}/${stem}_pb2.py"
                  "${LEADLEDGER_PYTHON_OUT}/${stem}_pb2_grpc.py")
    add_custom_command(
      OUTPUT ${generated}
      COMMAND protobuf::protoc
              "--proto_path=${LEADLEDGER_PROTO_ROOT}"
              "--python_out=${LEADLEDGER_PYTHON_OUT}"
              "--grpc_python_out=${LEADLEDGER_PYTHON_OUT}"
              "--plugin=protoc-gen-grpc_python=${LEADLEDGER_GRPC_PYTHON_PLUGIN}"
              "${LEADLEDGER_PROTO_ROOT}/${proto}"
      DEPENDS "${LEADLEDGER_PROTO_ROOT}/${proto}" protobuf::protoc
      COMMENT "python stubs ${proto}"
      VERBATIM)
    list(APPEND outputs ${generated})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${outputs})
endfunction()
