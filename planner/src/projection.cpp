#include "jevons/planner/projection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>

#include "jevons/core/kv_accounting.h"
#include "jevons/core/replica_memory.h"
#include "jevons/planner/break_even.h"
#include "jevons/planner/elasticity.h"

namespace jevons::planner {

std::vector<ScarcityRow> scarcity(const PlannerSpec& plan, const Projection& p, Variant v) {
  std::vector<ScarcityRow> out;
  for (const auto& c : p.classes) {
    if (c.variant != v) continue;
    ScarcityRow r;
    r.quarter = c.quarter;
    r.class_name = c.class_name;
    r.peak_tokens_per_s = c.peak_tokens_per_s;
    r.served_share =
        c.peak_tokens_per_s > 0 ? 1.0 - c.unserved_peak_tokens_per_s / c.peak_tokens_per_s : 1.0;
    for (const auto& k : plan.classes)
      if (k.name == c.class_name) r.long_run_elasticity = k.elasticity.long_run;
    r.rationing_price_ratio = rationing_price_ratio(r.served_share, r.long_run_elasticity);
    out.push_back(std::move(r));
  }
  return out;
}

std::string quarter_label(const HorizonSpec& h, int index) {
  const int q0 = h.start_year * 4 + (h.start_quarter - 1) + index;
  return fmt::format("{}Q{}", q0 / 4, q0 % 4 + 1);
}

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kHoursPerYear = 8766.0;
constexpr double kHoursPerQuarter = kHoursPerYear / 4;
// Idle draw as a share of TDP (Splitwise-sim's H100 model, 75 W of 700 W), as the simulator uses.
constexpr double kIdlePowerFraction = 0.107;

int launch_quarter_index(const GpuSpec& gpu, const HorizonSpec& h) {
  // "YYYY-MM" → quarter index relative to the horizon start.
  const int year = std::stoi(gpu.launch.substr(0, 4));
  const int month = std::stoi(gpu.launch.substr(5, 2));
  return (year - h.start_year) * 4 + ((month - 1) / 3) - (h.start_quarter - 1);
}

/// A uniform elasticity applied to every class (break-even search and sensitivity).
struct ElasticityOverride {
  bool active = false;
  double long_run = 0;
  int only_class = -1;  ///< ≥ 0: override that class only (tornado)
};

struct VariantRun {
  std::vector<ClassQuarter> classes;             // [t][c] flattened
  std::vector<GenerationQuarter> gens;           // [t][g] flattened
  std::vector<QuarterTotals> totals;             // [t]
  std::vector<std::vector<double>> token_share;  // [t*C + c][g]: share of tokens served by g
};

class Engine {
 public:
  Engine(const Scenario& s, const Catalog& catalog, CapacityOracle& oracle,
         const ProjectionAdjustments& adjust = {})
      : s_(s), plan_(*s.planner), oracle_(oracle), latency_(catalog.latency()), adjust_(adjust) {
    for (const auto& g : plan_.generations) gpus_.push_back(&catalog.gpu(g.gpu_id));
    for (const auto& c : plan_.classes) models_.push_back(&catalog.model(c.model_id));
    // Newest first: newer parts serve first and are bought first (they are the cheapest per
    // token in every catalog pair we ship); ties keep the scenario's order.
    order_.resize(gpus_.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
      return gpus_[a]->launch > gpus_[b]->launch;
    });
  }

  std::size_t num_classes() const { return plan_.classes.size(); }
  std::size_t num_gens() const { return plan_.generations.size(); }
  int quarters() const { return static_cast<int>(s_.horizon.quarters); }

  ReplicaCapacity cap(std::size_t g, std::size_t c, bool compressed, double prompt_scale) {
    // The break-even search replays the projection hundreds of times: memoise here on cheap
    // keys before the oracle's canonical (string) key is ever built.
    const auto key = std::make_tuple(g, c, compressed, prompt_scale);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    if (compressed && !adjust_.speed_grid.empty())
      return memo_[key] = cap_at_speed(g, c, prompt_scale);
    CapacityQuery q = query(g, c, compressed, prompt_scale);
    if (!compressed) return memo_[key] = oracle_.capacity(q);
    // The baseline format's answer first: the compressed search starts from it (the two differ
    // only where memory binds), which saves most of its probes.
    const ReplicaCapacity base = cap(g, c, false, prompt_scale);
    CapacityQuery bq = q;
    bq.kv = plan_.baseline_format;
    q.hint = &bq;
    q.hint_answer = base;
    q.hint_step = plan_.search_tolerance;
    q.hint_scaled = false;
    ReplicaCapacity r = oracle_.capacity(q);
    // An operator adopts the compressed format where it serves more tokens per GPU; where it
    // does not (the SLO binds before memory does), that generation keeps the baseline format.
    if (per_gpu_tokens(r) < per_gpu_tokens(base)) {
      r = base;
      keeps_baseline_.insert(key);
    }
    return memo_[key] = r;
  }

  double per_gpu_tokens(const ReplicaCapacity& r) const {
    return r.tensor_parallel ? r.tokens_per_s / r.tensor_parallel : 0.0;
  }

  /// Quarter t's software speed-up over the capacity searched (fleet.
  /// software_efficiency_growth_per_year): every part, format and class alike, so it moves no
  /// price ratio between variants, only how many GPUs a token needs.
  double software_speedup(int t) const {
    return std::pow(plan_.software_efficiency_growth_per_year, t / 4.0);
  }

  /// The KV offload tier of one replica of generation g serving class c at `load` (a share of
  /// its capacity): multi-turn sessions keep their context's KV between turns (Little's law:
  /// requests/s × gap_s sessions, each holding reuse_share × the mean prompt). Overflow (the
  /// default policy): first in the HBM the replica's KV budget leaves free at that load, the
  /// rest in host DRAM. Write-through (capacity.session_tier): every session's KV is copied to
  /// host DRAM as tiered KV caches do by policy, whatever HBM is free. Compression shrinks what
  /// each session holds (and widens the free HBM). Host DRAM beyond what the servers have free
  /// is added by the caller (host_dram_reserved_share). Docs: docs/planner.md, "Host DRAM".
  double session_offload_bytes(std::size_t g, std::size_t c, bool compressed, double prompt_scale,
                               const ReplicaCapacity& r, double load, double speedup) {
    const auto& k = plan_.classes[c];
    if (k.session_reuse_share <= 0 || k.session_gap_s <= 0 || r.tensor_parallel == 0) return 0;
    const auto key = std::make_tuple(g, c, compressed, prompt_scale);
    auto it = session_.find(key);
    if (it == session_.end()) {
      const KvConfig kv = compressed && !keeps_baseline_.count(key) ? plan_.compressed_format_of(g)
                                                                    : plan_.baseline_format;
      // The replica as the capacity search deployed it (replica_parallel): under DP-attention
      // with expert parallelism the weights and the KV budget per GPU differ from plain TP.
      const ParallelSpec par = replica_parallel(*models_[c], r.tensor_parallel);
      const auto mem = plan_replica_memory(*gpus_[g], *models_[c], r.tensor_parallel,
                                           plan_.generations[g].weights, MemoryPolicy{}, par);
      // Under DP-attention a sequence's KV lives on one rank only (an MLA latent is not
      // replicated), so the session a tier copies is the single-GPU footprint.
      const bool dp_attention = par.dp_attention;
      const KvFootprint fp(*models_[c], kv, dp_attention ? 1 : r.tensor_parallel);
      const double prompt = std::min(mean_tokens(k.input_tokens) * prompt_scale,
                                     static_cast<double>(models_[c]->max_context_tokens));
      const auto reused = static_cast<std::uint64_t>(std::llround(k.session_reuse_share * prompt));
      SessionTier st;
      st.bytes_per_session = static_cast<double>(fp.bytes_for_sequence(reused));
      st.kv_budget_bytes =
          static_cast<double>(std::max<std::int64_t>(0, mem.kv_bytes_per_gpu)) * r.tensor_parallel;
      it = session_.emplace(key, st).first;
    }
    const SessionTier& st = it->second;
    // A software speed-up serves more requests per replica from the same batch (its KV in use
    // is unchanged: rate × latency), so more sessions wait between turns.
    const double held = r.rate_per_s * speedup * load * k.session_gap_s * st.bytes_per_session;
    if (plan_.session_write_through) return held;
    const double free_hbm = std::max(0.0, st.kv_budget_bytes - r.kv_bytes_in_use * load);
    return std::max(0.0, held - free_hbm);
  }

