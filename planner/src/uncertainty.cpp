#include "jevons/planner/uncertainty.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <tuple>

namespace jevons::planner {

namespace {

/// SplitMix64 (Steele, Lea and Flood 2014): a counter-based stream, so a value depends only on
/// (seed, input, sample) and never on which thread or rank drew the ones before it.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::uint64_t stream(std::uint64_t seed, std::uint64_t input, std::uint64_t sample) {
  return mix(mix(mix(seed) ^ (input * 0xD1B54A32D192ED03ULL)) ^ sample);
}

double unit(std::uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;  // [0, 1)
}

// Stream ids: the LHS permutation of input d uses input id d | kPermutation.
constexpr std::uint64_t kPermutation = 1ULL << 40;

enum class Part : std::uint8_t { kWithout, kWith, kNet, kEfficiency, kRebound };
constexpr const char* kPartNames[] = {"without", "with", "net", "efficiency", "rebound"};
constexpr const char* kMetricNames[] = {"hbm_installed_bytes", "hbm_shipped_bytes",
                                        "host_dram_bytes"};

double quarter_value(const std::vector<QuarterTotals>& totals, Headline h, std::size_t t) {
  switch (h) {
    case Headline::kHbmInstalled:
      return totals[t].hbm_installed_bytes;
    case Headline::kHbmShippedPerYear:
      return totals[t].hbm_shipped_bytes;
    case Headline::kHostDram:
      return totals[t].host_dram_bytes();
  }
  return 0;
}

/// Last quarter index of each calendar year the horizon touches, with the year's label.
std::vector<std::pair<std::size_t, std::string>> year_ends(const Scenario& s) {
  std::vector<std::pair<std::size_t, std::string>> out;
  const int T = static_cast<int>(s.horizon.quarters);
  for (int t = 0; t < T; ++t) {
    const int q = s.horizon.start_year * 4 + (s.horizon.start_quarter - 1) + t;
    if (q % 4 == 3 || t == T - 1)
      out.emplace_back(static_cast<std::size_t>(t), fmt::format("{}", q / 4));
  }
  return out;
}

/// A thread's memo in front of its capacity oracle, kept across that thread's samples. The
/// sampled inputs never enter a capacity query (only the speed does, and each speed grid point
/// has its own oracle), so a grid point's answer is the same for every sample; prompt scales
/// between grid points are answered by the same rule as CachedOracle::capacity
/// (capacity_between_grid_points) (the test
/// "the band memo answers as the capacity cache" holds the two together). Without it a sample
/// would rebuild the cache's canonical text key for every (generation, class, quarter, ε) probe.
class BandMemo : public CapacityOracle {
 public:
  explicit BandMemo(CapacityOracle& inner) : inner_(inner) {}
  ReplicaCapacity capacity(const CapacityQuery& q) override {
    return capacity_between_grid_points(
        q,
        [this](const CapacityQuery& g) {
          const double pos = std::log(g.prompt_scale) / std::log(CachedOracle::kGridRatio);
          return at(g, std::lround(pos));
        },
        grid_closed_form_);
  }
  std::string method() const override { return inner_.method(); }

 private:
  using Key = std::tuple<const GpuSpec*, const ModelSpec*, std::string, std::string, int, long>;
  static Key key_of(const CapacityQuery& q, long grid_index) {
    return {q.gpu,     q.model, q.demand_class->name, q.kv.name(), static_cast<int>(q.weights),
            grid_index};
  }
  /// The closed form, remembered at grid points: capacity_between_grid_points asks for it at
  /// the query's scale and at the nearest grid point, and the second is the same for every
  /// sample (half the closed-form work of a band).
  class GridClosedForm : public CapacityOracle {
   public:
    ReplicaCapacity capacity(const CapacityQuery& q) override {
      const double pos = std::log(q.prompt_scale) / std::log(CachedOracle::kGridRatio);
      if (std::fabs(pos - std::round(pos)) >= 1e-9) return closed_form_.capacity(q);
      const Key k = key_of(q, std::lround(pos));
      if (auto it = memo_.find(k); it != memo_.end()) return it->second;
      return memo_[k] = closed_form_.capacity(q);
    }
    std::string method() const override { return closed_form_.method(); }

   private:
    AnalyticalOracle closed_form_;
    std::map<Key, ReplicaCapacity> memo_;
  };
  ReplicaCapacity at(const CapacityQuery& q, long grid_index) {
    // The class by name: every sample's scenario copy holds its own DemandClassSpec.
    const Key k = key_of(q, grid_index);
    if (auto it = memo_.find(k); it != memo_.end()) return it->second;
    CapacityQuery g = q;
    g.prompt_scale = std::pow(CachedOracle::kGridRatio, static_cast<double>(grid_index));
    return memo_[k] = inner_.capacity(g);
  }
  CapacityOracle& inner_;
  GridClosedForm grid_closed_form_;  ///< as CachedOracle's: where a scale sits near a point
  std::map<Key, ReplicaCapacity> memo_;
};

}  // namespace

