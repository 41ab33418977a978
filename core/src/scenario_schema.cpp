#include "jevons/core/scenario_schema.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <unordered_map>

namespace jevons::schema {

std::string Range::expected() const {
  const bool has_min = min > -std::numeric_limits<double>::max();
  const bool has_max = max < std::numeric_limits<double>::max();
  if (has_min && has_max)
    return fmt::format("a finite number in {}{}, {}]", min_exclusive ? "(" : "[", min, max);
  if (has_min) return fmt::format("a finite number {} {}", min_exclusive ? ">" : ">=", min);
  if (has_max) return fmt::format("a finite number <= {}", max);
  return "a finite number";
}

bool Range::contains(double v) const {
  if (!std::isfinite(v)) return false;
  const bool below = min_exclusive ? !(v > min) : v < min;
  return !below && v <= max;
}

Range positive(double max) {
  return Range{0, max, true};
}
Range non_negative(double max) {
  return Range{0, max, false};
}
Range between(double lo, double hi) {
  return Range{lo, hi, false};
}
Range unit_open_below() {
  return Range{0, 1, true};
}

std::string_view Key::name() const {
  const auto dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

std::string_view Key::parent() const {
  const auto dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
}

std::vector<std::string_view> Key::segments() const {
  std::vector<std::string_view> out;
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto dot = rest.find('.');
    out.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return out;
}

std::string Key::at(std::initializer_list<std::size_t> indices) const {
  std::string out;
  auto next = indices.begin();
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path.compare(i, 2, "[]") == 0) {
      out += fmt::format("[{}]", next != indices.end() ? *next++ : 0);
      ++i;
    } else {
      out += path[i];
    }
  }
  return out;
}

namespace {
// The kinds of key, for the table below.
Key number(std::string_view path, Range range, double fallback, std::string_view doc) {
  return Key{path, Kind::kNumber, range, fallback, {}, {}, false, doc};
}
Key integer(std::string_view path, Range range, double fallback, std::string_view doc) {
  return Key{path, Kind::kInteger, range, fallback, {}, {}, false, doc};
}
Key text(std::string_view path, std::string_view fallback, std::string_view doc) {
  return Key{path, Kind::kText, {}, 0, fallback, {}, false, doc};
}
Key quarter(std::string_view path, std::string_view fallback, std::string_view doc) {
  return Key{path, Kind::kQuarter, {}, 0, fallback, {}, false, doc};
}
Key kv_format(std::string_view path, std::string_view fallback, std::string_view doc) {
  return Key{path, Kind::kKvFormat, {}, 0, fallback, {}, false, doc};
}
Key kv_format_list(std::string_view path, std::string_view doc) {
  return Key{path, Kind::kKvFormatList, {}, 0, {}, {}, false, doc};
}
Key choice(std::string_view path, std::string_view fallback, std::vector<std::string> choices,
           std::string_view doc) {
  return Key{path, Kind::kChoice, {}, 0, fallback, std::move(choices), false, doc};
}
Key section(std::string_view path, std::string_view doc) {
  return Key{path, Kind::kSection, {}, 0, {}, {}, false, doc};
}
Key list(std::string_view path, std::string_view doc) {
  return Key{path, Kind::kList, {}, 0, {}, {}, false, doc};
}
Key required(Key k) {
  k.required = true;
  return k;
}
}  // namespace