  /// Host DRAM per GPU of generation g (bytes), as the catalog sources it.
  double host_bytes(std::size_t g) const {
    return gpus_[g]->host_dram_per_gpu_gib.get("host_dram_per_gpu_gib") * kGiB;
  }

  double hourly_cost(std::size_t g) const {
    const auto& gen = plan_.generations[g];
    double price = gen.price_usd;
    if (price <= 0) price = gpus_[g]->price_usd.value.value_or(plan_.default_price_usd);
    const double capex =
        price * plan_.server_cost_multiplier / (plan_.gpu_lifetime_years * kHoursPerYear);
    const double power = gpus_[g]->tdp_w.get("tdp_w") * plan_.average_utilization * plan_.pue *
                         plan_.power_usd_per_kwh / 1000.0;
    return capex + power;
  }

  /// $ per token on generation g for class c: GPU-hour cost over tokens per GPU-hour at the
  /// class's average load (fleets are sized for the peak, so they run at 1/peak_to_average).
  double unit_cost(std::size_t g, std::size_t c, bool compressed, double prompt_scale) {
    const double t = per_gpu_tokens(cap(g, c, compressed, prompt_scale));
    if (t <= 0) return std::numeric_limits<double>::infinity();
    return hourly_cost(g) / (t * 3600.0 / plan_.classes[c].peak_to_average);
  }

  double hbm_bytes(std::size_t g) const {
    return gpus_[g]->hbm_nominal_gib.get("hbm_nominal_gib") * kGiB * adjust_.hbm_per_package_factor;
  }

  /// Compressed capacity at the sampled attention speed: the capacity searched at the two speed
  /// grid points around it, interpolated linearly (docs/uncertainty.md). Replicas of different
  /// tensor parallelism do not interpolate: the nearer point's answer is taken.
  ReplicaCapacity cap_at_speed(std::size_t g, std::size_t c, double prompt_scale) {
    const auto& grid = adjust_.speed_grid;
    const double x = std::clamp(adjust_.compressed_attention_time, grid.front().time_vs_bf16,
                                grid.back().time_vs_bf16);
    std::size_t i = 0;
    while (i + 2 < grid.size() && x > grid[i + 1].time_vs_bf16) ++i;
    auto at = [&](const ProjectionAdjustments::SpeedPoint& p) {
      CapacityQuery q = query(g, c, true, prompt_scale);
      q.latency = p.latency;
      return p.oracle->capacity(q);
    };
    ReplicaCapacity a = at(grid[i]);
    const ReplicaCapacity b = grid.size() > 1 ? at(grid[i + 1]) : a;
    const double span = grid.size() > 1 ? grid[i + 1].time_vs_bf16 - grid[i].time_vs_bf16 : 0;
    const double w = span > 0 ? (x - grid[i].time_vs_bf16) / span : 0;
    if (a.tensor_parallel != b.tensor_parallel) {
      if (w >= 0.5) a = b;
    } else {
      auto lerp = [w](double u, double v) { return u + w * (v - u); };
      a.rate_per_s = lerp(a.rate_per_s, b.rate_per_s);
      a.tokens_per_s = lerp(a.tokens_per_s, b.tokens_per_s);
      a.kv_bytes_in_use = lerp(a.kv_bytes_in_use, b.kv_bytes_in_use);
      a.host_offload_bytes = lerp(a.host_offload_bytes, b.host_offload_bytes);
      a.host_prefix_bytes = lerp(a.host_prefix_bytes, b.host_prefix_bytes);
      a.exact = a.exact && b.exact && (w == 0 || w == 1);
    }
    const ReplicaCapacity base = cap(g, c, false, prompt_scale);
    if (per_gpu_tokens(a) < per_gpu_tokens(base)) a = base;
    return a;
  }

  CapacityQuery query(std::size_t g, std::size_t c, bool compressed, double prompt_scale) const {
    CapacityQuery q;
    q.gpu = gpus_[g];
    q.model = models_[c];
    q.weights = plan_.generations[g].weights;
    q.kv = compressed ? plan_.compressed_format_of(g) : plan_.baseline_format;
    q.demand_class = &plan_.classes[c];
    q.prompt_scale = prompt_scale;
    q.max_tensor_parallel = plan_.max_tensor_parallel;
    q.slo_attainment = plan_.slo_attainment;
    q.duration_s = plan_.search_duration_s;
    q.tolerance = plan_.search_tolerance;
    q.seed = s_.seed;
    q.preemption = plan_.preemption;
    q.prefix_cache = plan_.prefix_cache;
    q.prefix_host_tier_gib_per_gpu = plan_.prefix_host_tier_gib_per_gpu;
    q.analytical = s_.analytical;
    q.latency = &latency_;
    return q;
  }

  /// The share of each powered part that serves at the peak: fleet.initial_utilization when set
  /// (operators keep the rest as headroom, and the first quarter is calibrated to it), else 1.
  double utilization_cap() const {
    return plan_.initial_utilization > 0 ? plan_.initial_utilization : 1.0;
  }

  /// Units of generation g that can be delivered in quarter t: its deliveries_per_quarter grown
  /// to t, none before it is available and launched.
  double deliverable(std::size_t g, int t) const {
    const auto& gen = plan_.generations[g];
    if (t < gen.available_quarter_index || gen.deliveries_per_quarter <= 0) return 0;
    if (t < launch_quarter_index(*gpus_[g], s_.horizon)) return 0;
    return gen.deliveries_per_quarter * std::pow(gen.delivery_growth_per_year, t / 4.0);
  }

