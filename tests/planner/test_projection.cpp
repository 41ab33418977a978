// The projection engine: closed-form cases, exact decomposition, monotonicity.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "jevons/core/error.h"
#include "jevons/core/kv_accounting.h"
#include "jevons/core/replica_memory.h"
#include "jevons/core/scenario.h"
#include "jevons/planner/projection.h"

using namespace jevons;
using namespace jevons::planner;

namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(JEVONS_TEST_DATA_DIR);
  return c;
}

/// Capacity proportional to the format's compression: compressed replicas serve `gain` times the
/// tokens of baseline ones, on one GPU each; formats listed in `gains` serve their own gain.
/// Makes the closed forms exact.
class FakeOracle : public CapacityOracle {
 public:
  explicit FakeOracle(double gain, std::map<std::string, double> gains = {})
      : gain_(gain), gains_(std::move(gains)) {}
  ReplicaCapacity capacity(const CapacityQuery& q) override {
    ++calls;
    ReplicaCapacity r;
    r.tensor_parallel = 1;
    const std::string kv = q.kv.name();
    double gain = kv == "bf16" ? 1.0 : gain_;
    if (auto it = gains_.find(kv); it != gains_.end()) gain = it->second;
    r.tokens_per_s = 1000.0 * gain / q.prompt_scale;
    r.rate_per_s = r.tokens_per_s / 1000;
    r.weight_bytes = 20e9;
    r.kv_bytes_in_use = 40e9;
    r.hbm_bytes = 80.0 * (1 << 30);
    r.method = "fake";
    return r;
  }
  std::string method() const override { return "fake"; }
  int calls = 0;

 private:
  double gain_;
  std::map<std::string, double> gains_;
};

std::string planner_yaml(double eps, double context_elasticity = 0) {
  return R"(name: closed-form
seed: 1
horizon: {start: 2026Q1, quarters: 8}
planner:
  baseline_format: bf16
  compressed_format: tq-3.5
  adoption: {start: 2025Q4, speed_per_quarter: 50, ceiling: 1}
  classes:
    - name: chat
      model: llama-3.1-8b
      tokens_per_s: 1.0e6
      growth_per_year: 2
      input_tokens: {dist: lognormal, mean: 1000, cv: 1}
      output_tokens: {dist: lognormal, mean: 200, cv: 1}
      slo: {ttft_ms: 2000, tpot_ms: 50}
      elasticity: {short_run: )" +
         std::to_string(eps) + ", long_run: " + std::to_string(eps) + R"(, low: 0, high: 3}
      context_elasticity: )" +
         std::to_string(context_elasticity) + R"(
      peak_to_average: 1.5
  fleet:
    generations:
      - {gpu: h100-sxm, installed: 0, deliveries_per_quarter: 1.0e9, weights: bf16}
)";
}

Scenario load(const std::string& text) {
  return Scenario::parse(text, "closed-form.yaml", catalog());
}

const QuarterTotals& totals(const Projection& p, Variant v, int t) {
  for (const auto& x : p.totals)
    if (x.variant == v && x.quarter == t) return x;
  FAIL("no totals row");
  return p.totals.front();
}

}  // namespace

TEST_CASE("a planner section parses and validates", "[projection]") {
  const Scenario s = load(planner_yaml(1.1));
  REQUIRE(s.planner);
  CHECK(s.planner->classes.size() == 1);
  CHECK(s.planner->compressed_format.name() == "tq-3.5");
  CHECK(s.pools.empty());
  std::string bad = planner_yaml(1.1);
  bad.replace(bad.find("short_run: 1.1"), 14, "short_run: 2.0");  // short > long
  CHECK_THROWS_WITH(load(bad), Catch::Contains("short_run ≤ long_run"));
  bad = planner_yaml(1.1);
  bad.replace(bad.find("gpu: h100-sxm"), 13, "gpu: h100-sxn");
  CHECK_THROWS_WITH(load(bad), Catch::Contains("did you mean 'h100-sxm'"));
}

