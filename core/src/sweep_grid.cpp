#include "jevons/core/sweep_grid.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "jevons/core/error.h"
#include "yaml_reader.h"

namespace jevons {

namespace {

constexpr double kMaxPoints = 1e6;  // as for Latin hypercube samples

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) {
    Diagnostic d;
    d.file = path;
    d.message = "cannot open the " + what + " (missing, or not readable)";
    throw InputError(d);
  }
  check_input_file_size(path, what);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  check_input_lines(path, text, what);
  return text;
}

struct Step {
  std::string key;
  bool index = false;
  bool all = false;
  std::size_t i = 0;
};

/// "planner.classes[*].elasticity.long_run" → steps; empty on a syntax error. Parsed by hand:
/// std::regex matches recursively, one stack frame per character, so a long key could overflow
/// the stack; indices are limited to 9 digits so they cannot overflow either.
std::vector<Step> split_path(const std::string& path) {
  const auto alpha = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::vector<Step> steps;
  const std::size_t n = path.size();
  std::size_t i = 0;
  for (;;) {
    if (i >= n || !alpha(path[i])) return {};
    const std::size_t start = i;
    while (i < n && (alpha(path[i]) || digit(path[i]))) ++i;
    steps.push_back({path.substr(start, i - start), false, false, 0});
    while (i < n && path[i] == '[') {
      Step s;
      s.index = true;
      if (++i < n && path[i] == '*') {
        s.all = true;
        ++i;
      } else {
        const std::size_t first = i;
        while (i < n && digit(path[i]) && i - first < 9)
          s.i = s.i * 10 + static_cast<std::size_t>(path[i++] - '0');
        if (i == first) return {};
      }
      if (i >= n || path[i] != ']') return {};
      ++i;
      steps.push_back(s);
    }
    if (i == n) return steps;
    if (path[i++] != '.') return {};
  }
}

/// Collects the nodes `steps` address under `node`; false when a step does not exist.
bool resolve(YAML::Node node, const std::vector<Step>& steps, std::size_t at,
             std::vector<YAML::Node>& out) {
  if (at == steps.size()) {
    out.push_back(node);
    return true;
  }
  const Step& s = steps[at];
  if (!s.index) {
    if (!node.IsMap() || !node[s.key]) return false;
    return resolve(node[s.key], steps, at + 1, out);
  }
  if (!node.IsSequence()) return false;
  if (s.all) {
    if (node.size() == 0) return false;
    for (std::size_t i = 0; i < node.size(); ++i)
      if (!resolve(node[i], steps, at + 1, out)) return false;
    return true;
  }
  if (s.i >= node.size()) return false;
  return resolve(node[s.i], steps, at + 1, out);
}

}  // namespace

SweepGrid SweepGrid::load(const std::string& path) {
  return parse(read_text(path, "sweep grid"), path);
}