std::unique_ptr<CapacityOracle> band_memo(CapacityOracle& inner) {
  return std::make_unique<BandMemo>(inner);
}

std::vector<std::vector<double>> sample_probabilities(const UncertaintySpec& spec) {
  const std::size_t n = spec.samples, d = spec.inputs.size();
  std::vector<std::vector<double>> u(n, std::vector<double>(d, 0));
  for (std::size_t k = 0; k < d; ++k) {
    std::vector<std::size_t> stratum(n);
    std::iota(stratum.begin(), stratum.end(), 0);
    if (spec.latin_hypercube)
      for (std::size_t i = n; i > 1; --i)  // Fisher–Yates on input k's own stream
        std::swap(stratum[i - 1], stratum[stream(spec.seed, k | kPermutation, i) % i]);
    for (std::size_t i = 0; i < n; ++i) {
      const double jitter = unit(stream(spec.seed, k, i));
      u[i][k] = spec.latin_hypercube
                    ? (static_cast<double>(stratum[i]) + jitter) / static_cast<double>(n)
                    : jitter;
    }
  }
  return u;
}

std::vector<std::vector<double>> sample_inputs(const UncertaintySpec& spec) {
  auto v = sample_probabilities(spec);
  for (auto& row : v)
    for (std::size_t k = 0; k < row.size(); ++k) row[k] = spec.inputs[k].dist.quantile(row[k]);
  return v;
}

std::vector<double> speed_grid(const UncertaintySpec& spec) {
  for (const auto& in : spec.inputs) {
    if (in.name != "compressed_attention_time") continue;
    if (!in.grid.empty()) return in.grid;
    const double lo = in.dist.quantile(0), hi = in.dist.quantile(1);
    std::vector<double> g;
    for (int i = 0; i < in.grid_points; ++i)
      g.push_back(lo + (hi - lo) * i / std::max(1, in.grid_points - 1));
    return g;
  }
  return {};
}

Catalog catalog_at_speed(const Catalog& catalog, const Scenario& scenario, double time_vs_bf16) {
  Catalog c = catalog;
  auto& kv = c.latency().kv_formats();
  const std::string source = fmt::format("uncertainty grid point {:g}", time_vs_bf16);
  const auto& plan = *scenario.planner;
  for (std::size_t g = 0; g < plan.generations.size(); ++g) {
    const KvConfig& f = plan.compressed_format_of(g);
    for (const std::string& name : {f.name(), f.key.name(), f.value.name()})
      kv[name] = KvSpeed{time_vs_bf16, source};
  }
  c.latency().mark_loaded();
  return c;
}

Scenario apply_sample(const Scenario& base, const Catalog& catalog, const UncertaintySpec& spec,
                      const std::vector<double>& values, ProjectionAdjustments& adjust) {
  Scenario s = base;
  PlannerSpec& plan = *s.planner;
  auto set_elasticity = [](DemandClassSpec& c, double v) {
    // Each class keeps its own speed of adjustment λ = short/long (docs/planner.md, "Demand").
    const double lambda = c.elasticity.long_run > 0
                              ? std::min(1.0, c.elasticity.short_run / c.elasticity.long_run)
                              : 1.0;
    c.elasticity.long_run = v;
    c.elasticity.short_run = lambda * v;
  };
  // Market-wide inputs first, then per-class ones, which take precedence for their class.
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t k = 0; k < spec.inputs.size(); ++k) {
      const std::string& name = spec.inputs[k].name;
      const double v = values[k];
      const bool per_class = name.find('.') != std::string::npos &&
                             (name.rfind("elasticity.", 0) == 0 || name.rfind("growth.", 0) == 0);
      if (per_class != (pass == 1)) continue;
      if (per_class) {
        const std::string cls = name.substr(name.find('.') + 1);
        for (auto& c : plan.classes)
          if (c.name == cls) {
            if (name.rfind("elasticity.", 0) == 0)
              set_elasticity(c, v);
            else
              c.growth_per_year = v;
          }
      } else if (name == "elasticity") {
        for (auto& c : plan.classes) set_elasticity(c, v);
      } else if (name == "growth") {
        for (auto& c : plan.classes) c.growth_per_year = v;
      } else if (name == "adoption.ceiling") {
        plan.adoption.ceiling = v;
      } else if (name == "adoption.speed_per_quarter") {
        plan.adoption.speed_per_quarter = v;
      } else if (name == "gpu_price_factor") {
        for (auto& g : plan.generations) {
          double price = g.price_usd;
          if (price <= 0)
            price = catalog.gpu(g.gpu_id).price_usd.value.value_or(plan.default_price_usd);
          g.price_usd = price * v;
        }
        plan.default_price_usd *= v;
      } else if (name == "deliveries_factor") {
        for (auto& g : plan.generations) g.deliveries_per_quarter *= v;
      } else if (name == "hbm_supply_factor") {
        plan.hbm_supply_bytes_per_year *= v;
      } else if (name == "software_efficiency_growth") {
        plan.software_efficiency_growth_per_year = v;
      } else if (name == "hbm_per_package_factor") {
        adjust.hbm_per_package_factor = v;
      } else if (name == "compressed_attention_time") {
        adjust.compressed_attention_time = v;
      } else {
        throw std::logic_error("apply_sample: unhandled uncertain input " + name);
      }
    }
  return s;
}