TEST_CASE("capacity gain k with ε: fleet scales as k^(ε−1), break-even at ε = 1", "[projection]") {
  const double k = 4.0;
  for (double eps : {0.0, 0.5, 1.0, 1.5}) {
    FakeOracle oracle(k);
    const Scenario s = load(planner_yaml(eps));
    ProjectionOptions opt;
    opt.sensitivity = false;
    opt.break_even = eps == 1.5;
    const Projection p = project(s, catalog(), oracle, opt);
    for (int t = 1; t < 8; ++t) {
      INFO("eps " << eps << " quarter " << t);
      const auto& cf = totals(p, Variant::kCounterfactual, t);
      const auto& ef = totals(p, Variant::kEfficiency, t);
      const auto& fu = totals(p, Variant::kFull, t);
      // Same demand on 4x the capacity per GPU: a quarter of the GPUs (all bought new).
      CHECK(ef.gpus_installed == Approx(cf.gpus_installed / k).epsilon(1e-9));
      CHECK(fu.demand_tokens_per_s ==
            Approx(cf.demand_tokens_per_s * std::pow(k, eps)).epsilon(1e-9));
      CHECK(fu.gpus_installed == Approx(cf.gpus_installed * std::pow(k, eps - 1)).epsilon(1e-6));
      CHECK(fu.hbm_installed_bytes ==
            Approx(cf.hbm_installed_bytes * std::pow(k, eps - 1)).epsilon(1e-6));
      if (eps == 0.0) CHECK(fu.demand_tokens_per_s == Approx(cf.demand_tokens_per_s));
      if (eps == 1.0) {
        // ε = 1 keeps spend constant: the same fleet serves k times the tokens.
        CHECK(fu.gpus_installed == Approx(cf.gpus_installed).epsilon(1e-9));
        CHECK(fu.cost_usd_per_mtok * fu.demand_tokens_per_s ==
              Approx(cf.cost_usd_per_mtok * cf.demand_tokens_per_s).epsilon(1e-9));
      }
    }
    if (opt.break_even) {
      int found = 0;
      for (const auto& b : p.break_even)
        if (b.metric == "hbm_installed_bytes" && b.quarter >= 1) {
          CHECK(b.elasticity == Approx(1.0).margin(1e-4));
          ++found;
        }
      CHECK(found == 7);
    }
  }
}

TEST_CASE("the decomposition matches the three variants' totals", "[projection]") {
  FakeOracle oracle(3.0);
  const Projection p = project(load(planner_yaml(1.3, 0.2)), catalog(), oracle);
  int checked = 0;
  for (const auto& d : p.decomposition) {
    if (d.metric != "hbm_installed_bytes" && d.metric != "host_dram_bytes" &&
        d.metric != "hbm_shipped_bytes")
      continue;
    const auto& cf = totals(p, Variant::kCounterfactual, d.quarter);
    const auto& ef = totals(p, Variant::kEfficiency, d.quarter);
    const auto& fu = totals(p, Variant::kFull, d.quarter);
    auto value = [&](const QuarterTotals& t) {
      if (d.metric == "hbm_installed_bytes") return t.hbm_installed_bytes;
      if (d.metric == "hbm_shipped_bytes") return t.hbm_shipped_bytes;
      return t.host_dram_bytes();
    };
    const double c = value(cf), e = value(ef), f = value(fu);
    CHECK(d.counterfactual == c);
    CHECK(d.efficiency_effect == Approx(e - c).margin(1e-6 * c));
    CHECK(d.rebound_effect == Approx(f - e).margin(1e-6 * c));
    CHECK(d.counterfactual + d.efficiency_effect + d.rebound_effect == Approx(f).epsilon(1e-12));
    CHECK(d.net == Approx(f - c).margin(1e-6 * c));
    ++checked;
  }
  CHECK(checked == 24);
  // Cheaper tokens moved prompts longer (context elasticity 0.2): prompt scale > 1.
  for (const auto& c : p.classes)
    if (c.variant == Variant::kFull && c.quarter >= 1) CHECK(c.prompt_scale > 1.0);
}

TEST_CASE("sensitivity: net HBM grows with elasticity", "[projection]") {
  FakeOracle oracle(2.0);
  const Projection p = project(load(planner_yaml(1.1)), catalog(), oracle);
  double prev = -1e300;
  int n = 0;
  for (const auto& sp : p.sensitivity) {
    if (sp.parameter != "elasticity") continue;
    CHECK(sp.hbm_installed_net_bytes >= prev - 1e-6 * std::fabs(prev));
    prev = sp.hbm_installed_net_bytes;
    ++n;
  }
  CHECK(n == 101);
  bool tornado = false;
  for (const auto& sp : p.sensitivity) tornado |= sp.parameter == "chat.elasticity";
  CHECK(tornado);
}

TEST_CASE("more compression never needs more GPUs for the same demand", "[projection]") {
  AnalyticalOracle inner;
  CachedOracle oracle(inner, "");
  double prev_gpus = 1e300;
  for (const char* fmt : {"bf16", "fp8", "tq-mse-4", "tq-3.5", "tq-2.5"}) {
    std::string y = planner_yaml(1.1);
    y.replace(y.find("compressed_format: tq-3.5"), 25, std::string("compressed_format: ") + fmt);
    ProjectionOptions opt;
    opt.break_even = opt.sensitivity = false;
    const Projection p = project(load(y), catalog(), oracle, opt);
    double gpus = 0;
    for (int t = 0; t < 8; ++t) {
      const auto& cf = totals(p, Variant::kCounterfactual, t);
      const auto& ef = totals(p, Variant::kEfficiency, t);
      CHECK(ef.gpus_installed <= cf.gpus_installed * (1 + 1e-12));
      gpus += ef.gpus_installed;
    }
    INFO(fmt);
    CHECK(gpus <= prev_gpus * (1 + 1e-12));
    prev_gpus = gpus;
  }
}

