#include "profiler/cli_options.h"

#include <sstream>
#include <stdexcept>

#include "jevons/core/error.h"
#include "jevons/core/kv_format.h"

namespace jevons::kernels::profiler {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

template <class T>
bool parse_numbers(const std::string& s, std::vector<T>& out) {
  for (const auto& item : split_list(s)) {
    try {
      std::size_t used = 0;
      const unsigned long long v = std::stoull(item, &used);
      if (used != item.size() || v == 0) return false;
      out.push_back(static_cast<T>(v));
    } catch (const std::exception&) {
      return false;
    }
  }
  return !out.empty();
}

}  // namespace

bool parse_device(const std::string& s, DeviceChoice& out) {
  if (s == "cpu")
    out = DeviceChoice::kCpu;
  else if (s == "gpu")
    out = DeviceChoice::kGpu;
  else if (s == "auto")
    out = DeviceChoice::kAuto;
  else
    return false;
  return true;
}

void apply_overrides(Options& options, const GridOverrides& o) {
  const bool gpu = options.device == DeviceChoice::kGpu ||
                   (options.device == DeviceChoice::kAuto && gpu_available());
  Grid g = default_grid(gpu, options.quick);
  if (!o.head_dims.empty()) g.head_dims = o.head_dims;
  if (!o.kv_formats.empty()) {
    g.kv_formats.clear();
    for (const auto& f : o.kv_formats) {
      try {
        g.kv_formats.push_back(KvConfig::parse(f).name());
      } catch (const InputError& e) {
        Diagnostic d = e.diagnostics().front();
        d.key = "--formats";
        throw InputError(d);
      }
    }
  }
  if (!o.batches.empty()) g.batches = o.batches;
  if (!o.contexts.empty()) g.contexts = o.contexts;
  if (o.q_heads) g.q_heads = o.q_heads;
  if (o.kv_heads) g.kv_heads = o.kv_heads;
  if (o.page_tokens) g.page_tokens = o.page_tokens;
  if (o.iterations > 0) g.iterations = o.iterations;
  if (!o.step_models.empty()) {
    g.step_models = o.step_models;
    if (g.step_models == std::vector<std::string>{"none"}) g.step_models.clear();
  }
  if (!o.step_formats.empty()) {
    g.step_formats.clear();
    for (const auto& f : o.step_formats) {
      try {
        g.step_formats.push_back(KvConfig::parse(f).name());
      } catch (const InputError& e) {
        Diagnostic d = e.diagnostics().front();
        d.key = "--step-formats";
        throw InputError(d);
      }
    }
  }
  if (!o.step_batches.empty()) g.step_batches = o.step_batches;
  if (!o.step_contexts.empty()) g.step_contexts = o.step_contexts;
  if (o.step_layers) g.step_layers = o.step_layers;
  if (!g.step_models.empty() && g.step_formats.empty()) g.step_formats = {"bf16"};
  for (auto d : g.head_dims)
    if (d != 64 && d != 128 && d != 256) {
      Diagnostic diag;
      diag.key = "--head-dims";
      diag.value = std::to_string(d);
      diag.message = "expected 64, 128 or 256 (the head dims the kernels are built for)";
      throw InputError(diag);
    }
  if (g.q_heads % g.kv_heads != 0) {
    Diagnostic diag;
    diag.key = "--q-heads";
    diag.value = std::to_string(g.q_heads);
    diag.message = "expected a multiple of --kv-heads (" + std::to_string(g.kv_heads) + ")";
    throw InputError(diag);
  }
  if (g.page_tokens % 16 != 0) {
    Diagnostic diag;
    diag.key = "--page-tokens";
    diag.value = std::to_string(g.page_tokens);
    diag.message = "expected a multiple of 16";
    throw InputError(diag);
  }
  options.grid = g;
  options.grid_set = true;
}

std::string profile_usage(const std::string& program) {
  return "usage: " + program +
         " [--device cpu|gpu|auto] [--out DIR] [--quick]\n"
         "       [--head-dims 64,128,256] [--formats bf16,tq-mse-4,...] [--batches 1,8,32]\n"
         "       [--contexts 4096,16384] [--q-heads 32] [--kv-heads 8] [--page-tokens 64]\n"
         "       [--iterations N] [--step-models llama-3.1-8b,...|none] [--step-formats bf16,...]\n"
         "       [--step-batches 1,8,32] [--step-contexts 1024,4096] [--step-layers N]\n"
         "Measures append and decode-attention kernels over a grid, then synthetic prefill and\n"
         "decode steps of each --step-models model, and writes <out>/profile.json\n"
         "(default data/profiles/<device-slug>/).\n";
}

bool parse_profile_args(const std::vector<std::string>& args, Options& options,
                        std::string& error) {
  GridOverrides o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) {
        error = a + " needs a value";
        return false;
      }
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      error = "help";
      return false;
    } else if (a == "--quick") {
      options.quick = true;
    } else if (a == "--device") {
      if (!value(v)) return false;
      if (!parse_device(v, options.device)) {
        error = "--device must be cpu, gpu or auto, got '" + v + "'";
        return false;
      }
    } else if (a == "--out") {
      if (!value(options.out_dir)) return false;
    } else if (a == "--formats") {
      if (!value(v)) return false;
      o.kv_formats = split_list(v);
    } else if (a == "--step-models") {
      if (!value(v)) return false;
      o.step_models = split_list(v);
    } else if (a == "--step-formats") {
      if (!value(v)) return false;
      o.step_formats = split_list(v);
    } else if (a == "--step-batches" || a == "--step-contexts") {
      if (!value(v)) return false;
      const bool ok = a == "--step-batches" ? parse_numbers(v, o.step_batches)
                                            : parse_numbers(v, o.step_contexts);
      if (!ok) {
        error = a + " expects a comma-separated list of positive integers, got '" + v + "'";
        return false;
      }
    } else if (a == "--head-dims" || a == "--batches" || a == "--contexts") {
      if (!value(v)) return false;
      const bool ok = a == "--head-dims" ? parse_numbers(v, o.head_dims)
                      : a == "--batches" ? parse_numbers(v, o.batches)
                                         : parse_numbers(v, o.contexts);
      if (!ok) {
        error = a + " expects a comma-separated list of positive integers, got '" + v + "'";
        return false;
      }
    } else if (a == "--q-heads" || a == "--kv-heads" || a == "--page-tokens" ||
               a == "--iterations" || a == "--step-layers") {
      if (!value(v)) return false;
      std::vector<std::uint32_t> n;
      if (!parse_numbers(v, n) || n.size() != 1) {
        error = a + " expects a positive integer, got '" + v + "'";
        return false;
      }
      if (a == "--q-heads")
        o.q_heads = n[0];
      else if (a == "--kv-heads")
        o.kv_heads = n[0];
      else if (a == "--page-tokens")
        o.page_tokens = n[0];
      else if (a == "--step-layers")
        o.step_layers = n[0];
      else
        o.iterations = static_cast<int>(n[0]);
    } else {
      error = "unknown option '" + a + "'";
      return false;
    }
  }
  apply_overrides(options, o);
  return true;
}

}  // namespace jevons::kernels::profiler
