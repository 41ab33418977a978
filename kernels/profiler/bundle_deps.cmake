# Copies the non-system shared libraries jevons-profile needs (fmt, yaml-cpp: Debian packages)
# next to it, so the binary plus these files run on a GPU machine without those packages.
# Invoked as: cmake -DEXE=<path> -P bundle_deps.cmake
file(GET_RUNTIME_DEPENDENCIES EXECUTABLES ${EXE}
     RESOLVED_DEPENDENCIES_VAR _deps UNRESOLVED_DEPENDENCIES_VAR _missing
     PRE_EXCLUDE_REGEXES "^(ld-linux|libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\\+\\+|libcuda)\\.so.*")
get_filename_component(_dir ${EXE} DIRECTORY)
foreach(_d ${_deps})
  if(_d MATCHES "libfmt|libyaml-cpp")
    file(COPY ${_d} DESTINATION ${_dir} FOLLOW_SYMLINK_CHAIN)
  endif()
endforeach()