SweepGrid SweepGrid::parse(const std::string& text, const std::string& path) {
  SweepGrid g;
  g.path = path;
  yaml::Context ctx(path);
  YAML::Node doc = yaml::parse_document(text, path);
  if (doc.IsNull()) {  // no text or only comments: say so, not "scenario: required key is missing"
    ctx.error_at(YAML::Mark::null_mark(), "", "", "the sweep grid file is empty");
    ctx.throw_if_errors();
  }
  yaml::MapReader root(ctx, doc, "");
  if (!root.valid()) ctx.throw_if_errors();
  const auto scenario = root.string("scenario", true);
  const std::string method = root.choice_or("method", "grid", {"grid", "latin-hypercube"});
  g.latin_hypercube = method == "latin-hypercube";
  g.samples = static_cast<std::uint32_t>(
      root.integer_or("samples", g.latin_hypercube ? 0 : 1, yaml::non_negative(kMaxPoints)));
  g.seed = static_cast<std::uint64_t>(root.integer_or("seed", 0, yaml::non_negative(9e15)));
  YAML::Node params = root.child("parameters", true);
  root.finish();
  if (scenario) {
    namespace fs = std::filesystem;
    const fs::path sp(*scenario);
    g.scenario_path = sp.is_absolute()
                          ? sp.string()
                          : (fs::path(path).parent_path() / sp).lexically_normal().string();
  }
  if (params.IsDefined() && !params.IsNull() && (!params.IsSequence() || params.size() == 0))
    ctx.error(params, "parameters", yaml::describe(params),
              "expected a non-empty list of parameters to vary");
  if (params.IsSequence()) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::string p = fmt::format("parameters[{}]", i);
      yaml::MapReader r(ctx, params[i], p);
      if (!r.valid()) continue;
      SweepParameter sp;
      sp.line = params[i].Mark().line + 1;
      sp.key = r.string("key", true).value_or("");
      YAML::Node values = r.child("values");
      YAML::Node range = r.child("range");
      r.finish();
      if (!sp.key.empty() && split_path(sp.key).empty())
        ctx.error(params[i]["key"], p + ".key", sp.key,
                  "expected a dotted key path such as planner.classes[*].elasticity.long_run");
      if (values.IsDefined() == range.IsDefined()) {
        ctx.error(params[i], p, sp.key,
                  "give exactly one of 'values' (a list) or 'range' ([low, high])");
      } else if (values.IsDefined()) {
        if (!values.IsSequence() || values.size() == 0) {
          ctx.error(
              values, p + ".values", yaml::describe(values),
              "expected a non-empty list of values; an empty list gives a grid with no points");
        } else {
          for (const auto& v : values) {
            if (!v.IsScalar()) {
              ctx.error(v, p + ".values", yaml::describe(v), "expected a scalar value");
              continue;
            }
            // apply() writes each value into the scenario by reading it back as YAML; a quoted
            // scalar such as "a: b: c" does not read back (found by fuzzing), so it is refused
            // here rather than thrown later from apply() as an internal error.
            try {
              (void)YAML::Load(v.Scalar());
            } catch (const YAML::Exception& e) {
              ctx.error(v, p + ".values", v.Scalar(),
                        "expected a value that reads back as YAML (" + e.msg + ")");
              continue;
            }
            sp.values.push_back(v.Scalar());
          }
        }
      } else {
        sp.continuous = true;
        if (!range.IsSequence() || range.size() != 2) {
          ctx.error(range, p + ".range", yaml::describe(range), "expected [low, high]");
        } else {
          auto lo = yaml::MapReader::to_number(ctx, range[0], p + ".range[0]", yaml::Range{});
          auto hi = yaml::MapReader::to_number(ctx, range[1], p + ".range[1]", yaml::Range{});
          if (lo && hi) {
            sp.low = *lo;
            sp.high = *hi;
            if (!(sp.low < sp.high))
              ctx.error(range, p + ".range", yaml::describe(range), "expected low < high");
          }
        }
        if (!g.latin_hypercube)
          ctx.error(params[i], p + ".range", sp.key,
                    "a continuous range needs method: latin-hypercube (a grid needs values)");
      }
      g.parameters.push_back(std::move(sp));
    }
  }
  // points() materialises every point: a grid of a few long value lists can multiply out to more
  // points than memory holds (or than size_t counts), so the product is checked here, in double.
  if (!g.latin_hypercube && !g.parameters.empty()) {
    double n = 1;
    for (const auto& p : g.parameters) n *= static_cast<double>(p.values.size());
    if (n > kMaxPoints)
      ctx.error(params, "parameters", fmt::format("{:.4g} points", n),
                fmt::format("a grid may have at most {:.0f} points (the product of the value list "
                            "lengths); sample a large space with method: latin-hypercube",
                            kMaxPoints));
  }
  if (g.latin_hypercube && g.samples == 0)
    ctx.error(doc["samples"], "samples", "0",
              "a Latin hypercube needs samples ≥ 1; zero gives no points");
  ctx.throw_if_errors();

  // The base scenario must have every key the grid sets.
  g.scenario_text = read_text(g.scenario_path, "base scenario named by the sweep grid");
  YAML::Node base = yaml::parse_document(g.scenario_text, g.scenario_path);
  for (std::size_t i = 0; i < g.parameters.size(); ++i) {
    std::vector<YAML::Node> nodes;
    if (!resolve(base, split_path(g.parameters[i].key), 0, nodes))
      ctx.error(params[i]["key"], fmt::format("parameters[{}].key", i), g.parameters[i].key,
                "the base scenario " + g.scenario_path + " has no such key to vary");
  }
  ctx.throw_if_errors();
  return g;
}

std::vector<SweepPoint> SweepGrid::points() const {
  std::vector<SweepPoint> out;
  if (!latin_hypercube) {
    std::size_t n = 1;
    for (const auto& p : parameters) n *= p.values.size();
    for (std::size_t i = 0; i < n; ++i) {
      SweepPoint pt;
      pt.index = i;
      std::size_t rest = i;
      pt.values.resize(parameters.size());
      for (std::size_t k = parameters.size(); k-- > 0;) {
        const auto& vs = parameters[k].values;
        pt.values[k] = vs[rest % vs.size()];
        rest /= vs.size();
      }
      out.push_back(std::move(pt));
    }
    return out;
  }
  // Latin hypercube: each parameter's range is cut into `samples` strata, each used once, in an
  // order shuffled per parameter; discrete parameters cycle through their values the same way.
  std::mt19937_64 rng(seed);
  const std::size_t n = samples;
  std::vector<std::vector<std::string>> cols(parameters.size(), std::vector<std::string>(n));
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    std::vector<std::size_t> perm(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = i;
    for (std::size_t i = n; i > 1; --i)
      std::swap(perm[i - 1], perm[rng() % i]);  // portable shuffle
    const auto& p = parameters[k];
    for (std::size_t i = 0; i < n; ++i) {
      if (p.continuous) {
        const double u =
            (static_cast<double>(rng() >> 11) * 0x1.0p-53 + static_cast<double>(perm[i])) /
            static_cast<double>(n);
        cols[k][i] = fmt::format("{:.6g}", p.low + u * (p.high - p.low));
      } else {
        cols[k][i] = p.values[perm[i] % p.values.size()];
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    SweepPoint pt;
    pt.index = i;
    for (std::size_t k = 0; k < parameters.size(); ++k) pt.values.push_back(cols[k][i]);
    out.push_back(std::move(pt));
  }
  return out;
}

std::string SweepGrid::apply(const SweepPoint& point) const {
  YAML::Node base = YAML::Load(scenario_text);
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    std::vector<YAML::Node> nodes;
    resolve(base, split_path(parameters[k].key), 0, nodes);
    for (auto& n : nodes) n = YAML::Load(point.values[k]);
  }
  YAML::Emitter out;
  out << base;
  return std::string(out.c_str()) + "\n";
}

std::string SweepGrid::describe(const SweepPoint& point) const {
  nlohmann::ordered_json j;
  for (std::size_t k = 0; k < parameters.size(); ++k) j[parameters[k].key] = point.values[k];
  // YAML scalars need not be valid UTF-8 and dump() throws on such bytes (found by fuzzing):
  // they are stored as U+FFFD instead, so describing a point never fails.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace jevons