namespace keys {

// Top level.
const Key kName = required(text("name", "", "Scenario name, stored with every run."));
const Key kDescription = text("description", "", "One line saying what the scenario asks.");
const Key kSeed =
    integer("seed", non_negative(9.0e15), 0,
            "Seed of every random stream: the same scenario and seed give identical results.");
const Key kHorizon = section("horizon", "The quarters the planner projects.");
const Key kHorizonStart =
    quarter("horizon.start", "2026Q1", "First quarter of the projection, as YYYYQn.");
const Key kHorizonQuarters =
    integer("horizon.quarters", positive(400), 20, "Number of quarters the planner projects.");
const Key kPools = list("pools", "Static GPU pools (required unless the scenario has a planner).");
const Key kPool = section("pools[]", "One static GPU pool.");
const Key kPoolKvFormats = kv_format_list("pools[].kv_formats",
                                          "KV formats the pool evaluates, the first one simulated; "
                                          "absent: the scenario's top-level kv_formats.");

// planner:
const Key kPlanner =
    section("planner", "The fleet planner: demand classes, fleet, economics, capacity.");
const Key kBaselineFormat = kv_format(
    "planner.baseline_format", "fp8",
    "The KV format of the no-compression counterfactual every result is compared against.");
const Key kCompressedFormat =
    kv_format("planner.compressed_format", "tq-3.5",
              "The KV format fleets adopt unless a generation sets its own.");
const Key kAdoption = section("planner.adoption", "Logistic adoption of the compressed format.");
const Key kAdoptionStart = quarter("planner.adoption.start", "",
                                   "The quarter in which 1 % of the fleet has adopted the "
                                   "compressed format; absent: the horizon's first.");
const Key kAdoptionSpeed =
    number("planner.adoption.speed_per_quarter", positive(50), 1,
           "Logistic adoption speed: larger values reach the ceiling in fewer quarters.");
const Key kAdoptionCeiling =
    number("planner.adoption.ceiling", non_negative(1), 1,
           "The share of each fleet that eventually adopts the compressed format.");
const Key kClasses =
    required(list("planner.classes", "The demand classes (chat, code, agents, ...)."));
const Key kClass = section("planner.classes[]", "One demand class.");
const Key kClassName = required(
    text("planner.classes[].name", "", "Name of the demand class (chat, code, agents, ...)."));
const Key kClassModel = required(
    text("planner.classes[].model", "", "Catalog id of the model that serves this class."));
const Key kClassTokensPerS =
    required(number("planner.classes[].tokens_per_s", positive(1e15), 1,
                    "Average demand in the first quarter, prompt plus output tokens per second."));
const Key kClassGrowth =
    number("planner.classes[].growth_per_year", positive(1000), 1,
           "Baseline demand growth per year as a multiplier (2 = doubles every year).");
const Key kClassElasticity =
    section("planner.classes[].elasticity",
            "Price elasticity of demand (low ≤ long_run ≤ high, short_run ≤ long_run).");
const Key kElasticityShortRun =
    number("planner.classes[].elasticity.short_run", non_negative(10), 0.5,
           "Price elasticity of demand within one quarter (at most the long-run value).");
const Key kElasticityLongRun =
    number("planner.classes[].elasticity.long_run", non_negative(10), 1.1,
           "Long-run price elasticity of demand: above 1, cheaper tokens raise total spending.");
const Key kElasticityLow = number("planner.classes[].elasticity.low", non_negative(10), 0,
                                  "Low end of the long-run elasticity's sensitivity range.");
const Key kElasticityHigh = number("planner.classes[].elasticity.high", non_negative(10), 2,
                                   "High end of the long-run elasticity's sensitivity range.");
const Key kClassSlo =
    section("planner.classes[].slo", "Latency targets; a demand class needs at least one.");
const Key kSloTtftMs = number("planner.classes[].slo.ttft_ms", non_negative(1e9), 0,
                              "Time-to-first-token target in milliseconds (0 = none).");
const Key kSloTpotMs = number("planner.classes[].slo.tpot_ms", non_negative(1e9), 0,
                              "Time-per-output-token target in milliseconds (0 = none).");
const Key kFleet = required(
    section("planner.fleet", "The fleet: GPU generations, power and HBM supply, retirement."));
const Key kGenerations = required(
    list("planner.fleet.generations", "The GPU generations of the fleet and their deliveries."));
const Key kGeneration = section("planner.fleet.generations[]", "One GPU generation.");
const Key kGenerationGpu =
    required(text("planner.fleet.generations[].gpu", "", "Catalog id of the GPU."));
const Key kGenerationInstalled = number("planner.fleet.generations[].installed", non_negative(1e9),
                                        0, "GPUs installed at the horizon start.");
const Key kGenerationAvailableFrom =
    quarter("planner.fleet.generations[].available_from", "",
            "First quarter new units can be delivered; absent: the horizon's first.");
const Key kGenerationDeliveries =
    number("planner.fleet.generations[].deliveries_per_quarter", non_negative(1e9), 0,
           "Supply cap on new GPUs per quarter.");
const Key kGenerationPrice = number(
    "planner.fleet.generations[].price_usd", non_negative(1e8), 0,
    "Purchase price per GPU in US dollars (0 = the catalog's, else economics.default_price_usd).");
const Key kGenerationCompressedFormat =
    kv_format("planner.fleet.generations[].compressed_format", "",
              "The KV format this generation adopts; absent: the planner-wide one.");
const Key kGenerationAdoption =
    section("planner.fleet.generations[].adoption",
            "This generation's own adoption curve; absent: the planner-wide one.");
const Key kGenerationAdoptionStart =
    quarter("planner.fleet.generations[].adoption.start", "", kAdoptionStart.doc);
const Key kGenerationAdoptionSpeed =
    number("planner.fleet.generations[].adoption.speed_per_quarter", kAdoptionSpeed.range,
           kAdoptionSpeed.fallback, kAdoptionSpeed.doc);
const Key kGenerationAdoptionCeiling =
    number("planner.fleet.generations[].adoption.ceiling", kAdoptionCeiling.range,
           kAdoptionCeiling.fallback, kAdoptionCeiling.doc);
const Key kEconomics =
    section("planner.economics", "Capital and power costs, and how cost reaches the token price.");
const Key kGpuLifetimeYears = number("planner.economics.gpu_lifetime_years", positive(30), 5,
                                     "Years over which a GPU's price is depreciated.");
const Key kServerCostMultiplier =
    number("planner.economics.server_cost_multiplier", between(1, 10), 1.5,
           "Server, network and facility capital cost per dollar of GPU.");
const Key kPowerUsdPerKwh = number("planner.economics.power_usd_per_kwh", non_negative(10), 0.08,
                                   "Electricity price in US dollars per kWh.");
const Key kAverageUtilization =
    number("planner.economics.average_utilization", unit_open_below(), 0.6,
           "Share of TDP drawn on average, for power cost and energy.");
const Key kDefaultPriceUsd = number("planner.economics.default_price_usd", positive(1e8), 30000,
                                    "Price used for GPUs whose catalog price is unknown.");
const Key kMargin = number("planner.economics.margin", non_negative(100), 0,
                           "Provider margin over cost in the token price (docs/elasticity.md).");
const Key kPassThrough = number("planner.economics.pass_through", between(0, 1), 1,
                                "Share of a cost change passed on to the token price.");
const Key kCapacity = section("planner.capacity", "How a replica's sustainable load is found.");
const Key kCapacityMethod =
    choice("planner.capacity.method", "simulate", {"simulate", "analytical"},
           "simulate: bisection on simulated runs; analytical: the closed-form estimate (instant, "
           "less exact under tight SLOs).");
const Key kSloAttainment = number("planner.capacity.slo_attainment", unit_open_below(), 0.95,
                                  "The share of requests that must meet both targets for a "
                                  "replica's load to count as sustainable.");

}  // namespace keys

