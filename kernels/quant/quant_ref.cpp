#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>

#include "codebook/codebook.h"
#include "common/numeric.h"
#include "common/rng.h"
#include "packing/packing.h"
#include "quant/quant.h"

namespace jevons::kernels {
namespace {

// Rotations and QJL matrices are shared by every head (and every codec) built with the same
// seed: a dense 256×256 QR costs milliseconds, and sharing keeps per-layer memory at one copy.
std::shared_ptr<const Rotation> cached_rotation(std::uint32_t dim, RotationKind kind,
                                                std::uint64_t seed) {
  static std::mutex mu;
  static std::map<std::tuple<std::uint32_t, int, std::uint64_t>, std::shared_ptr<const Rotation>>
      cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{dim, static_cast<int>(kind), seed}];
  if (!slot) slot = std::make_shared<const Rotation>(Rotation::make(dim, kind, seed));
  return slot;
}

std::shared_ptr<const std::vector<float>> cached_gaussian(std::uint32_t dim, std::uint64_t seed) {
  static std::mutex mu;
  static std::map<std::pair<std::uint32_t, std::uint64_t>,
                  std::shared_ptr<const std::vector<float>>>
      cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{dim, seed}];
  if (!slot) slot = std::make_shared<const std::vector<float>>(gaussian_matrix(dim, dim, seed));
  return slot;
}

std::uint16_t load_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
void store_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v & 0xffu);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
float load_half(const std::uint8_t* meta, std::uint32_t slot) {
  return half_to_float(load_u16(meta + 2 * slot));
}

void fill_segment(SegmentDesc& s, std::uint32_t dim, int bits, std::uint32_t channel_offset,
                  std::uint32_t code_offset, std::uint32_t norm_index) {
  s.dim = dim;
  s.bits = static_cast<std::uint32_t>(bits);
  s.channel_offset = channel_offset;
  s.code_offset = code_offset;
  s.norm_index = norm_index;
  if (bits == 0) {  // b = 1 TurboQuant_prod: no MSE stage, the reconstruction before QJL is 0
    s.centroids[0] = 0.0f;
    return;
  }
  const Codebook& cb = lloyd_max_codebook(dim, bits);
  std::copy(cb.centroids_f.begin(), cb.centroids_f.end(), s.centroids);
  std::copy(cb.boundaries_f.begin(), cb.boundaries_f.end(), s.boundaries);
}

// Value of channel j of a baseline vector (original channel order).
float baseline_value(const VectorDesc& d, const std::uint8_t* code, const std::uint8_t* meta,
                     std::uint32_t j) {
  switch (d.kind) {
    case CodecKind::kBf16:
      return bf16_to_float(load_u16(code + 2 * j));
    case CodecKind::kFp16:
      return half_to_float(load_u16(code + 2 * j));
    case CodecKind::kFp8:
      return fp8_e4m3_to_float(code[j]) * d.fp8_scale;
    case CodecKind::kKivi: {
      const std::uint32_t g = j / d.kivi_group;
      const float scale = load_half(meta, 2 * g);
      const float zero = load_half(meta, 2 * g + 1);
      return zero + scale * static_cast<float>(read_code(code, j, static_cast<int>(d.kivi_bits)));
    }
    case CodecKind::kTq:
      break;
  }
  throw std::logic_error("baseline_value on a TurboQuant codec");
}

}  // namespace