  /// The quarter's HBM supply (bytes; 0 = unlimited). Grows every quarter, phased so that the
  /// horizon's first four quarters sum to hbm_supply_bytes_per_year and each later four to that
  /// times the yearly growth: the file states a year's total (TrendForce's 2026 bits), and a
  /// quarter of it grown from the first quarter on would overstate each year by up to 11 %.
  double hbm_supply(int t) const {
    if (plan_.hbm_supply_bytes_per_year <= 0) return 0;
    const double g = plan_.hbm_supply_growth_per_year;
    double year_in_quarters = 0;
    for (int k = 0; k < 4; ++k) year_in_quarters += std::pow(g, k / 4.0);
    return plan_.hbm_supply_bytes_per_year * std::pow(g, t / 4.0) / year_in_quarters;
  }

  /// Committed deliveries in quarter t (fleet.committed_through): every deliverable unit of
  /// every generation, whatever demand needs and in every variant (orders and HBM contracted
  /// before the horizon; compression cannot cancel them). Scaled down together when their HBM
  /// exceeds the quarter's supply. None after the committed quarters.
  std::vector<double> committed(int t) const {
    std::vector<double> d(num_gens(), 0);
    if (t >= plan_.committed_quarters) return d;
    double hbm = 0;
    for (std::size_t g = 0; g < num_gens(); ++g) {
      d[g] = deliverable(g, t);
      hbm += d[g] * hbm_bytes(g);
    }
    const double supply = hbm_supply(t);
    if (supply > 0 && hbm > supply)
      for (auto& x : d) x *= supply / hbm;
    return d;
  }

  /// Serves peak demand `need` (tokens/s per class) from `avail` GPUs per generation (the
  /// utilisation cap already applied) at per-GPU capacities `capg`; adds the GPUs used to
  /// `serving` and takes them from `avail` and what they serve from `need`.
  ///
  /// The rule (docs/planner.md): classes in order of how few powered GPUs can serve them (the
  /// scarcest first: a 671B model fits only on large-HBM parts, so it claims them before a
  /// class every part can serve takes them); each class fills the generations that can serve it
  /// in order of its comparative advantage there, its capacity over the part's capacity for the
  /// class that part serves best (a 16k-tokens/s part that serves this class at 8 tokens/s is
  /// left to others; a part that serves only this class goes first). Ties keep newest first.
  void serve(const std::vector<std::vector<double>>& capg, std::vector<double>& avail,
             std::vector<double>& need, std::vector<std::vector<double>>& serving) const {
    const std::size_t C = num_classes();
    std::vector<double> capable(C, 0);
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t g : order_)
        if (capg[g][c] > 0) capable[c] += avail[g];
    std::vector<std::size_t> classes(C);
    std::iota(classes.begin(), classes.end(), 0);
    std::stable_sort(classes.begin(), classes.end(),
                     [&](std::size_t a, std::size_t b) { return capable[a] < capable[b]; });
    std::vector<std::pair<double, std::size_t>> gens;
    for (std::size_t c : classes) {
      if (need[c] <= 0) continue;
      gens.clear();
      for (std::size_t rank = 0; rank < order_.size(); ++rank) {
        const std::size_t g = order_[rank];
        if (capg[g][c] <= 0 || avail[g] <= 0) continue;
        const double best = *std::max_element(capg[g].begin(), capg[g].end());
        gens.push_back({capg[g][c] / best, rank});
      }
      std::stable_sort(gens.begin(), gens.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      for (const auto& [advantage, rank] : gens) {
        const std::size_t g = order_[rank];
        const double n = std::min(avail[g], need[c] / capg[g][c]);
        serving[g][c] += n;
        avail[g] -= n;
        need[c] -= n * capg[g][c];
        if (need[c] <= 1e-12 * capg[g][c]) {
          need[c] = 0;
          break;
        }
      }
    }
  }

  /// fleet.initial_utilization: the factor on each class's first-quarter demand at which the
  /// powered installed base, serving at the baseline format under the projection's own rule
  /// (serve()), is busy at that share at the peak. Every class is scaled by one factor until a
  /// class runs out of the parts that can serve it; that class keeps the factor it reached and
  /// the others grow on (progressive filling), until every part that serves any class is busy
  /// at the stated share. Classes no part can serve keep their stated demand (unserved). The
  /// same for all three variants, so they start from one world.
  const std::vector<double>& initial_scales() {
    if (!scales_.empty()) return scales_;
    const std::size_t C = num_classes();
    scales_.assign(C, 1.0);
    if (plan_.initial_utilization <= 0) return scales_;
    // The first quarter's fleet: the installed base and its committed deliveries.
    std::vector<double> fleet = committed(0);
    for (std::size_t g = 0; g < num_gens(); ++g) fleet[g] += plan_.generations[g].installed;
    std::vector<double> base(C);
    for (std::size_t c = 0; c < C; ++c)
      base[c] = plan_.classes[c].tokens_per_s * plan_.classes[c].peak_to_average;
    const std::vector<double> k = fill(fleet, 0, base);
    for (std::size_t c = 0; c < C; ++c)
      if (k[c] > 0) scales_[c] = k[c];
    return scales_;
  }

  /// The last committed quarter (fleet.committed_through), or -1 when none is after the first.
  int last_committed() const {
    return std::min(plan_.committed_quarters, quarters()) - 1 >= 1
               ? std::min(plan_.committed_quarters, quarters()) - 1
               : -1;
  }

  /// Per class, the demand the committed deliveries were ordered for: the factor on the stated
  /// growth by the last committed quarter at which the fleet then (the installed base less its
  /// retirements, plus every committed delivery) is busy at fleet.initial_utilization, by the
  /// same progressive filling as the first quarter. Never below 1 (the stated growth is a floor:
  /// buyers may have ordered for less than it). 1 everywhere without initial_utilization or
  /// without a committed quarter after the first. docs/planner.md, "Committed deliveries".
  const std::vector<double>& committed_growth() {
    if (!growth_.empty()) return growth_;
    const std::size_t C = num_classes(), G = num_gens();
    growth_.assign(C, 1.0);
    const int te = last_committed();
    if (plan_.initial_utilization <= 0 || te < 0) return growth_;
    const auto& k0 = initial_scales();
    std::vector<double> fleet(G, 0);
    for (std::size_t g = 0; g < G; ++g) {
      const auto& gen = plan_.generations[g];
      const int since = gen.has_installed_since ? gen.installed_since_quarter_index
                                                : launch_quarter_index(*gpus_[g], s_.horizon);
      if (!(plan_.retire_by_age && (te - since) / 4.0 >= plan_.max_age_years))
        fleet[g] += gen.installed;
      for (int t = 0; t <= te; ++t)
        if (!(plan_.retire_by_age && (te - t) / 4.0 >= plan_.max_age_years))
          fleet[g] += committed(t)[g];
    }
    std::vector<double> base(C);
    for (std::size_t c = 0; c < C; ++c) {
      const auto& k = plan_.classes[c];
      base[c] = k.tokens_per_s * k0[c] * std::pow(k.growth_per_year, te / 4.0) * k.peak_to_average;
    }
    const std::vector<double> e = fill(fleet, te, base);
    for (std::size_t c = 0; c < C; ++c) growth_[c] = std::max(1.0, e[c]);
    return growth_;
  }

  /// The committed_growth() factor of class c reached by quarter t: geometric over the
  /// committed quarters, held after them.
  double committed_growth_at(std::size_t c, int t) {
    const int te = last_committed();
    if (te < 0) return 1.0;
    return std::pow(committed_growth()[c], std::min(t, te) / static_cast<double>(te));
  }