TEST_CASE("supply and power limits leave demand unserved, never negative", "[projection]") {
  FakeOracle oracle(2.0);
  std::string y = planner_yaml(1.1);
  y.replace(y.find("deliveries_per_quarter: 1.0e9"), 29, "deliveries_per_quarter: 100");
  y += "    power_budget_mw: 0.5\n";
  // power_budget_mw belongs to fleet:, one level up from generations:
  y.replace(y.find("    power_budget_mw: 0.5\n"), 25, "");
  y.replace(y.find("  fleet:\n"), 9, "  fleet:\n    power_budget_mw: 0.5\n");
  const Projection p = project(load(y), catalog(), oracle);
  bool unserved = false;
  for (const auto& t : p.totals) {
    CHECK(t.unserved_peak_tokens_per_s >= 0);
    CHECK(t.power_mw <= 0.5 + 1e-9);
    unserved |= t.unserved_peak_tokens_per_s > 0;
  }
  CHECK(unserved);
}

TEST_CASE("a generation's compressed_format overrides the planner-wide one on that generation only",
          "[projection]") {
  const std::string two_gens =
      "      - {gpu: h200, installed: 0, deliveries_per_quarter: 1.0e9, weights: bf16";
  std::string plain = planner_yaml(1.1);
  plain += two_gens + "}\n";
  std::string over = planner_yaml(1.1);
  over += two_gens + ", compressed_format: tq-2.5}\n";

  const Scenario s = load(over);
  REQUIRE(s.planner->generations.size() == 2);
  CHECK_FALSE(s.planner->generations[0].has_compressed_format);
  CHECK(s.planner->generations[1].has_compressed_format);
  CHECK(s.planner->compressed_format_of(0).name() == "tq-3.5");
  CHECK(s.planner->compressed_format_of(1).name() == "tq-2.5");

  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  FakeOracle o1(3.0, {{"tq-2.5", 5.0}});
  FakeOracle o2(3.0, {{"tq-2.5", 5.0}});
  const Projection a = project(load(plain), catalog(), o1, opt);
  const Projection b = project(s, catalog(), o2, opt);
  REQUIRE(a.capacity.size() == b.capacity.size());
  REQUIRE(a.capacity.size() == 4);  // 2 generations x 1 class x {baseline, compressed}
  int changed = 0;
  for (std::size_t i = 0; i < a.capacity.size(); ++i) {
    const auto& x = a.capacity[i];
    const auto& y = b.capacity[i];
    INFO(y.gpu_id << " " << y.kv_format);
    CHECK(x.gpu_id == y.gpu_id);
    if (y.gpu_id == "h200" && y.kv_format != "bf16") {
      CHECK(x.kv_format == "tq-3.5");
      CHECK(y.kv_format == "tq-2.5");
      CHECK(x.capacity.tokens_per_s == Approx(3000.0));
      CHECK(y.capacity.tokens_per_s == Approx(5000.0));
      ++changed;
    } else {
      CHECK(x.kv_format == y.kv_format);
      CHECK(x.capacity.tokens_per_s == y.capacity.tokens_per_s);
    }
  }
  CHECK(changed == 1);

  std::string bad = over;
  bad.replace(bad.find("compressed_format: tq-2.5}"), 25, "compressed_format: tq-9.9");
  CHECK_THROWS_WITH(load(bad), Catch::Contains("planner.fleet.generations[1].compressed_format"));
}

TEST_CASE("a fleet 'compressed' to its baseline format lists each capacity once",
          "[projection][newcomer]") {
  // planner-baseline.yaml (bf16 everywhere) asked every question twice, and the duplicate rows
  // broke capacity_search's primary key, so `jevons run` on it ended in an internal error.
  std::string text = planner_yaml(1.1);
  text.replace(text.find("compressed_format: tq-3.5"), 25, "compressed_format: bf16");
  const Scenario s = load(text);
  FakeOracle oracle(1.0);
  ProjectionOptions opt;
  opt.sensitivity = false;
  const Projection p = project(s, catalog(), oracle, opt);
  std::set<std::string> keys;
  for (const auto& c : p.capacity) {
    INFO(c.gpu_id << " " << c.class_name << " " << c.kv_format);
    CHECK(keys.insert(c.gpu_id + "|" + c.class_name + "|" + c.kv_format).second);
  }
  CHECK(p.capacity.size() == 1);  // one generation, one class, one format
}

TEST_CASE("purchases go to the cheapest part per token, not the newest", "[projection]") {
  // The fake oracle gives every GPU the same tokens/s, so the cheaper part per GPU-hour is the
  // cheaper part per token: the H100 at the catalog's price, unless the B200 is priced below it.
  auto bought = [](const std::string& b200_price) {
    std::string y = planner_yaml(1.1);
    y += "      - {gpu: b200, installed: 0, deliveries_per_quarter: 1.0e9, weights: bf16" +
         b200_price + "}\n";
    FakeOracle oracle(2.0);
    ProjectionOptions opt;
    opt.break_even = opt.sensitivity = false;
    const Projection p = project(load(y), catalog(), oracle, opt);
    std::map<std::string, double> sum;
    for (const auto& g : p.generations)
      if (g.variant == Variant::kCounterfactual) sum[g.gpu_id] += g.purchased;
    return sum;
  };
  const auto by_catalog = bought("");
  CHECK(by_catalog.at("h100-sxm") > 0);
  CHECK(by_catalog.at("b200") == 0);  // newer, but costs more per token here
  const auto cheap_b200 = bought(", price_usd: 10000");
  CHECK(cheap_b200.at("b200") > 0);
  CHECK(cheap_b200.at("h100-sxm") == 0);
}