VectorCodec VectorCodec::make(const KvFormat& format, std::uint32_t dim,
                              const CodecOptions& options) {
  if (dim == 0 || dim % 8 != 0 || dim > 4096)
    throw std::invalid_argument("head_dim " + std::to_string(dim) +
                                " unsupported: must be a positive multiple of 8");
  VectorCodec c;
  c.format_ = format;
  VectorDesc& d = c.desc_;
  d.dim = dim;
  c.perm_.resize(dim);
  std::iota(c.perm_.begin(), c.perm_.end(), std::uint16_t{0});
  switch (format.scheme) {
    case KvScheme::kBf16:
    case KvScheme::kFp16:
      d.kind = format.scheme == KvScheme::kBf16 ? CodecKind::kBf16 : CodecKind::kFp16;
      d.code_bytes = 2 * dim;
      break;
    case KvScheme::kFp8:
      d.kind = CodecKind::kFp8;
      d.code_bytes = dim;
      d.fp8_scale = options.fp8_scale;
      break;
    case KvScheme::kInt4Kivi:
    case KvScheme::kInt2Kivi:
      if (dim % 32 != 0) throw std::invalid_argument("KIVI formats need head_dim % 32 == 0");
      d.kind = CodecKind::kKivi;
      d.kivi_bits = static_cast<std::uint32_t>(format.bits);
      d.code_bytes = static_cast<std::uint32_t>(packed_bytes(dim, format.bits));
      d.meta_bytes = 4 * (dim / d.kivi_group);
      break;
    case KvScheme::kTqMse:
    case KvScheme::kTqProd: {
      d.kind = CodecKind::kTq;
      d.num_segments = 1;
      const bool prod = format.scheme == KvScheme::kTqProd;
      // tq-prod-1 (b − 1 = 0 MSE bits: QJL of the whole vector, the paper's b = 1 case) has no
      // KvFormat name; it is built from a KvFormat with bits = 1 as a CPU reference and test.
      const int bits = prod ? format.bits - 1 : format.bits;
      if (bits < (prod ? 0 : 1) || bits > 4)
        throw std::invalid_argument("unsupported bits for " + format.name());
      fill_segment(d.seg[0], dim, bits, 0, 0, 0);
      d.code_bytes = static_cast<std::uint32_t>(packed_bytes(dim, bits));
      d.meta_bytes = 2;
      c.rot_[0] = cached_rotation(dim, options.rotation, mix_seed(options.seed, 1));
      if (prod) {
        d.has_qjl = 1;
        d.sign_offset = d.code_bytes;
        d.code_bytes += static_cast<std::uint32_t>(packed_bytes(dim, 1));
        d.gamma_index = 1;
        d.meta_bytes = 4;
        d.qjl_scale = static_cast<float>(std::sqrt(M_PI / 2.0) / dim);
        c.qjl_ = cached_gaussian(dim, mix_seed(options.seed, 3));
      }
      break;
    }
    case KvScheme::kTqSplit: {
      d.kind = CodecKind::kTq;
      d.num_segments = 2;
      const std::uint32_t o = format.outlier_channels(dim);
      if (o == 0 || o >= dim || o % 8 != 0)
        throw std::invalid_argument("head_dim " + std::to_string(dim) + " too small for " +
                                    format.name());
      std::vector<std::uint32_t> out = options.outlier_channels;
      if (out.empty()) {
        out.resize(o);
        std::iota(out.begin(), out.end(), 0u);
      }
      std::sort(out.begin(), out.end());
      if (out.size() != o || std::adjacent_find(out.begin(), out.end()) != out.end() ||
          out.back() >= dim)
        throw std::invalid_argument("outlier channel list must hold " + std::to_string(o) +
                                    " distinct channels < " + std::to_string(dim));
      std::vector<bool> is_out(dim, false);
      for (auto ch : out) is_out[ch] = true;
      std::size_t k = 0;
      for (auto ch : out) c.perm_[k++] = static_cast<std::uint16_t>(ch);
      for (std::uint32_t ch = 0; ch < dim; ++ch)
        if (!is_out[ch]) c.perm_[k++] = static_cast<std::uint16_t>(ch);
      const auto bytes0 = static_cast<std::uint32_t>(packed_bytes(o, format.bits));
      fill_segment(d.seg[0], o, format.bits, 0, 0, 0);
      fill_segment(d.seg[1], dim - o, format.regular_bits, o, bytes0, 1);
      d.code_bytes =
          bytes0 + static_cast<std::uint32_t>(packed_bytes(dim - o, format.regular_bits));
      d.meta_bytes = 4;
      c.rot_[0] = cached_rotation(o, options.rotation, mix_seed(options.seed, 1));
      c.rot_[1] = cached_rotation(dim - o, options.rotation, mix_seed(options.seed, 2));
      break;
    }
    case KvScheme::kNvfp4:
      throw std::invalid_argument("nvfp4 has no kernels (Blackwell-only baseline)");
  }
  if (c.vector_bytes() != format.bytes_per_vector(dim))
    throw std::logic_error("codec layout disagrees with KvFormat::bytes_per_vector for " +
                           format.name());
  return c;
}