  /// Progressive filling: per class, the factor on `base` (peak tokens/s) at which `fleet` (GPUs
  /// per generation, powered within quarter t's budget, newest first), serving at the baseline
  /// format under serve() at fleet.initial_utilization, is busy at that share. Every class is
  /// scaled by one factor until a class runs out of the parts that can serve it; that class keeps
  /// the factor it reached and the others grow on, until every part that serves any class is
  /// busy at the stated share. 0 for a class no part serves (or when the mix cannot be served).
  std::vector<double> fill(const std::vector<double>& fleet, int t,
                           const std::vector<double>& base) {
    const std::size_t C = num_classes(), G = num_gens();
    const double u = plan_.initial_utilization;
    std::vector<double> avail(G, 0);
    double power_left =
        plan_.power_budget_mw > 0
            ? plan_.power_budget_mw * 1e6 * std::pow(plan_.power_growth_per_year, t / 4.0)
            : std::numeric_limits<double>::infinity();
    for (std::size_t g : order_) {
      const double w = gpus_[g]->tdp_w.get("tdp_w") * plan_.pue;
      avail[g] = u * std::min(fleet[g], std::max(0.0, power_left) / w);
      power_left -= avail[g] / u * w;
    }
    std::vector<std::vector<double>> capg(G, std::vector<double>(C, 0));
    std::vector<bool> active(C, false);
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t g = 0; g < G; ++g) {
        capg[g][c] = per_gpu_tokens(cap(g, c, false, 1.0)) * software_speedup(t);
        if (capg[g][c] > 0 && avail[g] > 0) active[c] = true;
      }
    // Whether every class is served with the active ones at scale k (`bump`: class `bumped` at
    // k · bump), the frozen ones at theirs.
    std::vector<double> k_of(C, 0);
    auto served = [&](double k, std::size_t bumped = SIZE_MAX, double bump = 1) {
      std::vector<double> need(C), a = avail;
      std::vector<std::vector<double>> serving(G, std::vector<double>(C, 0));
      for (std::size_t c = 0; c < C; ++c)
        need[c] = (active[c] ? k : k_of[c]) * (c == bumped ? bump : 1) * base[c];
      const auto want = need;
      serve(capg, a, need, serving);
      for (std::size_t c = 0; c < C; ++c)
        if (need[c] > 1e-10 * want[c]) return false;
      return true;
    };
    double lo = std::log(1e-12);
    if (!served(std::exp(lo))) return k_of;  // the stated mix cannot be served at all
    while (std::find(active.begin(), active.end(), true) != active.end()) {
      double hi = std::log(1e12);
      for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
        const double mid = 0.5 * (lo + hi);
        (served(std::exp(mid)) ? lo : hi) = mid;
      }
      // The classes that cannot grow past the common factor (they ran out of parts, or their
      // growth would push a class already fixed off its parts) keep it; the others grow on.
      const double k = std::exp(lo);
      std::vector<std::size_t> stuck;
      for (std::size_t c = 0; c < C; ++c)
        if (active[c] && !served(k, c, 1 + 1e-6)) stuck.push_back(c);
      if (stuck.empty())
        for (std::size_t c = 0; c < C; ++c)
          if (active[c]) stuck.push_back(c);
      for (std::size_t c : stuck) {
        active[c] = false;
        k_of[c] = k;
      }
    }
    return k_of;
  }

  /// The demand-weighted factor of initial_scales() (stored per quarter).
  double initial_scale() {
    const auto& k = initial_scales();
    double stated = 0, scaled = 0;
    for (std::size_t c = 0; c < num_classes(); ++c) {
      stated += plan_.classes[c].tokens_per_s;
      scaled += k[c] * plan_.classes[c].tokens_per_s;
    }
    return stated > 0 ? scaled / stated : 1.0;
  }

  double adoption(std::size_t g, int t, Variant v) const {
    if (v == Variant::kCounterfactual) return 0.0;
    const auto& gen = plan_.generations[g];
    return adoption_share(gen.has_adoption ? gen.adoption : plan_.adoption, t);
  }

  VariantRun run(Variant v, const VariantRun* cf, const ElasticityOverride& eo) {
    const std::size_t C = num_classes(), G = num_gens();
    const int T = quarters();
    VariantRun out;
    // Cohorts per generation: (install quarter, count), to retire by age.
    std::vector<std::vector<std::pair<int, double>>> cohorts(G);
    const std::vector<double>& demand_scale = initial_scales();
    for (std::size_t g = 0; g < G; ++g)
      if (plan_.generations[g].installed > 0)
        cohorts[g].push_back({plan_.generations[g].has_installed_since
                                  ? plan_.generations[g].installed_since_quarter_index
                                  : launch_quarter_index(*gpus_[g], s_.horizon),
                              plan_.generations[g].installed});
    std::vector<double> deviation(C, 0.0);

    for (int t = 0; t < T; ++t) {
      const double years = t / 4.0;
      std::vector<GenerationQuarter> gq(G);
      std::vector<double> installed(G, 0), retired(G, 0);
      for (std::size_t g = 0; g < G; ++g) {
        auto& co = cohorts[g];
        if (plan_.retire_by_age) {
          for (auto& [q, n] : co)
            if ((t - q) / 4.0 >= plan_.max_age_years && n > 0) {
              retired[g] += n;
              n = 0;
            }
        }
        for (const auto& [q, n] : co) installed[g] += n;
      }
      // Committed deliveries arrive first, in every variant; purchases below add to them.
      std::vector<double> purchased = committed(t);
      double hbm_committed = 0;
      for (std::size_t g = 0; g < G; ++g)
        if (purchased[g] > 0) {
          installed[g] += purchased[g];
          cohorts[g].push_back({t, purchased[g]});
          hbm_committed += purchased[g] * hbm_bytes(g);
        }
      std::vector<double> a(G);
      for (std::size_t g = 0; g < G; ++g) a[g] = adoption(g, t, v);

      // Demand.
      std::vector<ClassQuarter> cq(C);
      std::vector<double> need(C), prompt_scale(C, 1.0);
      for (std::size_t c = 0; c < C; ++c) {
        const auto& k = plan_.classes[c];
        auto& row = cq[c];
        row.variant = v;
        row.quarter = t;
        row.class_name = k.name;
        row.baseline_tokens_per_s = k.tokens_per_s * demand_scale[c] *
                                    std::pow(k.growth_per_year, years) * committed_growth_at(c, t);
        double q = row.baseline_tokens_per_s;
        if (v == Variant::kFull && cf) {
          // Price ratio from unit costs weighted by where the counterfactual served the class,
          // so this quarter's price does not depend on this quarter's (responding) demand.
          const auto& w = cf->token_share[static_cast<std::size_t>(t) * C + c];
          double p_cf = 0, p_comp = 0;
          for (std::size_t g = 0; g < G; ++g) {
            if (w[g] <= 0) continue;
            const double ub = unit_cost(g, c, false, 1.0);
            p_cf += w[g] * ub;
            p_comp += w[g] * (a[g] * unit_cost(g, c, true, 1.0) + (1 - a[g]) * ub);
          }
          const double cost_ratio =
              (p_cf > 0 && std::isfinite(p_cf) && std::isfinite(p_comp)) ? p_comp / p_cf : 1.0;
          // Demand answers the price, not the cost: P = C0·(1 + margin) + pass_through·(C − C0).
          const double r = 1.0 + plan_.pass_through * (cost_ratio - 1.0) / (1.0 + plan_.margin);
          ElasticitySpec e = k.elasticity;
          if (eo.active && (eo.only_class < 0 || eo.only_class == static_cast<int>(c))) {
            const double lambda = e.long_run > 0 ? std::min(1.0, e.short_run / e.long_run) : 1.0;
            e.long_run = eo.long_run;
            e.short_run = lambda * eo.long_run;
          }
          deviation[c] = adjust_log_deviation(deviation[c], r, e);
          q *= std::exp(deviation[c]);
          row.price_ratio = r;
          prompt_scale[c] = std::pow(r, -k.context_elasticity);
        }
        row.prompt_scale = prompt_scale[c];
        row.demand_tokens_per_s = q;
        row.peak_tokens_per_s = q * k.peak_to_average;
        need[c] = row.peak_tokens_per_s;
      }

      // Per-GPU capacity of each (generation, class) under this quarter's format mix.
      std::vector<std::vector<double>> capg(G, std::vector<double>(C, 0));
      std::vector<std::vector<ReplicaCapacity>> rb(G), rc(G);
      for (std::size_t g = 0; g < G; ++g)
        for (std::size_t c = 0; c < C; ++c) {
          rb[g].push_back(cap(g, c, false, prompt_scale[c]));
          rc[g].push_back(a[g] > 0 ? cap(g, c, true, prompt_scale[c]) : rb[g].back());
          capg[g][c] = (a[g] * per_gpu_tokens(rc[g][c]) + (1 - a[g]) * per_gpu_tokens(rb[g][c])) *
                       software_speedup(t);
        }

      // Power: newest generations are powered first.
      const double budget_w =
          plan_.power_budget_mw > 0
              ? plan_.power_budget_mw * 1e6 * std::pow(plan_.power_growth_per_year, years)
              : std::numeric_limits<double>::infinity();
      double power_left = budget_w;
      std::vector<double> powered(G, 0);
      for (std::size_t g : order_) {
        const double w = gpus_[g]->tdp_w.get("tdp_w") * plan_.pue;
        powered[g] = std::min(installed[g], std::max(0.0, power_left) / w);
        power_left -= powered[g] * w;
      }

      // Serve peak demand from the powered GPUs, at most the utilisation cap of each busy
      // (serve(): scarcest class first, each where its comparative advantage is largest).
      const double u = utilization_cap();
      std::vector<std::vector<double>> serving(G, std::vector<double>(C, 0));
      {
        std::vector<double> avail(G);
        for (std::size_t g = 0; g < G; ++g) avail[g] = u * powered[g];
        serve(capg, avail, need, serving);
        for (std::size_t c = 0; c < C; ++c)
          if (need[c] < 1e-9 * cq[c].peak_tokens_per_s) need[c] = 0;
      }
      // A part just bought serves the remaining classes in proportion to what each still needs.
      auto assign = [&](std::size_t g, double available) {
        double want_total = 0;
        std::vector<double> want(C, 0);
        for (std::size_t c = 0; c < C; ++c)
          if (capg[g][c] > 0 && need[c] > 0) {
            want[c] = need[c] / capg[g][c];
            want_total += want[c];
          }
        if (want_total <= 0 || available <= 0) return 0.0;
        const double f = std::min(1.0, available / want_total);
        for (std::size_t c = 0; c < C; ++c) {
          serving[g][c] += want[c] * f;
          need[c] -= want[c] * f * capg[g][c];
          if (need[c] < 1e-9 * cq[c].peak_tokens_per_s) need[c] = 0;
        }
        return want_total * f;
      };

      // Buy what is still needed, within supply and power: the generation that serves the
      // remaining demand at the lowest cost per token first (not the newest first: a newer part
      // that costs more per token than it serves more loses the order), then the next cheapest
      // for what is left. Ties keep the newest-first order.
      const double hbm_supply = this->hbm_supply(t);
      std::vector<std::size_t> available;
      for (std::size_t g : order_)
        if (deliverable(g, t) > 0) available.push_back(g);
      // One pass of the purchase rule; returns the HBM bytes bought. `commit` false runs it on
      // the demand without touching the fleet (the caller restores `need` and `serving`).
      auto buy = [&](bool commit, double hbm_cap) {
        std::vector<std::size_t> buyable = available;
        double power = power_left, hbm_left = hbm_cap, hbm_bought = 0;
        while (!buyable.empty()) {
          // $ per peak token/s of the remaining mix on g: GPU-hours to serve every class g can
          // serve, priced, over the tokens those classes still need.
          auto cost_of = [&](std::size_t g) {
            double gpus = 0, tokens = 0;
            for (std::size_t c = 0; c < C; ++c)
              if (capg[g][c] > 0 && need[c] > 0) {
                gpus += need[c] / capg[g][c];
                tokens += need[c];
              }
            return tokens > 0 ? gpus * hourly_cost(g) / tokens
                              : std::numeric_limits<double>::infinity();
          };
          std::size_t best = 0;
          double best_cost = cost_of(buyable[0]);
          for (std::size_t i = 1; i < buyable.size(); ++i)
            if (const double k = cost_of(buyable[i]); k < best_cost) {
              best = i;
              best_cost = k;
            }
          if (!std::isfinite(best_cost)) break;  // nothing left that a buyable part can serve
          const std::size_t g = buyable[best];
          buyable.erase(buyable.begin() + static_cast<std::ptrdiff_t>(best));
          // What the committed deliveries left of this quarter's deliveries.
          const double supply = std::max(0.0, deliverable(g, t) - purchased[g]);
          const double w = gpus_[g]->tdp_w.get("tdp_w") * plan_.pue;
          const double by_power = std::max(0.0, power) / w;
          const double by_hbm = std::max(0.0, hbm_left) / hbm_bytes(g);
          // Bought parts run at the same utilisation cap as the installed base.
          const double bought = assign(g, u * std::min({supply, by_power, by_hbm})) / u;
          power -= bought * w;
          hbm_left -= bought * hbm_bytes(g);
          hbm_bought += bought * hbm_bytes(g);
          if (!commit) continue;
          purchased[g] += bought;
          installed[g] += bought;
          powered[g] += bought;
          if (bought > 0) cohorts[g].push_back({t, bought});
        }
        if (commit) power_left = power;
        return hbm_bought;
      };
      const double unlimited = std::numeric_limits<double>::infinity();
      double hbm_demanded = 0;
      if (hbm_supply > 0) {
        // The bits the fleet would take without the cap: the same rule on the same demand.
        const auto need_before = need;
        const auto serving_before = serving;
        hbm_demanded = hbm_committed + buy(false, unlimited);
        need = need_before;
        serving = serving_before;
      }
      const double hbm_shipped =
          hbm_committed +
          buy(true, hbm_supply > 0 ? std::max(0.0, hbm_supply - hbm_committed) : unlimited);
      if (hbm_supply <= 0) hbm_demanded = hbm_shipped;

      // Memory, energy, cost.
      QuarterTotals tot;
      tot.variant = v;
      tot.quarter = t;
      tot.label = quarter_label(s_.horizon, t);
      std::vector<double> class_cost(C, 0), class_gpus(C, 0);
      double all_in_cost_per_hour = 0;
      tot.hbm_shipped_bytes = hbm_shipped;
      tot.hbm_demanded_bytes = hbm_demanded;
      tot.hbm_supply_bytes = hbm_supply;
      tot.initial_demand_scale = initial_scale();
      for (std::size_t g = 0; g < G; ++g) {
        auto& r = gq[g];
        r.variant = v;
        r.quarter = t;
        r.gpu_id = gpus_[g]->id;
        r.installed = installed[g];
        r.powered = powered[g];
        r.purchased = purchased[g];
        r.retired = retired[g];
        r.compressed_share = a[g];
        r.hbm_installed_bytes = installed[g] * hbm_bytes(g);
        // Host DRAM, each byte once: the tiers live in the servers' own DRAM, in what the OS and
        // the serving runtime leave free; only a tier beyond that adds DRAM. The baseline is
        // what no tier holds (docs/planner.md, "Host DRAM").
        double tiers_in_free = 0;
        double busy_gpus = 0;
        for (std::size_t c = 0; c < C; ++c) {
          const double n = serving[g][c];
          if (n <= 0) continue;
          r.serving += n;
          // Serving GPUs are sized for the peak, so on average they run at 1/peak_to_average.
          const double load = 1.0 / plan_.classes[c].peak_to_average;
          for (int compressed = 0; compressed < 2; ++compressed) {
            const double share = compressed ? a[g] : 1 - a[g];
            const ReplicaCapacity& rcap = compressed ? rc[g][c] : rb[g][c];
            if (share <= 0 || rcap.tensor_parallel == 0) continue;
            const double replicas = n * share / rcap.tensor_parallel;
            r.hbm_weight_bytes += replicas * rcap.weight_bytes;
            r.hbm_kv_bytes += replicas * rcap.kv_bytes_in_use * load;
            const double offload = rcap.host_offload_bytes * load +
                                   session_offload_bytes(g, c, compressed != 0, prompt_scale[c],
                                                         rcap, load, software_speedup(t));
            const double prefix = rcap.host_prefix_bytes * load;
            r.host_dram_offload_bytes += replicas * offload;
            r.host_dram_prefix_bytes += replicas * prefix;
            const double free_host =
                host_bytes(g) * rcap.tensor_parallel * (1 - plan_.host_dram_reserved_share);
            tiers_in_free += replicas * std::min(offload + prefix, free_host);
          }
          busy_gpus += n * load;
          class_cost[c] += n * hourly_cost(g);
          class_gpus[c] += n;
        }
        r.host_dram_baseline_bytes = installed[g] * host_bytes(g) - tiers_in_free;
        r.hbm_idle_bytes =
            std::max(0.0, r.hbm_installed_bytes - r.hbm_weight_bytes - r.hbm_kv_bytes);
        r.hbm_shipped_bytes = purchased[g] * hbm_bytes(g);
        all_in_cost_per_hour += installed[g] * hourly_cost(g);
        const double tdp = gpus_[g]->tdp_w.get("tdp_w");
        const double watts =
            (powered[g] * kIdlePowerFraction + busy_gpus * (1 - kIdlePowerFraction)) * tdp *
            plan_.pue;
        r.power_mw = watts / 1e6;
        r.energy_mwh = r.power_mw * kHoursPerQuarter;
        tot.gpus_installed += r.installed;
        tot.gpus_powered += r.powered;
        tot.hbm_installed_bytes += r.hbm_installed_bytes;
        tot.hbm_weight_bytes += r.hbm_weight_bytes;
        tot.hbm_kv_bytes += r.hbm_kv_bytes;
        tot.hbm_idle_bytes += r.hbm_idle_bytes;
        tot.host_dram_baseline_bytes += r.host_dram_baseline_bytes;
        tot.host_dram_offload_bytes += r.host_dram_offload_bytes;
        tot.host_dram_prefix_bytes += r.host_dram_prefix_bytes;
        tot.energy_mwh += r.energy_mwh;
        tot.power_mw += r.power_mw;
      }
      double weighted_cost = 0, served_tokens_per_s = 0, weighted_marginal = 0;
      for (std::size_t c = 0; c < C; ++c) {
        auto& row = cq[c];
        // Marginal: the cheapest part on offer this quarter (installed parts when none is),
        // at this quarter's format mix and the class's average load.
        double marginal = std::numeric_limits<double>::infinity();
        const auto& offer = available.empty() ? order_ : available;
        for (std::size_t g : offer) {
          const double ub = unit_cost(g, c, false, prompt_scale[c]);
          const double k =
              a[g] > 0 ? a[g] * unit_cost(g, c, true, prompt_scale[c]) + (1 - a[g]) * ub : ub;
          marginal = std::min(marginal, k);
        }
        marginal /= software_speedup(t);
        if (std::isfinite(marginal)) weighted_marginal += marginal * 1e6 * row.demand_tokens_per_s;
        row.unserved_peak_tokens_per_s = need[c];
        row.gpus_serving = class_gpus[c];
        const double served_avg =
            (row.peak_tokens_per_s - need[c]) / plan_.classes[c].peak_to_average;
        row.cost_usd_per_mtok = served_avg > 0 ? class_cost[c] / (served_avg * 3600.0) * 1e6 : 0;
        tot.demand_tokens_per_s += row.demand_tokens_per_s;
        tot.peak_tokens_per_s += row.peak_tokens_per_s;
        tot.unserved_peak_tokens_per_s += need[c];
        weighted_cost += row.cost_usd_per_mtok * row.demand_tokens_per_s;
        served_tokens_per_s += served_avg;
        // Where each class's tokens were served, for the rebound variant's prices.
        std::vector<double> share(G, 0);
        double sum = 0;
        for (std::size_t g = 0; g < G; ++g) sum += serving[g][c] * capg[g][c];
        for (std::size_t g = 0; g < G; ++g)
          share[g] = sum > 0 ? serving[g][c] * capg[g][c] / sum : 0;
        if (sum <= 0)
          for (std::size_t g = 0; g < G; ++g) share[g] = 1.0 / static_cast<double>(G);
        out.token_share.push_back(std::move(share));
      }
      tot.cost_usd_per_mtok =
          tot.demand_tokens_per_s > 0 ? weighted_cost / tot.demand_tokens_per_s : 0;
      tot.cost_all_in_usd_per_mtok =
          served_tokens_per_s > 0 ? all_in_cost_per_hour / (served_tokens_per_s * 3600.0) * 1e6 : 0;
      tot.cost_marginal_usd_per_mtok =
          tot.demand_tokens_per_s > 0 ? weighted_marginal / tot.demand_tokens_per_s : 0;
      out.classes.insert(out.classes.end(), cq.begin(), cq.end());
      out.gens.insert(out.gens.end(), gq.begin(), gq.end());
      out.totals.push_back(tot);
    }
    return out;
  }

 private:
  const Scenario& s_;
  const PlannerSpec& plan_;
  CapacityOracle& oracle_;
  const LatencyCalibration& latency_;  // the catalog's, for the capacity cache key
  ProjectionAdjustments adjust_;
  std::vector<const GpuSpec*> gpus_;
  std::vector<const ModelSpec*> models_;
  std::vector<std::size_t> order_;
  std::map<std::tuple<std::size_t, std::size_t, bool, double>, ReplicaCapacity> memo_;
  std::vector<double> scales_;  ///< initial_scales(), once computed
  std::vector<double> growth_;  ///< committed_growth(), once computed
  struct SessionTier {
    double bytes_per_session = 0;  ///< KV of the reused context, whole replica
    double kv_budget_bytes = 0;    ///< the replica's HBM KV budget
  };
  std::map<std::tuple<std::size_t, std::size_t, bool, double>, SessionTier> session_;
  std::set<std::tuple<std::size_t, std::size_t, bool, double>> keeps_baseline_;
};