TEST_CASE("initial_utilization scales the stated demand until the installed base is that busy",
          "[projection]") {
  // 1,000 H100s at the fake 1,000 tokens/s each (bf16), one class at peak/average 1.5: half of
  // them busy at the peak needs 500 × 1,000 / 1.5 tokens/s of average demand, a third of 1e6.
  std::string y = planner_yaml(1.1);
  y.replace(y.find("installed: 0"), 12, "installed: 1000");
  y.replace(y.find("  fleet:\n"), 9, "  fleet:\n    initial_utilization: 0.5\n");
  FakeOracle oracle(2.0);
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  const Projection p = project(load(y), catalog(), oracle, opt);
  const auto& q0 = totals(p, Variant::kCounterfactual, 0);
  CHECK(q0.initial_demand_scale == Approx(1.0 / 3));
  CHECK(q0.demand_tokens_per_s == Approx(1e6 / 3));
  for (const auto& g : p.generations)
    if (g.variant == Variant::kCounterfactual && g.quarter == 0) {
      CHECK(g.serving == Approx(500));
      CHECK(g.purchased == 0);
    }
  // Every variant starts from the same scaled demand.
  CHECK(totals(p, Variant::kFull, 0).initial_demand_scale == q0.initial_demand_scale);
}

TEST_CASE("the default scenario's first quarter is busy at its stated utilisation",
          "[projection][scenarios]") {
  // Issue 13: the first quarter's demand and fleet agree at fleet.initial_utilization. Every
  // part that can serve some class runs at that share at the peak; the rest of the installed
  // base is idle for a stated reason (no class's model fits on it). The closed-form capacity
  // keeps this fast: the calibration and the assignment rule are the same on the simulated one.
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  AnalyticalOracle analytical;
  CachedOracle oracle(analytical, "");
  const Scenario s =
      Scenario::load(std::string(JEVONS_TEST_SCENARIO_DIR) + "/default.yaml", catalog());
  const double u = s.planner->initial_utilization;
  REQUIRE(u > 0);
  REQUIRE(s.planner->committed_quarters > 0);
  double committed = 0;
  for (const auto& g : s.planner->generations)
    if (catalog().gpu(g.gpu_id).launch <= "2026-03") committed += g.deliveries_per_quarter;
  const Projection p = project(s, catalog(), oracle, opt);
  for (Variant v : {Variant::kCounterfactual, Variant::kEfficiency, Variant::kFull}) {
    double serving = 0, installed = 0, unusable = 0, purchased = 0;
    for (const auto& g : p.generations) {
      if (g.variant != v || g.quarter != 0) continue;
      serving += g.serving;
      installed += g.installed;
      purchased += g.purchased;
      bool fits = false;
      for (const auto& e : p.capacity)
        fits = fits || (e.gpu_id == g.gpu_id && e.capacity.tokens_per_s > 0);
      if (!fits) unusable += g.installed;
      // Each generation that serves runs at the stated share, not above it.
      if (fits && g.installed > 0) CHECK(g.serving / g.installed == Approx(u).epsilon(0.02));
    }
    INFO(to_string(v));
    // The first quarter's fleet is the installed base and its committed deliveries (every part
    // on sale delivers, fleet.committed_through); nothing is bought beyond them.
    CHECK(purchased == Approx(committed).epsilon(1e-9));
    CHECK(serving / (installed - unusable) == Approx(u).epsilon(0.01));
    CHECK(unusable < 0.1 * installed);  // the stated reason covers a small share, not the gap
  }
  // Every class is served, and no class is scaled above the common factor.
  for (const auto& c : p.classes)
    if (c.quarter == 0) CHECK(c.unserved_peak_tokens_per_s == 0);
}