const std::vector<const Key*>& all() {
  using namespace keys;
  static const std::vector<const Key*> list = {
      &kName,
      &kDescription,
      &kSeed,
      &kHorizon,
      &kHorizonStart,
      &kHorizonQuarters,
      &kPools,
      &kPool,
      &kPoolKvFormats,
      &kPlanner,
      &kBaselineFormat,
      &kCompressedFormat,
      &kAdoption,
      &kAdoptionStart,
      &kAdoptionSpeed,
      &kAdoptionCeiling,
      &kClasses,
      &kClass,
      &kClassName,
      &kClassModel,
      &kClassTokensPerS,
      &kClassGrowth,
      &kClassElasticity,
      &kElasticityShortRun,
      &kElasticityLongRun,
      &kElasticityLow,
      &kElasticityHigh,
      &kClassSlo,
      &kSloTtftMs,
      &kSloTpotMs,
      &kFleet,
      &kGenerations,
      &kGeneration,
      &kGenerationGpu,
      &kGenerationInstalled,
      &kGenerationAvailableFrom,
      &kGenerationDeliveries,
      &kGenerationPrice,
      &kGenerationCompressedFormat,
      &kGenerationAdoption,
      &kGenerationAdoptionStart,
      &kGenerationAdoptionSpeed,
      &kGenerationAdoptionCeiling,
      &kEconomics,
      &kGpuLifetimeYears,
      &kServerCostMultiplier,
      &kPowerUsdPerKwh,
      &kAverageUtilization,
      &kDefaultPriceUsd,
      &kMargin,
      &kPassThrough,
      &kCapacity,
      &kCapacityMethod,
      &kSloAttainment,
  };
  return list;
}

namespace {

/// "planner.classes[2].slo" → "planner.classes[].slo", the indices to `indices`; the text
/// unchanged when a bracket holds no whole number.
std::string normalize(std::string_view path, std::vector<std::size_t>* indices) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    out += path[i];
    if (path[i] != '[') continue;
    std::size_t j = i + 1;
    std::size_t n = 0;
    while (j < path.size() && std::isdigit(static_cast<unsigned char>(path[j])))
      n = n * 10 + static_cast<std::size_t>(path[j++] - '0');
    if (j < path.size() && path[j] == ']' && j > i + 1) {
      if (indices) indices->push_back(n);
      i = j - 1;  // the loop appends the ']'
    }
  }
  return out;
}

}  // namespace

const Key* find(std::string_view path, std::vector<std::size_t>* indices) {
  static const auto by_path = [] {
    std::unordered_map<std::string_view, const Key*> m;
    for (const Key* k : all()) m.emplace(k->path, k);
    return m;
  }();
  std::vector<std::size_t> found;
  const std::string pattern = normalize(path, &found);
  const auto it = by_path.find(pattern);
  if (it == by_path.end()) return nullptr;
  if (indices) *indices = std::move(found);
  return it->second;
}

const Key* find_enclosing(std::string_view path, std::vector<std::size_t>* indices) {
  std::string p(path);
  while (!p.empty()) {
    if (const Key* k = find(p, indices)) return k;
    if (p.back() == ']') {
      p.erase(p.rfind('['));
    } else {
      const auto dot = p.rfind('.');
      p.erase(dot == std::string::npos ? 0 : dot);
    }
  }
  return nullptr;
}

}  // namespace jevons::schema