double metric(const QuarterTotals& t, const std::string& m) {
  if (m == "hbm_installed_bytes") return t.hbm_installed_bytes;
  if (m == "hbm_used_bytes") return t.hbm_used_bytes();
  if (m == "host_dram_bytes") return t.host_dram_bytes();
  if (m == "hbm_shipped_bytes") return t.hbm_shipped_bytes;
  return t.gpus_installed;
}

// The first three also get a break-even elasticity and the sensitivity sweep (their indices
// are used below); HBM shipped is the flow the HBM market trades, per quarter.
const std::vector<std::string> kMetrics = {"hbm_installed_bytes", "hbm_used_bytes",
                                           "host_dram_bytes", "gpus_installed",
                                           "hbm_shipped_bytes"};

}  // namespace

Projection project(const Scenario& scenario, const Catalog& catalog, CapacityOracle& oracle,
                   const ProjectionOptions& options) {
  if (!scenario.planner) throw std::logic_error("project(): the scenario has no planner section");
  Engine e(scenario, catalog, oracle);
  Projection p;
  p.max_elasticity = options.max_elasticity;
  const int T = e.quarters();
  for (int t = 0; t < T; ++t) p.quarter_labels.push_back(quarter_label(scenario.horizon, t));

  // Capacity searches first (they dominate a cold run), reported as progress.
  const auto& plan = *scenario.planner;
  const std::size_t total = e.num_gens() * e.num_classes() * 2;
  std::size_t done = 0;
  for (std::size_t g = 0; g < e.num_gens(); ++g)
    for (std::size_t c = 0; c < e.num_classes(); ++c)
      for (int comp = 0; comp < 2; ++comp) {
        CapacityEntry ce;
        ce.gpu_id = plan.generations[g].gpu_id;
        ce.class_name = plan.classes[c].name;
        ce.model_id = plan.classes[c].model_id;
        ce.kv_format = (comp ? plan.compressed_format_of(g) : plan.baseline_format).name();
        ce.capacity = e.cap(g, c, comp != 0, 1.0);
        // A generation "compressed" to the baseline format (planner-baseline.yaml: bf16
        // everywhere) asks the same question twice: one row, or capacity_search's primary key
        // (gpu, class, kv_format) refuses the run's write.
        if (comp == 0 || ce.kv_format != plan.baseline_format.name()) p.capacity.push_back(ce);
        if (options.progress)
          options.progress("capacity search",
                           static_cast<double>(++done) / static_cast<double>(total));
      }

  const ElasticityOverride none;
  const VariantRun cf = e.run(Variant::kCounterfactual, nullptr, none);
  const VariantRun eff = e.run(Variant::kEfficiency, nullptr, none);
  const VariantRun full = e.run(Variant::kFull, &cf, none);
  for (const auto* r : {&cf, &eff, &full}) {
    p.classes.insert(p.classes.end(), r->classes.begin(), r->classes.end());
    p.generations.insert(p.generations.end(), r->gens.begin(), r->gens.end());
    p.totals.insert(p.totals.end(), r->totals.begin(), r->totals.end());
  }
  for (int t = 0; t < T; ++t)
    for (const auto& m : kMetrics) {
      Decomposition d;
      d.quarter = t;
      d.metric = m;
      const auto ti = static_cast<std::size_t>(t);
      d.counterfactual = metric(cf.totals[ti], m);
      d.efficiency_effect = metric(eff.totals[ti], m) - d.counterfactual;
      d.with_compression = metric(full.totals[ti], m);
      d.rebound_effect = d.with_compression - metric(eff.totals[ti], m);
      d.net = d.efficiency_effect + d.rebound_effect;
      p.decomposition.push_back(d);
    }
  if (options.progress) options.progress("projection", 1.0);

  if (options.break_even || options.sensitivity) {
    // Net change of each metric against the counterfactual, per quarter, for a uniform ε.
    auto net_at = [&](double eps) {
      ElasticityOverride o;
      o.active = true;
      o.long_run = eps;
      const VariantRun r = e.run(Variant::kFull, &cf, o);
      std::vector<std::vector<double>> net(kMetrics.size(),
                                           std::vector<double>(static_cast<std::size_t>(T)));
      for (std::size_t m = 0; m < kMetrics.size(); ++m)
        for (int t = 0; t < T; ++t) {
          const auto ti = static_cast<std::size_t>(t);
          net[m][ti] = metric(r.totals[ti], kMetrics[m]) - metric(cf.totals[ti], kMetrics[m]);
        }
      return net;
    };
    const int steps =
        static_cast<int>(std::lround(options.max_elasticity / options.elasticity_step));
    std::vector<double> grid;
    std::vector<std::vector<std::vector<double>>> nets;
    for (int i = 0; i <= steps; ++i) {
      grid.push_back(i * options.elasticity_step);
      nets.push_back(net_at(grid.back()));
      if (options.progress)
        options.progress("elasticity sweep", static_cast<double>(i + 1) / (steps + 1));
    }
    if (options.sensitivity) {
      const auto last = static_cast<std::size_t>(T - 1);
      for (std::size_t i = 0; i < grid.size(); ++i) {
        SensitivityPoint sp;
        sp.parameter = "elasticity";
        sp.value = grid[i];
        sp.hbm_installed_net_bytes = nets[i][0][last];
        sp.hbm_used_net_bytes = nets[i][1][last];
        sp.host_dram_net_bytes = nets[i][2][last];
        p.sensitivity.push_back(sp);
      }
      // Tornado: each class's long-run elasticity at its low and high, the others as specified.
      for (std::size_t c = 0; c < e.num_classes(); ++c)
        for (double v : {plan.classes[c].elasticity.low, plan.classes[c].elasticity.high}) {
          ElasticityOverride o;
          o.active = true;
          o.long_run = v;
          o.only_class = static_cast<int>(c);
          const VariantRun r = e.run(Variant::kFull, &cf, o);
          SensitivityPoint sp;
          sp.parameter = plan.classes[c].name + ".elasticity";
          sp.value = v;
          sp.hbm_installed_net_bytes =
              r.totals[last].hbm_installed_bytes - cf.totals[last].hbm_installed_bytes;
          sp.hbm_used_net_bytes =
              r.totals[last].hbm_used_bytes() - cf.totals[last].hbm_used_bytes();
          sp.host_dram_net_bytes =
              r.totals[last].host_dram_bytes() - cf.totals[last].host_dram_bytes();
          p.sensitivity.push_back(sp);
        }
    }
    if (options.break_even) {
      // The one definition (break_even.h): a scan of the sensitivity grid, then bisection on the
      // projection; NaN (stored as NULL, "none") when the curve does not cross in [0, max].
      std::map<double, std::vector<std::vector<double>>> memo;
      for (std::size_t i = 0; i < grid.size(); ++i) memo.emplace(grid[i], nets[i]);
      const BreakEvenRange range{0, options.max_elasticity, options.elasticity_step, 1e-5};
      for (std::size_t m = 0; m < 3; ++m)
        for (int t = 0; t < T; ++t) {
          const auto ti = static_cast<std::size_t>(t);
          BreakEven be;
          be.quarter = t;
          be.metric = kMetrics[m];
          const double tol = 1e-9 * std::max(1.0, std::fabs(metric(cf.totals[ti], kMetrics[m])));
          auto net = [&](double eps) {
            auto it = memo.find(eps);
            if (it == memo.end()) it = memo.emplace(eps, net_at(eps)).first;
            return it->second[m][ti];
          };
          const BreakEvenResult r = find_break_even(net, range, tol);
          be.elasticity = r.found() ? r.elasticity : std::numeric_limits<double>::quiet_NaN();
          p.break_even.push_back(be);
        }
    }
  }
  return p;
}