TEST_CASE("a class that fits on few parts keeps its factor while the others fill the fleet",
          "[projection]") {
  // 1,000 H100s and 100 B200s; chat serves 1,000 tokens/s per GPU on either, the long class
  // 500 on a B200 only (its model fits nowhere else). Progressive filling: both grow by one
  // factor until the long class has the B200s 80 % busy; it keeps that factor and chat grows on
  // until the H100s are 80 % busy too. The long class is served first (fewest parts) and the
  // B200s go to it, not to chat, which every part can serve.
  class TwoParts : public CapacityOracle {
   public:
    ReplicaCapacity capacity(const CapacityQuery& q) override {
      ReplicaCapacity r;
      r.tensor_parallel = 1;
      const bool big = q.gpu->id == "b200";
      const bool long_class = q.demand_class->name == "long";
      r.tokens_per_s = long_class ? (big ? 500.0 : 0.0) : 1000.0;
      r.rate_per_s = r.tokens_per_s / 1000;
      r.method = "fake";
      return r;
    }
    std::string method() const override { return "fake"; }
  } oracle;
  std::string y = planner_yaml(1.1);
  y.replace(y.find("installed: 0"), 12, "installed: 1000");
  y += "      - {gpu: b200, installed: 100, weights: fp8}\n";
  const std::string chat = "    - name: chat\n";
  std::string long_class = y.substr(y.find(chat), y.find("  fleet:\n") - y.find(chat));
  long_class.replace(long_class.find("chat"), 4, "long");
  y.insert(y.find("  fleet:\n"), long_class);
  y.replace(y.find("  fleet:\n"), 9, "  fleet:\n    initial_utilization: 0.8\n");
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  const Projection p = project(load(y), catalog(), oracle, opt);
  std::map<std::string, double> serving, scale;
  for (const auto& g : p.generations)
    if (g.variant == Variant::kCounterfactual && g.quarter == 0) serving[g.gpu_id] = g.serving;
  for (const auto& c : p.classes)
    if (c.variant == Variant::kCounterfactual && c.quarter == 0)
      scale[c.class_name] = c.baseline_tokens_per_s / 1e6;
  CHECK(serving.at("h100-sxm") == Approx(800));
  CHECK(serving.at("b200") == Approx(80));
  // The long class has the B200s to itself (its only parts): 80 × 500 tokens/s at the peak.
  CHECK(scale.at("long") * 1e6 * 1.5 == Approx(80 * 500.0));
  // Chat takes the H100s: 800 × 1,000 tokens/s at the peak.
  CHECK(scale.at("chat") * 1e6 * 1.5 == Approx(800 * 1000.0));
}

TEST_CASE("multi-turn sessions spill to host DRAM what the free HBM cannot keep",
          "[projection][host-dram]") {
  // One class on H100s (fake capacity: 1,000 tokens/s and 1 request/s per GPU at bf16, 40 GB of
  // KV in use at capacity). Half of each 1,000-token prompt is the previous turn's context, kept
  // 900 s between turns: at the average load (1/1.5 of capacity) a replica holds
  // 1/1.5 × 900 sessions × the KV of 500 tokens. What the replica's KV budget leaves free at
  // that load keeps part of it; the rest is the host-DRAM offload tier.
  std::string y = planner_yaml(1.1);
  y.replace(y.find("      peak_to_average: 1.5\n"), 27,
            "      peak_to_average: 1.5\n      sessions: {reuse_share: 0.5, gap_s: 900}\n");
  FakeOracle oracle(2.0);
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  const Scenario s = load(y);
  const Projection p = project(s, catalog(), oracle, opt);
  const auto& gpu = catalog().gpu("h100-sxm");
  const auto& model = catalog().model("llama-3.1-8b");
  const auto mem = plan_replica_memory(gpu, model, 1, WeightPrecision::kBf16, MemoryPolicy{});
  const double avg_load = 1 / 1.5;
  const double session = static_cast<double>(
      KvFootprint(model, s.planner->baseline_format, 1).bytes_for_sequence(500));
  const double held = 1.0 * avg_load * 900 * session;
  const double free_hbm = static_cast<double>(mem.kv_bytes_per_gpu) - 40e9 * avg_load;
  REQUIRE(held > free_hbm);  // the case is built so HBM is short
  const auto& cf = totals(p, Variant::kCounterfactual, 0);
  double serving = 0;
  for (const auto& g : p.generations)
    if (g.variant == Variant::kCounterfactual && g.quarter == 0) serving += g.serving;
  CHECK(cf.host_dram_offload_bytes == Approx(serving * (held - free_hbm)).epsilon(1e-9));
  // Compressed KV (4.6× smaller per token at tq-3.5, twice the requests/s here) leaves the
  // tier smaller in every quarter: each session holds less and the same HBM keeps more.
  for (int t = 0; t < 8; ++t) {
    INFO(t);
    CHECK(totals(p, Variant::kEfficiency, t).host_dram_offload_bytes <
          totals(p, Variant::kCounterfactual, t).host_dram_offload_bytes);
  }
  // Without sessions there is nothing to keep between turns.
  const Projection none = project(load(planner_yaml(1.1)), catalog(), oracle, opt);
  CHECK(totals(none, Variant::kCounterfactual, 0).host_dram_offload_bytes == 0);
}

