# Writes build_info.cpp from its template at every build, not once at configure time: the commit
# keys the planner's capacity cache (docs/planner.md), so a rebuild after a new commit, or after an
# uncommitted edit to tracked files, must not reuse the answers of the code before it.
# Script mode: cmake -DTEMPLATE=... -DOUTPUT=... -DSOURCE_DIR=... -DGIT=... -DVERSION=... -P this
set(PROJECT_VERSION "${VERSION}")
set(JEVONS_GIT_COMMIT "unknown")
if(GIT AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT}" rev-parse --short=12 HEAD
                  WORKING_DIRECTORY "${SOURCE_DIR}"
                  OUTPUT_VARIABLE _commit OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND NOT _commit STREQUAL "")
    set(JEVONS_GIT_COMMIT "${_commit}")
    # Uncommitted changes to tracked files: the commit alone would name code that was not built.
    # A digest of the diff tells two different edits of the same commit apart.
    execute_process(COMMAND "${GIT}" diff HEAD --no-ext-diff --no-color
                    WORKING_DIRECTORY "${SOURCE_DIR}"
                    OUTPUT_VARIABLE _diff ERROR_QUIET RESULT_VARIABLE _rc)
    if(_rc EQUAL 0 AND NOT _diff STREQUAL "")
      string(SHA1 _digest "${_diff}")
      string(SUBSTRING "${_digest}" 0 8 _digest)
      set(JEVONS_GIT_COMMIT "${JEVONS_GIT_COMMIT}-dirty-${_digest}")
    endif()
  endif()
endif()
# configure_file rewrites OUTPUT only when its text changes, so an unchanged commit rebuilds
# nothing.
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