// ---- The break-even definition and the projection probe (break_even.h) ----

std::string BreakEvenResult::describe(int decimals) const {
  switch (status) {
    case Status::kCrossing:
      return fmt::format("{:.{}f}", elasticity, decimals);
    case Status::kAboveAtLow:
      return fmt::format("none in [{:g}, {:g}]: raises at every ε", low, high);
    case Status::kNoneBelowHigh:
      return fmt::format("none in [{:g}, {:g}]: lowers or holds at every ε", low, high);
  }
  return "?";
}

double BreakEvenResult::ordered_value() const {
  if (status == Status::kAboveAtLow) return -std::numeric_limits<double>::infinity();
  if (status == Status::kNoneBelowHigh) return std::numeric_limits<double>::infinity();
  return elasticity;
}

BreakEvenResult find_break_even(const std::function<double(double)>& net,
                                const BreakEvenRange& range, double zero_tolerance) {
  BreakEvenResult r;
  r.low = range.low;
  r.high = range.high;
  r.elasticity = std::numeric_limits<double>::quiet_NaN();
  const double step = range.step > 0 ? range.step : range.high - range.low;
  // Grid points as low + i·step (not accumulated), so a caller's memo keyed on the same grid hits.
  const int steps =
      std::max(1, static_cast<int>(std::ceil((range.high - range.low) / step - 1e-9)));
  double prev = range.low;
  if (net(range.low) > zero_tolerance) {
    r.status = BreakEvenResult::Status::kAboveAtLow;
    return r;
  }
  for (int i = 1; i <= steps; ++i) {
    const double e = std::min(range.high, range.low + i * step);
    if (net(e) <= zero_tolerance) {
      prev = e;
      continue;
    }
    double lo = prev, hi = e;
    while (hi - lo > range.tolerance) {
      const double mid = 0.5 * (lo + hi);
      (net(mid) > zero_tolerance ? hi : lo) = mid;
    }
    r.status = BreakEvenResult::Status::kCrossing;
    r.elasticity = hi;
    return r;
  }
  r.status = BreakEvenResult::Status::kNoneBelowHigh;
  return r;
}