TEST_CASE("every bundled planner scenario changes the result against planner-jevons",
          "[projection][scenarios]") {
  // Issue 13: a bundled scenario that changes nothing misleads; each must move some quarter's
  // totals. The closed-form capacity keeps this fast; the fleet and demand rules are the same.
  namespace fs = std::filesystem;
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  auto run = [&](const std::string& path) {
    AnalyticalOracle analytical;
    CachedOracle oracle(analytical, "");  // the grid and interpolation `jevons run` uses
    return project(Scenario::load(path, catalog()), catalog(), oracle, opt).totals;
  };
  const std::string dir = JEVONS_TEST_SCENARIO_DIR;
  const auto reference = run(dir + "/planner-jevons.yaml");
  int scenarios = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("planner-", 0) != 0 || name == "planner-jevons.yaml") continue;
    ++scenarios;
    const auto totals = run(entry.path().string());
    REQUIRE(totals.size() == reference.size());
    bool differs = false;
    for (std::size_t i = 0; i < totals.size() && !differs; ++i) {
      const auto& a = totals[i];
      const auto& b = reference[i];
      for (auto [x, y] : {std::pair{a.gpus_installed, b.gpus_installed},
                          std::pair{a.hbm_installed_bytes, b.hbm_installed_bytes},
                          std::pair{a.hbm_used_bytes(), b.hbm_used_bytes()},
                          std::pair{a.demand_tokens_per_s, b.demand_tokens_per_s},
                          std::pair{a.hbm_shipped_bytes, b.hbm_shipped_bytes}})
        differs = differs || std::fabs(x - y) > 1e-9 * std::max(std::fabs(x), std::fabs(y));
    }
    INFO(name);
    CHECK(differs);
  }
  CHECK(scenarios >= 8);
}

TEST_CASE("the world-baseline keys reject values they cannot mean", "[projection][bad-input]") {
  std::string y = planner_yaml(1.1);
  y.replace(y.find("  fleet:\n"), 9,
            "  fleet:\n    initial_utilization: 1.5\n    hbm_supply_eb_per_year: -1\n");
  y.replace(y.find("installed: 0"), 12, "installed: 5, installed_since: 2026Q2");
  y.replace(y.find("  fleet:\n"), 9, "  economics: {pass_through: 2}\n  fleet:\n");
  try {
    load(y);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("planner.fleet.initial_utilization' = '1.5'") != std::string::npos);
    CHECK(what.find("planner.fleet.hbm_supply_eb_per_year' = '-1'") != std::string::npos);
    CHECK(what.find("installed_since' = '2026Q2'") != std::string::npos);
    CHECK(what.find("planner.economics.pass_through' = '2'") != std::string::npos);
  }
}

namespace {
const GenerationQuarter& gen_row(const Projection& p, Variant v, int t, const std::string& gpu) {
  for (const auto& g : p.generations)
    if (g.variant == v && g.quarter == t && g.gpu_id == gpu) return g;
  FAIL("no generation row");
  return p.generations.front();
}
}  // namespace

TEST_CASE("committed deliveries arrive in every variant, demand or not, within HBM supply",
          "[projection][committed]") {
  // 10,000 H100s serve a demand that needs at most 6,000 over the horizon: nothing is bought,
  // except the committed quarters' deliveries (100 a quarter, growing x2 a year), which arrive in
  // all three variants alike. With HBM supply below their HBM, they are scaled to it.
  std::string y = planner_yaml(1.1);
  y.replace(y.find("installed: 0, deliveries_per_quarter: 1.0e9"), 43,
            "installed: 10000, deliveries_per_quarter: 100, delivery_growth_per_year: 2");
  y.replace(y.find("  fleet:\n"), 9, "  fleet:\n    committed_through: 2026Q2\n");
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  FakeOracle oracle(2.0);
  const Scenario s = load(y);
  REQUIRE(s.planner->committed_quarters == 2);
  const Projection p = project(s, catalog(), oracle, opt);
  const double hbm =
      catalog().gpu("h100-sxm").hbm_nominal_gib.get("hbm_nominal_gib") * 1024.0 * 1024.0 * 1024.0;
  for (Variant v : {Variant::kCounterfactual, Variant::kEfficiency, Variant::kFull}) {
    INFO(to_string(v));
    for (int t = 0; t < 8; ++t) {
      INFO(t);
      const double want = t < 2 ? 100 * std::pow(2.0, t / 4.0) : 0.0;
      CHECK(gen_row(p, v, t, "h100-sxm").purchased == Approx(want).margin(1e-9));
      CHECK(totals(p, v, t).hbm_shipped_bytes == Approx(want * hbm).margin(1));
    }
    CHECK(totals(p, v, 7).gpus_installed == Approx(10000 + 100 + 100 * std::pow(2.0, 0.25)));
  }
  // HBM supply of 50 parts a quarter: the committed deliveries are cut to it.
  std::string capped = y;
  capped.replace(
      capped.find("  fleet:\n"), 9,
      fmt::format("  fleet:\n    hbm_supply_eb_per_year: {:.17g}\n", 4 * 50 * hbm / 1e18));
  const Projection q = project(load(capped), catalog(), oracle, opt);
  CHECK(gen_row(q, Variant::kCounterfactual, 0, "h100-sxm").purchased == Approx(50));
  CHECK(totals(q, Variant::kCounterfactual, 0).hbm_shipped_bytes == Approx(50 * hbm));
}

