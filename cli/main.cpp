// jevons: the headless command line. Each subcommand lives in cmd_<name>.cpp.
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "commands.h"
#include "jevons/core/build_info.h"
#include "jevons/core/error.h"

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
  add_sweep(app, action);
  add_report(app, action);

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