void VectorCodec::encode(const float* x, std::uint8_t* code, std::uint8_t* meta) const {
  const VectorDesc& d = desc_;
  const std::uint32_t n = d.dim;
  switch (d.kind) {
    case CodecKind::kBf16:
      for (std::uint32_t j = 0; j < n; ++j) store_u16(code + 2 * j, float_to_bf16(x[j]));
      return;
    case CodecKind::kFp16:
      for (std::uint32_t j = 0; j < n; ++j) store_u16(code + 2 * j, float_to_half(x[j]));
      return;
    case CodecKind::kFp8:
      for (std::uint32_t j = 0; j < n; ++j) code[j] = float_to_fp8_e4m3(x[j] / d.fp8_scale);
      return;
    case CodecKind::kKivi: {
      const std::uint32_t g = d.kivi_group;
      const float levels = static_cast<float>((1u << d.kivi_bits) - 1u);
      std::vector<std::uint8_t> q(n);
      for (std::uint32_t g0 = 0; g0 < n; g0 += g) {
        float mn = x[g0], mx = x[g0];
        for (std::uint32_t j = g0; j < g0 + g; ++j) {
          mn = std::min(mn, x[j]);
          mx = std::max(mx, x[j]);
        }
        const std::uint16_t sh = float_to_half((mx - mn) / levels);
        const std::uint16_t zh = float_to_half(mn);
        store_u16(meta + 4 * (g0 / g), sh);
        store_u16(meta + 4 * (g0 / g) + 2, zh);
        const float s = half_to_float(sh), z = half_to_float(zh);
        for (std::uint32_t j = g0; j < g0 + g; ++j) {
          const float v = s > 0 ? std::nearbyint((x[j] - z) / s) : 0.0f;
          q[j] = static_cast<std::uint8_t>(std::clamp(v, 0.0f, levels));
        }
      }
      pack_codes(q.data(), n, static_cast<int>(d.kivi_bits), code);
      return;
    }
    case CodecKind::kTq:
      break;
  }
  std::vector<float> xs(n), u(n), y(n), sq(n);
  std::vector<std::uint8_t> idx(n);
  for (std::uint32_t j = 0; j < n; ++j) xs[j] = x[perm_[j]];
  float norm0 = 0;
  for (std::uint32_t s = 0; s < d.num_segments; ++s) {
    const SegmentDesc& g = d.seg[s];
    const float* xg = xs.data() + g.channel_offset;
    for (std::uint32_t j = 0; j < g.dim; ++j) sq[j] = xg[j] * xg[j];
    const float norm = std::sqrt(tree_sum(sq.data(), g.dim));
    for (std::uint32_t j = 0; j < g.dim; ++j) u[j] = norm > 0.0f ? xg[j] / norm : 0.0f;
    rot_[s]->apply(u.data(), y.data() + g.channel_offset);
    const int nb = (1 << g.bits) - 1;
    for (std::uint32_t j = 0; j < g.dim; ++j)
      idx[g.channel_offset + j] =
          static_cast<std::uint8_t>(bucketize(g.boundaries, nb, y[g.channel_offset + j]));
    pack_codes(idx.data() + g.channel_offset, g.dim, static_cast<int>(g.bits),
               code + g.code_offset);
    store_u16(meta + 2 * g.norm_index, float_to_half(norm));
    if (s == 0) norm0 = norm;
  }
  if (d.has_qjl) {
    // Residual in the rotated domain against what the decoder will rebuild (fp16 norm), so the
    // QJL correction is unbiased for the stored reconstruction.
    const SegmentDesc& g = d.seg[0];
    const float stored_norm = load_half(meta, g.norm_index);
    std::vector<float> r(n);
    for (std::uint32_t j = 0; j < n; ++j) {
      const float a = norm0 * y[j];
      const float b = stored_norm * g.centroids[idx[j]];
      r[j] = a - b;
      sq[j] = r[j] * r[j];
    }
    const float gamma = std::sqrt(tree_sum(sq.data(), n));
    const std::vector<float>& S = *qjl_;
    for (std::uint32_t i = 0; i < n; ++i) {
      float acc = 0.0f;
      for (std::uint32_t j = 0; j < n; ++j) acc += S[static_cast<std::size_t>(i) * n + j] * r[j];
      u[i] = acc;
    }
    pack_signs(u.data(), n, code + d.sign_offset);
    store_u16(meta + 2 * d.gamma_index, float_to_half(gamma));
  }
}