TEST_CASE("committed deliveries set the demand growth of the committed quarters",
          "[projection][committed]") {
  // 1,000 H100s and 500 committed deliveries a quarter through 2026Q4, at 80 % busy: the first
  // quarter's demand keeps the installed base and that quarter's deliveries 80 % busy, the last
  // committed quarter's keeps everything delivered by then 80 % busy (the demand the orders were
  // placed for), and after it demand grows at the stated x2 a year.
  std::string y = planner_yaml(1.1);
  y.replace(y.find("installed: 0, deliveries_per_quarter: 1.0e9"), 43,
            "installed: 1000, deliveries_per_quarter: 500");
  y.replace(y.find("  fleet:\n"), 9,
            "  fleet:\n    initial_utilization: 0.8\n    committed_through: 2026Q4\n");
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  FakeOracle oracle(2.0);
  const Projection p = project(load(y), catalog(), oracle, opt);
  const auto& q0 = gen_row(p, Variant::kCounterfactual, 0, "h100-sxm");
  const auto& q3 = gen_row(p, Variant::kCounterfactual, 3, "h100-sxm");
  CHECK(q0.installed == Approx(1500));
  CHECK(q0.serving == Approx(0.8 * 1500));
  CHECK(q3.installed == Approx(3000));
  CHECK(q3.serving == Approx(0.8 * 3000));
  double demand[8];
  for (const auto& c : p.classes)
    if (c.variant == Variant::kCounterfactual) demand[c.quarter] = c.baseline_tokens_per_s;
  // Faster than the stated x2 a year through the committed quarters (x2 over three quarters),
  // geometric; then the stated growth.
  CHECK(demand[3] / demand[0] == Approx(2.0));
  CHECK(demand[2] / demand[1] == Approx(std::pow(2.0, 1.0 / 3)));
  CHECK(demand[7] / demand[3] == Approx(2.0));
}

TEST_CASE("host DRAM counts the KV tiers once: in the servers' free DRAM, extra beyond it",
          "[projection][host-dram]") {
  // Sessions written through to host DRAM (capacity.session_tier): every session's KV is in the
  // tier, at the average load 1/1.5 of the fake 1 request/s per GPU. The servers have 256 GiB per
  // H100 (data/gpus.yaml), a quarter reserved for the OS and runtime: a tier within the other
  // three quarters adds no DRAM; one beyond adds only the excess.
  const auto& gpu = catalog().gpu("h100-sxm");
  const auto& model = catalog().model("llama-3.1-8b");
  const double host =
      gpu.host_dram_per_gpu_gib.get("host_dram_per_gpu_gib") * 1024.0 * 1024.0 * 1024.0;
  auto run = [&](int gap_s, double& held, double& serving, double& installed) {
    std::string y = planner_yaml(1.1);
    y.replace(y.find("      peak_to_average: 1.5\n"), 27,
              fmt::format("      peak_to_average: 1.5\n      sessions: {{reuse_share: 0.5, gap_s: "
                          "{}}}\n",
                          gap_s));
    y.replace(y.find("  fleet:\n"), 9, "  fleet:\n    host_dram_reserved_share: 0.25\n");
    y += "  capacity:\n    session_tier: write-through\n";
    const Scenario s = load(y);
    REQUIRE(s.planner->session_write_through);
    FakeOracle oracle(2.0);
    ProjectionOptions opt;
    opt.break_even = opt.sensitivity = false;
    const Projection p = project(s, catalog(), oracle, opt);
    const double session = static_cast<double>(
        KvFootprint(model, s.planner->baseline_format, 1).bytes_for_sequence(500));
    held = 1.0 / 1.5 * gap_s * session;
    const auto& g = gen_row(p, Variant::kCounterfactual, 0, "h100-sxm");
    serving = g.serving;
    installed = g.installed;
    return totals(p, Variant::kCounterfactual, 0);
  };
  double held = 0, serving = 0, installed = 0;
  SECTION("a tier that fits in the free DRAM adds none") {
    const QuarterTotals t = run(900, held, serving, installed);
    REQUIRE(held < 0.75 * host);
    REQUIRE(serving > 0);
    CHECK(t.host_dram_offload_bytes == Approx(serving * held).epsilon(1e-9));  // all of it
    CHECK(t.host_dram_bytes() == Approx(installed * host).epsilon(1e-12));
    CHECK(t.host_dram_baseline_bytes == Approx(installed * host - serving * held).epsilon(1e-9));
  }
  SECTION("a tier beyond the free DRAM adds the excess") {
    const QuarterTotals t = run(9000, held, serving, installed);
    REQUIRE(held > 0.75 * host);
    CHECK(t.host_dram_offload_bytes == Approx(serving * held).epsilon(1e-9));
    CHECK(t.host_dram_bytes() ==
          Approx(installed * host + serving * (held - 0.75 * host)).epsilon(1e-9));
  }
}

