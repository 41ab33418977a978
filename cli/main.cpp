// jevons: the headless command line. Each subcommand lives in cmd_<name>.cpp.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "commands.h"
#include "jevons/core/build_info.h"
#include "jevons/core/error.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JEVONS_LEAK_CHECKED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define JEVONS_LEAK_CHECKED 1
#endif

#ifdef JEVONS_LEAK_CHECKED
// LeakSanitizer's hook (scripts/test-sanitizers.sh). OpenMPI's plugins are dlopen'ed and unloaded
// at MPI_Finalize, leaving allocations LSan can only attribute to "<unknown module>", so no
// suppression can name them. Leak checking stays on for every other run, including sweeps of the
// same code on threads.
extern "C" int __lsan_is_turned_off() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;
}
#endif

int main(int argc, char** argv) {
  using namespace jevons::cli;
  CLI::App app{
      "Jevons: capacity planning for AI inference memory (HBM and host DRAM) under "
      "KV-cache compression and demand elasticity."};
  app.set_version_flag("--version",
                       fmt::format("jevons {} ({})", jevons::version(), jevons::git_commit()));
  app.require_subcommand(1);
  Action action;
  add_run(app, action);
  add_validate(app, action);
  add_catalog(app, action);
  add_profile(app, action);
  add_calibrate(app, action);
  add_validate_published(app, action);
  add_sweep(app, action);
  add_report(app, action);
  add_backcast(app, action);
  add_rate_search(app, action);
  add_band(app, action);

  // CLI11 answers an unknown first word with "A subcommand is required", which reads as if none
  // was given: name the word, the nearest subcommand and the list instead.
  if (argc >= 2 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      const std::string guess = jevons::closest_match(argv[1], names);
      std::fprintf(stderr, "error: unknown subcommand '%s'%s; the subcommands are: %s\n",
                   jevons::printable(argv[1]).c_str(),
                   guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess).c_str(),
                   fmt::format("{}", fmt::join(names, ", ")).c_str());
      return kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }
  try {
    return action ? action() : kExitOk;
  } catch (const jevons::InputError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return kExitInternal;
  }
}