void VectorCodec::prepare_query(const float* q, float* q_work) const {
  const VectorDesc& d = desc_;
  const std::uint32_t n = d.dim;
  if (d.kind != CodecKind::kTq) {
    std::copy(q, q + n, q_work);
    return;
  }
  std::vector<float> xs(n);
  for (std::uint32_t j = 0; j < n; ++j) xs[j] = q[perm_[j]];
  for (std::uint32_t s = 0; s < d.num_segments; ++s)
    rot_[s]->apply(xs.data() + d.seg[s].channel_offset, q_work + d.seg[s].channel_offset);
  if (d.has_qjl) {
    const std::vector<float>& S = *qjl_;
    for (std::uint32_t i = 0; i < n; ++i) {
      double acc = 0;
      for (std::uint32_t j = 0; j < n; ++j) acc += double{S[std::size_t{i} * n + j]} * q_work[j];
      q_work[n + i] = static_cast<float>(acc);
    }
  }
}

float VectorCodec::score(const float* q_work, const std::uint8_t* code,
                         const std::uint8_t* meta) const {
  const VectorDesc& d = desc_;
  if (d.kind != CodecKind::kTq) {
    float acc = 0;
    for (std::uint32_t j = 0; j < d.dim; ++j) acc += q_work[j] * baseline_value(d, code, meta, j);
    return acc;
  }
  float total = 0;
  for (std::uint32_t s = 0; s < d.num_segments; ++s) {
    const SegmentDesc& g = d.seg[s];
    const std::uint8_t* c = code + g.code_offset;
    const float* q = q_work + g.channel_offset;
    float dot = 0;
    for (std::uint32_t j = 0; j < g.dim; ++j)
      dot += q[j] * g.centroids[read_code(c, j, static_cast<int>(g.bits))];
    total += load_half(meta, g.norm_index) * dot;
  }
  if (d.has_qjl) {
    const float* sk = q_work + d.dim;
    const std::uint8_t* signs = code + d.sign_offset;
    float sdot = 0;
    for (std::uint32_t j = 0; j < d.dim; ++j)
      sdot += ((signs[j >> 3] >> (j & 7)) & 1) ? sk[j] : -sk[j];
    total += d.qjl_scale * load_half(meta, d.gamma_index) * sdot;
  }
  return total;
}

void VectorCodec::accumulate(float p, const std::uint8_t* code, const std::uint8_t* meta,
                             float* acc) const {
  const VectorDesc& d = desc_;
  if (d.kind != CodecKind::kTq) {
    for (std::uint32_t j = 0; j < d.dim; ++j) acc[j] += p * baseline_value(d, code, meta, j);
    return;
  }
  for (std::uint32_t s = 0; s < d.num_segments; ++s) {
    const SegmentDesc& g = d.seg[s];
    const std::uint8_t* c = code + g.code_offset;
    const float w = p * load_half(meta, g.norm_index);
    float* a = acc + g.channel_offset;
    for (std::uint32_t j = 0; j < g.dim; ++j)
      a[j] += w * g.centroids[read_code(c, j, static_cast<int>(g.bits))];
  }
  if (d.has_qjl) {
    const float w = p * d.qjl_scale * load_half(meta, d.gamma_index);
    const std::uint8_t* signs = code + d.sign_offset;
    float* a = acc + d.dim;
    for (std::uint32_t j = 0; j < d.dim; ++j) a[j] += ((signs[j >> 3] >> (j & 7)) & 1) ? w : -w;
  }
}