TEST_CASE("software gains divide the GPUs a token needs by the growth, in every variant",
          "[projection][software]") {
  // fleet.software_efficiency_growth_per_year g: the same demand served by g^(t/4) more tokens
  // per GPU in quarter t, on every part and format alike, so every variant's fleet shrinks by
  // exactly that factor, the price ratio (and so the rebound's demand) is untouched, and the
  // marginal cost per token falls with it.
  const double g = 1.3;
  auto run = [&](double growth) {
    std::string y = planner_yaml(1.1);
    y.replace(y.find("  fleet:\n"), 9,
              fmt::format("  fleet:\n    software_efficiency_growth_per_year: {}\n", growth));
    FakeOracle oracle(2.0);
    ProjectionOptions opt;
    opt.break_even = opt.sensitivity = false;
    const Scenario s = load(y);
    REQUIRE(s.planner->software_efficiency_growth_per_year == growth);
    return project(s, catalog(), oracle, opt);
  };
  const Projection base = run(1.0), fast = run(g);
  for (Variant v : {Variant::kCounterfactual, Variant::kEfficiency, Variant::kFull})
    for (int t = 0; t < 8; ++t) {
      INFO(to_string(v) << " quarter " << t);
      const auto& a = totals(base, v, t);
      const auto& b = totals(fast, v, t);
      const double k = std::pow(g, t / 4.0);
      CHECK(b.demand_tokens_per_s == Approx(a.demand_tokens_per_s).epsilon(1e-12));
      CHECK(b.gpus_installed == Approx(a.gpus_installed / k).epsilon(1e-9));
      CHECK(b.hbm_installed_bytes == Approx(a.hbm_installed_bytes / k).epsilon(1e-9));
      CHECK(b.cost_marginal_usd_per_mtok == Approx(a.cost_marginal_usd_per_mtok / k).epsilon(1e-9));
      CHECK(b.unserved_peak_tokens_per_s == 0);
    }
  // Out of range: a clear error naming the key.
  std::string bad = planner_yaml(1.1);
  bad.replace(bad.find("  fleet:\n"), 9, "  fleet:\n    software_efficiency_growth_per_year: 0\n");
  CHECK_THROWS_WITH(load(bad),
                    Catch::Contains("planner.fleet.software_efficiency_growth_per_year' = '0'"));
}

TEST_CASE("HBM supply: each year of the horizon receives the stated total grown yearly",
          "[projection][supply]") {
  // hbm_supply_eb_per_year is a year's total (TrendForce's 2026 bits); it grows every quarter,
  // but the horizon's first four quarters sum to it and the next four to it times the growth.
  // Demand far above supply, so every quarter ships its whole supply.
  const double hbm =
      catalog().gpu("h100-sxm").hbm_nominal_gib.get("hbm_nominal_gib") * 1024.0 * 1024.0 * 1024.0;
  const double year_bytes = 400 * hbm;  // 400 H100s' worth a year; the demand needs ~1,500
  std::string y = planner_yaml(1.1);
  y.replace(y.find("  fleet:\n"), 9,
            fmt::format("  fleet:\n    hbm_supply_eb_per_year: {:.17g}\n"
                        "    hbm_supply_growth_per_year: 1.3\n",
                        year_bytes / 1e18));
  FakeOracle oracle(2.0);
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  const Projection p = project(load(y), catalog(), oracle, opt);
  double first = 0, second = 0;
  for (int t = 0; t < 8; ++t) {
    const auto& q = totals(p, Variant::kCounterfactual, t);
    CHECK(q.hbm_shipped_bytes == Approx(q.hbm_supply_bytes).epsilon(1e-9));
    CHECK(q.unserved_peak_tokens_per_s > 0);
    (t < 4 ? first : second) += q.hbm_shipped_bytes;
  }
  CHECK(first == Approx(year_bytes).epsilon(1e-12));
  CHECK(second == Approx(1.3 * year_bytes).epsilon(1e-12));
}

TEST_CASE("scarcity: the served share and the price that would ration the unserved rest",
          "[projection][scarcity]") {
  // 100 H100s a quarter against demand growing x2 a year from 1e6 tokens/s: the fake oracle
  // serves 1,000 tokens/s per bf16 GPU, so the served share of the peak is the fleet's capacity
  // over the peak, and the rationing price is that share^(-1/ε).
  std::string y = planner_yaml(1.1);
  y.replace(y.find("deliveries_per_quarter: 1.0e9"), 29, "deliveries_per_quarter: 100");
  FakeOracle oracle(2.0);
  ProjectionOptions opt;
  opt.break_even = opt.sensitivity = false;
  const Scenario s = load(y);
  const Projection p = project(s, catalog(), oracle, opt);
  const auto rows = scarcity(*s.planner, p);
  REQUIRE(rows.size() == 8);
  bool short_somewhere = false;
  for (const auto& r : rows) {
    INFO("quarter " << r.quarter);
    const auto& t = totals(p, Variant::kCounterfactual, r.quarter);
    const double installed = t.gpus_installed;
    CHECK(r.class_name == "chat");
    CHECK(r.long_run_elasticity == Approx(1.1));
    CHECK(r.served_share == Approx(std::min(1.0, installed * 1000.0 / t.peak_tokens_per_s)));
    CHECK(r.rationing_price_ratio == Approx(std::pow(r.served_share, -1 / 1.1)));
    short_somewhere |= r.served_share < 1;
  }
  CHECK(short_somewhere);
  // Unlimited deliveries serve everything: no premium.
  const Scenario full = load(planner_yaml(1.1));
  for (const auto& r : scarcity(*full.planner, project(full, catalog(), oracle, opt)))
    CHECK(r.rationing_price_ratio == 1.0);
}