std::pair<std::size_t, std::size_t> rank_block(std::size_t n, std::size_t rank, std::size_t ranks) {
  const std::size_t base = n / ranks, extra = n % ranks;
  const std::size_t begin = rank * base + std::min(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

std::vector<std::string> band_series_names() {
  std::vector<std::string> out;
  for (const char* m : kMetricNames)
    for (const char* p : kPartNames) out.push_back(fmt::format("{}.{}", m, p));
  return out;
}

std::vector<std::string> band_periods(const Scenario& scenario) {
  std::vector<std::string> out;
  for (std::uint32_t t = 0; t < scenario.horizon.quarters; ++t) {
    const int q = scenario.horizon.start_year * 4 + (scenario.horizon.start_quarter - 1) +
                  static_cast<int>(t);
    out.push_back(fmt::format("{}Q{}", q / 4, q % 4 + 1));
  }
  for (const auto& [t, label] : year_ends(scenario)) out.push_back(label);
  return out;
}

std::vector<double> SampleOutcome::pack() const {
  std::vector<double> p = values;
  p.insert(p.end(), break_even.begin(), break_even.end());
  return p;
}

SampleOutcome SampleOutcome::unpack(const std::vector<double>& packed, std::size_t values) {
  if (packed.size() < values) throw std::logic_error("SampleOutcome::unpack: short message");
  SampleOutcome o;
  o.values.assign(packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(values));
  o.break_even.assign(packed.begin() + static_cast<std::ptrdiff_t>(values), packed.end());
  return o;
}

std::vector<SampleOutcome> run_samples(const Scenario& scenario, const Catalog& catalog,
                                       const UncertaintySpec& spec,
                                       const std::vector<Catalog>& speed_catalogs,
                                       const std::vector<BandOracles>& oracles, std::size_t begin,
                                       std::size_t end, const BandOptions& options) {
  if (oracles.empty()) throw std::logic_error("run_samples: no oracles");
  const auto design = sample_inputs(spec);
  const auto grid = speed_grid(spec);
  if (grid.size() != speed_catalogs.size())
    throw std::logic_error("run_samples: one catalog per speed grid point expected");
  const auto ends = year_ends(scenario);
  const std::size_t T = scenario.horizon.quarters;
  const std::size_t periods = T + ends.size();
  std::vector<SampleOutcome> out(end - begin);
  std::atomic<std::size_t> done{0};
  std::vector<std::exception_ptr> failures(oracles.size());

  // Per thread: a memo in front of every oracle, kept across the thread's samples.
  std::vector<std::vector<std::unique_ptr<CapacityOracle>>> memos(oracles.size());
  for (std::size_t t = 0; t < oracles.size(); ++t) {
    memos[t].push_back(band_memo(*oracles[t].base));
    for (std::size_t k = 0; k < grid.size(); ++k)
      memos[t].push_back(band_memo(*oracles[t].at_speed.at(k)));
  }
  auto one = [&](std::size_t i, std::size_t t) {
    const auto& memo = memos[t];
    ProjectionAdjustments adjust;
    for (std::size_t k = 0; k < grid.size(); ++k)
      adjust.speed_grid.push_back({grid[k], memo[k + 1].get(), &speed_catalogs[k].latency()});
    const Scenario s = apply_sample(scenario, catalog, spec, design[i], adjust);
    ProjectionProbe probe(s, catalog, *memo[0], adjust);
    const auto& cf = probe.counterfactual();
    const auto& eff = probe.efficiency();
    const auto& full = probe.with_rebound();
    SampleOutcome& o = out[i - begin];
    o.values.reserve(std::size(kMetricNames) * std::size(kPartNames) * periods);
    for (int m = 0; m < kHeadlineCount; ++m) {
      const auto h = static_cast<Headline>(m);
      for (int part = 0; part < 5; ++part)
        for (std::size_t p = 0; p < periods; ++p) {
          auto value = [&](const std::vector<QuarterTotals>& v) {
            return p < T ? quarter_value(v, h, p) : year_value(v, h, ends[p - T].first);
          };
          const double w = value(cf), e = value(eff), f = value(full);
          switch (static_cast<Part>(part)) {
            case Part::kWithout:
              o.values.push_back(w);
              break;
            case Part::kWith:
              o.values.push_back(f);
              break;
            case Part::kNet:
              o.values.push_back(f - w);
              break;
            case Part::kEfficiency:
              o.values.push_back(e - w);
              break;
            case Part::kRebound:
              o.values.push_back(f - e);
              break;
          }
        }
    }
    if (options.break_even) {
      const BreakEvenRange range{spec.break_even_low, spec.break_even_high, options.break_even_step,
                                 options.break_even_tolerance};
      for (int m = 0; m < kHeadlineCount; ++m)
        o.break_even.push_back(probe.break_even(static_cast<Headline>(m), range).ordered_value());
    }
    const std::size_t d = ++done;
    if (options.progress) options.progress(d, end - begin);
  };

  const std::size_t threads = std::min(oracles.size(), std::max<std::size_t>(1, end - begin));
  if (threads <= 1) {
    for (std::size_t i = begin; i < end; ++i) one(i, 0);
    return out;
  }
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      try {
        for (std::size_t i = begin + t; i < end; i += threads) one(i, t);
      } catch (...) {
        failures[t] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  return out;
}

double quantile_sorted(const std::vector<double>& v, double p) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double h = (static_cast<double>(v.size()) - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = h - static_cast<double>(lo);
  if (frac == 0 || v[lo] == v[hi]) return v[lo];
  if (!std::isfinite(v[lo]) || !std::isfinite(v[hi])) return frac < 0.5 ? v[lo] : v[hi];
  return v[lo] + frac * (v[hi] - v[lo]);
}

Band reduce_band(const Scenario& scenario, const UncertaintySpec& spec,
                 const std::vector<SampleOutcome>& outcomes,
                 const std::vector<double>& scenario_break_even, const BandOptions& options) {
  Band b;
  b.samples = outcomes.size();
  b.seed = spec.seed;
  b.latin_hypercube = spec.latin_hypercube;
  b.break_even_low = spec.break_even_low;
  b.break_even_high = spec.break_even_high;
  for (const auto& in : spec.inputs) {
    b.input_names.push_back(in.name);
    b.input_distributions.push_back(in.dist.describe());
  }
  const auto series = band_series_names();
  const auto periods = band_periods(scenario);
  std::vector<double> v(outcomes.size());
  for (std::size_t s = 0; s < series.size(); ++s)
    for (std::size_t p = 0; p < periods.size(); ++p) {
      const std::size_t k = s * periods.size() + p;
      for (std::size_t i = 0; i < outcomes.size(); ++i) v[i] = outcomes[i].values.at(k);
      std::sort(v.begin(), v.end());
      b.rows.push_back({series[s], periods[p], quantile_sorted(v, 0.1), quantile_sorted(v, 0.5),
                        quantile_sorted(v, 0.9)});
    }
  if (options.break_even && !outcomes.empty() && !outcomes.front().break_even.empty()) {
    for (int m = 0; m < kHeadlineCount; ++m) {
      BreakEvenBand be;
      be.metric = to_string(static_cast<Headline>(m));
      be.low = spec.break_even_low;
      be.high = spec.break_even_high;
      be.at_scenario = scenario_break_even.size() > static_cast<std::size_t>(m)
                           ? scenario_break_even[static_cast<std::size_t>(m)]
                           : std::numeric_limits<double>::quiet_NaN();
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        v[i] = outcomes[i].break_even.at(static_cast<std::size_t>(m));
        if (v[i] == -std::numeric_limits<double>::infinity())
          ++be.above_at_low;
        else if (v[i] == std::numeric_limits<double>::infinity())
          ++be.none_below_high;
        else
          ++be.crossings;
      }
      std::sort(v.begin(), v.end());
      be.p10 = quantile_sorted(v, 0.1);
      be.p50 = quantile_sorted(v, 0.5);
      be.p90 = quantile_sorted(v, 0.9);
      b.break_even.push_back(be);
    }
  }
  return b;
}

}  // namespace jevons::planner