void VectorCodec::finish(const float* acc, float* out) const {
  const VectorDesc& d = desc_;
  const std::uint32_t n = d.dim;
  if (d.kind != CodecKind::kTq) {
    std::copy(acc, acc + n, out);
    return;
  }
  std::vector<float> v(acc, acc + n);
  if (d.has_qjl) {
    // Rotated-domain reconstruction adds Sᵀ·(Σ p·coef·γ·sign): one matvec per output row.
    const std::vector<float>& S = *qjl_;
    for (std::uint32_t i = 0; i < n; ++i) {
      const float a = acc[n + i];
      if (a == 0.0f) continue;
      for (std::uint32_t j = 0; j < n; ++j) v[j] += S[std::size_t{i} * n + j] * a;
    }
  }
  for (std::uint32_t s = 0; s < d.num_segments; ++s)
    rot_[s]->apply_transpose(v.data() + d.seg[s].channel_offset,
                             v.data() + d.seg[s].channel_offset);
  for (std::uint32_t j = 0; j < n; ++j) out[perm_[j]] = v[j];
}

void VectorCodec::decode(const std::uint8_t* code, const std::uint8_t* meta, float* x) const {
  std::vector<float> acc(work_width(), 0.0f);
  accumulate(1.0f, code, meta, acc.data());
  finish(acc.data(), x);
}

std::vector<float> VectorCodec::transform_matrix() const {
  const std::uint32_t n = desc_.dim;
  std::vector<float> t(std::size_t{n} * n, 0.0f);
  if (desc_.kind != CodecKind::kTq) {
    for (std::uint32_t i = 0; i < n; ++i) t[std::size_t{i} * n + i] = 1.0f;
    return t;
  }
  for (std::uint32_t s = 0; s < desc_.num_segments; ++s) {
    const SegmentDesc& g = desc_.seg[s];
    const std::vector<float>& r = rot_[s]->matrix();
    for (std::uint32_t a = 0; a < g.dim; ++a)
      for (std::uint32_t b = 0; b < g.dim; ++b)
        t[std::size_t{g.channel_offset + a} * n + perm_[g.channel_offset + b]] =
            r[std::size_t{a} * g.dim + b];
  }
  return t;
}

const std::vector<float>& VectorCodec::qjl_matrix() const {
  static const std::vector<float> kEmpty;
  return qjl_ ? *qjl_ : kEmpty;
}

std::vector<std::uint32_t> select_outlier_channels(const float* x, std::size_t n,
                                                   std::size_t stride, std::uint32_t dim,
                                                   std::uint32_t count) {
  std::vector<double> mean_abs(dim, 0.0);
  for (std::size_t t = 0; t < n; ++t)
    for (std::uint32_t j = 0; j < dim; ++j) mean_abs[j] += std::fabs(x[t * stride + j]);
  std::vector<std::uint32_t> order(dim);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return mean_abs[a] > mean_abs[b]; });
  order.resize(std::min<std::size_t>(count, dim));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<VectorCodec> make_head_codecs(const KvFormat& format, std::uint32_t dim,
                                          std::uint32_t kv_heads, const CodecOptions& options,
                                          const float* calibration,
                                          std::size_t calibration_tokens) {
  std::vector<VectorCodec> out;
  out.reserve(kv_heads);
  for (std::uint32_t h = 0; h < kv_heads; ++h) {
    CodecOptions o = options;
    if (format.scheme == KvScheme::kTqSplit && calibration && calibration_tokens > 0)
      o.outlier_channels =
          select_outlier_channels(calibration + std::size_t{h} * dim, calibration_tokens,
                                  std::size_t{kv_heads} * dim, dim, format.outlier_channels(dim));
    out.push_back(VectorCodec::make(format, dim, o));
  }
  return out;
}

}  // namespace jevons::kernels