const char* to_string(Headline h) {
  switch (h) {
    case Headline::kHbmInstalled:
      return "hbm_installed_bytes";
    case Headline::kHbmShippedPerYear:
      return "hbm_shipped_bytes_per_year";
    case Headline::kHostDram:
      return "host_dram_bytes";
  }
  return "?";
}

double year_value(const std::vector<QuarterTotals>& totals, Headline h, std::size_t last) {
  switch (h) {
    case Headline::kHbmInstalled:
      return totals[last].hbm_installed_bytes;
    case Headline::kHostDram:
      return totals[last].host_dram_bytes();
    case Headline::kHbmShippedPerYear: {
      double sum = 0;
      for (std::size_t k = 0; k < 4 && k <= last; ++k) sum += totals[last - k].hbm_shipped_bytes;
      return sum;
    }
  }
  return 0;
}

double final_year_value(const std::vector<QuarterTotals>& totals, Headline h) {
  return totals.empty() ? 0 : year_value(totals, h, totals.size() - 1);
}

struct ProjectionProbe::Impl {
  Impl(const Scenario& s, const Catalog& catalog, CapacityOracle& oracle,
       ProjectionAdjustments adjust)
      : engine(s, catalog, oracle, adjust) {}
  Engine engine;
  std::optional<VariantRun> cf, eff, full;
  std::map<double, std::vector<QuarterTotals>> at;
};

ProjectionProbe::ProjectionProbe(const Scenario& scenario, const Catalog& catalog,
                                 CapacityOracle& oracle, ProjectionAdjustments adjustments) {
  if (!scenario.planner)
    throw std::logic_error("ProjectionProbe: the scenario has no planner section");
  impl_ = std::make_unique<Impl>(scenario, catalog, oracle, std::move(adjustments));
}

ProjectionProbe::~ProjectionProbe() = default;

const std::vector<QuarterTotals>& ProjectionProbe::counterfactual() {
  if (!impl_->cf) impl_->cf = impl_->engine.run(Variant::kCounterfactual, nullptr, {});
  return impl_->cf->totals;
}

const std::vector<QuarterTotals>& ProjectionProbe::efficiency() {
  if (!impl_->eff) impl_->eff = impl_->engine.run(Variant::kEfficiency, nullptr, {});
  return impl_->eff->totals;
}

const std::vector<QuarterTotals>& ProjectionProbe::with_rebound() {
  counterfactual();
  if (!impl_->full) impl_->full = impl_->engine.run(Variant::kFull, &*impl_->cf, {});
  return impl_->full->totals;
}

const std::vector<QuarterTotals>& ProjectionProbe::with_rebound_at(double elasticity) {
  counterfactual();
  auto it = impl_->at.find(elasticity);
  if (it == impl_->at.end()) {
    ElasticityOverride o;
    o.active = true;
    o.long_run = elasticity;
    it = impl_->at.emplace(elasticity, impl_->engine.run(Variant::kFull, &*impl_->cf, o).totals)
             .first;
  }
  return it->second;
}

double ProjectionProbe::final_year_net_at(double elasticity, Headline h) {
  return final_year_value(with_rebound_at(elasticity), h) - final_year_value(counterfactual(), h);
}

BreakEvenResult ProjectionProbe::break_even(Headline h, const BreakEvenRange& range) {
  // The same zero tolerance as project(): rounding in sums of petabytes is not a rise.
  const double tol = 1e-9 * std::max(1.0, std::fabs(final_year_value(counterfactual(), h)));
  return find_break_even([&](double e) { return final_year_net_at(e, h); }, range, tol);
}

}  // namespace jevons::planner
