#include "entities/replica.h"

#include <algorithm>

#include "engine/events.h"
#include "engine/random.h"

namespace jevons::sim {

Replica::Replica(std::uint32_t id, std::uint32_t pool, const ReplicaConfig& cfg,
                 const LatencyModel& model, RequestTable& requests, EventQueue& events,
                 ReplicaListener& listener)
    : id_(id),
      pool_(pool),
      cfg_(cfg),
      model_(model),
      reqs_(requests),
      events_(events),
      listener_(listener),
      phase_(cfg.block_tokens, 0),
      window_kv_(model.window_tokens()) {
  if (cfg_.prefix_cache) {
    cache_.emplace(cfg_.hash_block_tokens / cfg_.block_tokens, cfg_.host_tier_blocks);
  }
  if (model.microbatches() > 1) {
    mb_.resize(model.microbatches());
    for (auto& m : mb_) m.window_kv = WindowedKvSum(model.window_tokens());
    mb_shapes_.resize(mb_.size());
  }
}

std::uint64_t Replica::hash_at(const Request& r, std::uint32_t i) const {
  if (r.hashes) return r.hashes[i];
  // Synthetic prompts: the group's shared blocks, then blocks unique to the request.
  return i < r.shared_blocks ? mix64(r.prefix_key + i)
                             : mix64((r.id * 0x9E3779B97F4A7C15ull) ^ (0x5EEDull + i));
}

bool Replica::fits(const Request& r) const {
  const std::uint64_t need =
      blocks_for(std::uint64_t{r.input_tokens} + r.output_tokens) + r.swa_blocks;
  return need + cfg_.watermark_blocks <= cfg_.capacity_blocks;
}

void Replica::enqueue(std::uint32_t slot, TimeNs now) {
  Request& r = reqs_[slot];
  r.replica = id_;
  r.state = RequestState::kWaiting;
  r.enqueue_ns = now;
  touch_queue(now);
  waiting_.push_back(slot);
  ++stats_.queue_visits;
  if (!busy_) form_and_start(now);
  listener_.on_load_changed(id_);
}

void Replica::dequeue_stats(Request& r, TimeNs now) {
  stats_.queue_delay_ns += static_cast<double>(now - r.enqueue_ns);
  if (r.first_scheduled_ns < 0) r.first_scheduled_ns = now;
}

void Replica::running_push(std::uint32_t slot) {
  Request& r = reqs_[slot];
  if (!mb_.empty()) {
    const int m = mb_next_ >= 0 ? mb_next_ : pick_microbatch(false);
    mb_next_ = -1;
    r.microbatch = static_cast<std::uint16_t>(m);
    ++mb_[static_cast<std::size_t>(m)].members;
  }
  r.prev = run_tail_;
  r.next = kNoSlot;
  if (run_tail_ != kNoSlot)
    reqs_[run_tail_].next = slot;
  else
    run_head_ = slot;
  run_tail_ = slot;
}

int Replica::pick_microbatch(bool need_budget) const {
  // The fewest running requests: engines fill each microbatch up to its batch limit in turn,
  // which keeps the counts level.
  int best = -1;
  for (std::size_t i = 0; i < mb_.size(); ++i) {
    if (need_budget && mb_budget_[i] == 0) continue;
    if (best < 0 || mb_[i].members < mb_[static_cast<std::size_t>(best)].members)
      best = static_cast<int>(i);
  }
  return best;
}

void Replica::running_remove(std::uint32_t slot) {
  Request& r = reqs_[slot];
  if (!mb_.empty()) --mb_[r.microbatch].members;
  if (r.prev != kNoSlot)
    reqs_[r.prev].next = r.next;
  else
    run_head_ = r.next;
  if (r.next != kNoSlot)
    reqs_[r.next].prev = r.prev;
  else
    run_tail_ = r.prev;
  r.prev = r.next = kNoSlot;
}

bool Replica::make_room(std::uint64_t blocks, std::uint64_t extra) {
  const std::uint64_t need = blocks + extra;
  if (need > cfg_.capacity_blocks) return false;
  while (used_private_ + cache_gpu_blocks() + need > cfg_.capacity_blocks) {
    if (!cache_ || cache_->evict_one() == 0) return false;
  }
  return true;
}

std::uint64_t Replica::decoder_private_blocks(const Request& r,
                                              std::int64_t allocated_through) const {
  const std::uint64_t kv =
      r.join_len + static_cast<std::uint64_t>(allocated_through - r.join_step + 1);
  return blocks_for(kv - r.cached_tokens);
}

void Replica::join_decoders(std::uint32_t slot, std::uint32_t kv_len, std::int64_t step,
                            bool alloc_now) {
  Request& r = reqs_[slot];
  r.state = RequestState::kDecoding;
  r.join_step = step;
  r.join_len = kv_len;
  const std::uint32_t b = cfg_.block_tokens;
  const std::uint32_t phase =
      static_cast<std::uint32_t>(((step - static_cast<std::int64_t>(kv_len)) % b + b) % b);
  if (!r.kv_reserved) ++phase_[phase];  // a reserved request already holds its blocks
  kv_base_ += static_cast<std::int64_t>(kv_len) - step;
  ++decoders_;
  window_kv_.join(kv_len, step);
  if (!mb_.empty()) {
    Microbatch& m = mb_[r.microbatch];
    m.kv_base += static_cast<std::int64_t>(kv_len) - step;
    ++m.decoders;
    m.window_kv.join(kv_len, step);
  }
  const std::uint32_t remaining = r.output_tokens - r.generated;
  done_.push(Completion{step + remaining - 1, slot, r.generation});
  if (alloc_now && !r.kv_reserved && kv_len % b == 0) ++used_private_;  // step `step` writes it
}

void Replica::leave_decoders(Request& r) {
  const std::uint32_t b = cfg_.block_tokens;
  const std::uint32_t phase = static_cast<std::uint32_t>(
      ((r.join_step - static_cast<std::int64_t>(r.join_len)) % b + b) % b);
  if (!r.kv_reserved) --phase_[phase];
  kv_base_ -= static_cast<std::int64_t>(r.join_len) - r.join_step;
  --decoders_;
  window_kv_.leave(r.join_len, r.join_step);
  if (!mb_.empty()) {
    Microbatch& m = mb_[r.microbatch];
    m.kv_base -= static_cast<std::int64_t>(r.join_len) - r.join_step;
    --m.decoders;
    m.window_kv.leave(r.join_len, r.join_step);
  }
  ++r.generation;  // its completion-heap entry is now stale
}

void Replica::release_kv(Request& r, std::uint64_t private_blocks) {
  // A reserved request gives back its reservation, whatever it has written so far; from here on
  // (finished, or preempted by a swap-in elsewhere) it takes blocks as it goes.
  if (r.kv_reserved) private_blocks = r.reserved_blocks;
  r.kv_reserved = false;
  r.reserved_blocks = 0;
  used_private_ -= private_blocks + r.swa_blocks;
  if (cache_) {
    for (std::uint32_t i = 0; i < r.ref_blocks; ++i) cache_->unref(hash_at(r, i));
  }
  r.ref_blocks = 0;
  r.cached_tokens = 0;
}

void Replica::preempt(std::uint32_t slot, TimeNs now) {
  Request& r = reqs_[slot];
  running_remove(slot);
  ++r.preemptions;
  ++stats_.preemptions;
  if (r.state == RequestState::kDecoding) {
    // Called while forming step_: blocks are allocated through step_ − 1.
    const std::uint64_t priv = decoder_private_blocks(r, step_ - 1);
    const std::uint32_t kv_len = r.join_len + static_cast<std::uint32_t>(step_ - r.join_step);
    r.generated += static_cast<std::uint32_t>(step_ - r.join_step);
    leave_decoders(r);
    const std::uint64_t all_blocks = blocks_for(kv_len);
    if (cfg_.preemption == PreemptionMode::kSwap &&
        swap_used_ + all_blocks <= cfg_.swap_capacity_blocks) {
      release_kv(r, priv);
      swap_used_ += all_blocks;
      host_bytes_step_ += all_blocks * cfg_.block_bytes_per_gpu;
      ++stats_.swaps_out;
      stats_.swap_bytes += all_blocks * cfg_.block_bytes_per_gpu * cfg_.gpus;
      r.state = RequestState::kSwapped;
      r.prefilled = kv_len;
      swapped_.push_front(slot);
      listener_.on_preempted(slot, true);
      return;
    }
    release_kv(r, priv);
  } else {
    release_kv(r, blocks_for(r.prefilled - r.cached_tokens));
    prefilling_.erase(std::find(prefilling_.begin(), prefilling_.end(), slot));
  }
  // Recompute: the prompt and every generated token are prefilled again (vLLM RECOMPUTE).
  r.state = RequestState::kWaiting;
  r.prefill_target = r.input_tokens + r.generated;
  r.prefilled = 0;
  touch_queue(now);
  r.enqueue_ns = now;
  ++stats_.queue_visits;
  waiting_.push_front(slot);
  listener_.on_preempted(slot, false);
}

bool Replica::admit_waiting(std::uint32_t slot, std::uint32_t& budget, TimeNs now,
                            bool batch_empty) {
  Request& r = reqs_[slot];
  const std::uint64_t wm = cfg_.watermark_blocks;
  const bool reserve = cfg_.admission == AdmissionPolicy::kReserve;
  // The tokens a request holds when it finishes: its prompt (and any tokens already generated
  // before a recompute) plus the rest of its output.
  const std::uint64_t final_tokens =
      std::uint64_t{r.prefill_target} + (r.output_tokens - r.generated);
  if (r.kv_ready) {  // disaggregated decode: the KV arrives computed
    const std::uint64_t blocks =
        (reserve ? blocks_for(final_tokens) : blocks_for(std::uint64_t{r.prefill_target} + 1)) +
        r.swa_blocks;
    if (!make_room(blocks, wm)) return false;
    if (reserve) {
      r.kv_reserved = true;
      r.reserved_blocks = static_cast<std::uint32_t>(blocks_for(final_tokens));
      used_private_ += r.reserved_blocks + r.swa_blocks;
    } else {
      used_private_ += blocks_for(r.prefill_target) + r.swa_blocks;  // + the step's block in join
    }
    r.kv_ready = false;
    touch_queue(now);
    waiting_.pop_front();
    dequeue_stats(r, now);
    running_push(slot);
    join_decoders(slot, r.prefill_target, step_, true);
    --budget;
    return true;
  }
  // Prefix-cache lookup: hash blocks already in HBM or in the host tier need no compute.
  std::uint32_t hits = 0, host_hits = 0;
  if (cache_ && r.hash_blocks > 0) {
    const std::uint32_t max_hits = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(r.hash_blocks, (r.prefill_target - 1) / cfg_.hash_block_tokens));
    for (; hits < max_hits; ++hits) {
      const auto w = cache_->where(hash_at(r, hits));
      if (w == PrefixCache::Where::kNone) break;
      if (w == PrefixCache::Where::kHost) ++host_hits;
    }
    for (std::uint32_t i = 0; i < hits; ++i) {
      const std::uint64_t h = hash_at(r, i);
      if (cache_->where(h) == PrefixCache::Where::kGpu) cache_->ref_gpu(h);
    }
  }
  const std::uint64_t cached = std::uint64_t{hits} * cfg_.hash_block_tokens;
  const std::uint64_t remaining = r.prefill_target - cached;
  // Pipelined: the request's microbatch, and that microbatch's share of the budget.
  const int mb = mb_.empty() ? -1 : pick_microbatch(true);
  const std::uint64_t limit =
      mb < 0 ? budget : std::min<std::uint32_t>(budget, mb_budget_[static_cast<std::size_t>(mb)]);
  std::uint64_t chunk = remaining;
  if (!mb_.empty() && mb < 0) {
    chunk = 0;  // every microbatch's budget is spent
  } else if (cfg_.chunked_prefill) {
    chunk = std::min<std::uint64_t>(remaining, limit);
  } else if (remaining > limit && !batch_empty) {
    chunk = 0;
  }
  const std::uint64_t promote = cache_ ? std::uint64_t{host_hits} * cache_->blocks_per_hash() : 0;
  // Reserve admission holds the whole request's blocks from now on (a prefill replica's
  // request leaves after its first token, so only its prompt is reserved there).
  const std::uint64_t reserved = !reserve ? 0
                                 : cfg_.role == ReplicaRole::kPrefill
                                     ? blocks_for(std::uint64_t{r.prefill_target} - cached)
                                     : blocks_for(final_tokens - cached);
  const std::uint64_t need = (reserve ? reserved : blocks_for(chunk)) + r.swa_blocks + promote;
  if (chunk == 0 || !make_room(need, wm)) {
    if (cache_) {
      for (std::uint32_t i = 0; i < hits; ++i) {
        const std::uint64_t h = hash_at(r, i);
        if (cache_->where(h) == PrefixCache::Where::kGpu) cache_->unref(h);
      }
    }
    return false;
  }
  if (cache_) {
    for (std::uint32_t i = 0; i < hits; ++i) {
      const std::uint64_t h = hash_at(r, i);
      const auto w = cache_->where(h);
      if (w == PrefixCache::Where::kGpu) continue;
      if (w == PrefixCache::Where::kHost) {
        cache_->promote_and_ref(h);
      } else {
        cache_->insert_ref(h);  // dropped from the host tier by the eviction just made: reload
      }
      host_bytes_step_ += cache_->blocks_per_hash() * cfg_.block_bytes_per_gpu;
    }
  }
  if (reserve) {
    r.kv_reserved = true;
    r.reserved_blocks = static_cast<std::uint32_t>(reserved);
    used_private_ += reserved + r.swa_blocks;
  } else {
    used_private_ += blocks_for(chunk) + r.swa_blocks;
  }
  r.ref_blocks = hits;
  r.cached_tokens = static_cast<std::uint32_t>(cached);
  r.prefilled = static_cast<std::uint32_t>(cached);
  if (r.generated == 0) {
    r.prefix_hit_tokens = static_cast<std::uint32_t>(cached);
    r.prefix_host_hit_tokens = host_hits * static_cast<std::uint32_t>(cfg_.hash_block_tokens);
  }
  touch_queue(now);
  waiting_.pop_front();
  dequeue_stats(r, now);
  r.state = RequestState::kPrefilling;
  prefilling_.push_back(slot);
  if (mb >= 0) {
    mb_next_ = mb;
    std::uint32_t& left = mb_budget_[static_cast<std::size_t>(mb)];
    left -= std::min<std::uint32_t>(left, static_cast<std::uint32_t>(chunk));
  }
  running_push(slot);
  chunks_.emplace_back(slot, static_cast<std::uint32_t>(chunk));
  budget -= std::min<std::uint32_t>(budget, static_cast<std::uint32_t>(chunk));
  return true;
}

void Replica::form_and_start(TimeNs now) {
  chunks_.clear();
  host_bytes_step_ = 0;
  const std::int64_t s = step_;
  const std::uint32_t b = cfg_.block_tokens;
  for (;;) {
    // 1. Blocks for the decoders' next token; preempt the newest requests when short.
    std::uint64_t need = decoders_ ? phase_[static_cast<std::size_t>(s % b)] : 0;
    while (!make_room(need, 0)) {
      preempt(run_tail_, now);
      need = decoders_ ? phase_[static_cast<std::size_t>(s % b)] : 0;
    }
    used_private_ += need;

    // 2. Prefills already under way continue, in admission order, within the token budget.
    std::uint32_t budget =
        cfg_.max_batched_tokens > decoders_ ? cfg_.max_batched_tokens - decoders_ : 0;
    if (!mb_.empty()) {
      const std::uint32_t per = std::max<std::uint32_t>(
          1, cfg_.max_batched_tokens / static_cast<std::uint32_t>(mb_.size()));
      mb_budget_.resize(mb_.size());
      for (std::size_t i = 0; i < mb_.size(); ++i)
        mb_budget_[i] = per > mb_[i].decoders ? per - mb_[i].decoders : 0;
    }
    for (std::uint32_t slot : prefilling_) {
      Request& r = reqs_[slot];
      std::uint32_t* mb_left = mb_.empty() ? nullptr : &mb_budget_[r.microbatch];
      std::uint64_t chunk = std::min<std::uint64_t>(r.prefill_target - r.prefilled,
                                                    mb_left ? std::min(budget, *mb_left) : budget);
      if (chunk == 0) continue;
      if (r.kv_reserved) {  // its blocks were all taken at admission
        chunks_.emplace_back(slot, static_cast<std::uint32_t>(chunk));
        budget -= static_cast<std::uint32_t>(chunk);
        if (mb_left) *mb_left -= static_cast<std::uint32_t>(chunk);
        continue;
      }
      const std::uint64_t own = r.prefilled - r.cached_tokens;
      const std::uint64_t have = blocks_for(own);
      std::uint64_t more = blocks_for(own + chunk) - have;
      if (!make_room(more, 0)) {
        // Everything evictable is gone: shrink the chunk to the blocks that are still free.
        const std::uint64_t room = (have + free_blocks()) * b;
        chunk = room > own ? std::min<std::uint64_t>(chunk, room - own) : 0;
        more = chunk ? blocks_for(own + chunk) - have : 0;
      }
      used_private_ += more;
      if (chunk > 0) {
        chunks_.emplace_back(slot, static_cast<std::uint32_t>(chunk));
        budget -= static_cast<std::uint32_t>(chunk);
        if (mb_left) *mb_left -= static_cast<std::uint32_t>(chunk);
      }
    }

    // 3. Swapped-out requests come back before new ones (vLLM's priority), then the queue.
    std::uint32_t seqs = decoders_ + static_cast<std::uint32_t>(prefilling_.size());
    while (!swapped_.empty() && seqs < cfg_.max_num_seqs && budget > 0) {
      const std::uint32_t slot = swapped_.front();
      Request& r = reqs_[slot];
      const std::uint64_t blocks = blocks_for(std::uint64_t{r.prefilled} + 1) + r.swa_blocks;
      if (!make_room(blocks, cfg_.watermark_blocks)) break;
      swapped_.pop_front();
      const std::uint64_t all = blocks_for(r.prefilled);
      swap_used_ -= all;
      host_bytes_step_ += all * cfg_.block_bytes_per_gpu;
      ++stats_.swaps_in;
      stats_.swap_bytes += all * cfg_.block_bytes_per_gpu * cfg_.gpus;
      used_private_ += all + r.swa_blocks;
      running_push(slot);
      join_decoders(slot, r.prefilled, s, true);
      --budget;
      ++seqs;
    }
    while (!waiting_.empty() && seqs < cfg_.max_num_seqs && budget > 0) {
      const bool empty = decoders_ == 0 && chunks_.empty();
      if (!admit_waiting(waiting_.front(), budget, now, empty)) break;
      ++seqs;
    }
    if (decoders_ > 0 || !chunks_.empty()) break;
    if (run_tail_ == kNoSlot) {  // nothing to run: idle until the next arrival
      busy_ = false;
      return;
    }
    preempt(run_tail_, now);  // every running prefill is starved of blocks: make room
  }

  StepShape shape;
  shape.decode_seqs = decoders_;
  shape.decode_kv_tokens =
      static_cast<std::uint64_t>(kv_base_ + static_cast<std::int64_t>(decoders_) * (s + 1));
  shape.decode_window_kv_tokens = window_kv_.at_step(s);
  const double window = static_cast<double>(window_kv_.window());
  for (const auto& [slot, c] : chunks_) {
    const Request& r = reqs_[slot];
    ++shape.prefill_seqs;
    shape.prefill_tokens += c;
    shape.prefill_attention_pairs += c * (r.prefilled + (c + 1) / 2.0);
    if (window > 0)
      shape.prefill_window_attention_pairs += windowed_attention_pairs(c, r.prefilled, window);
  }
  shape.host_transfer_bytes_per_gpu = host_bytes_step_;
  if (!mb_.empty()) {
    for (std::size_t i = 0; i < mb_.size(); ++i) {
      StepShape& m = mb_shapes_[i];
      m = StepShape{};
      m.decode_seqs = mb_[i].decoders;
      m.decode_kv_tokens = static_cast<std::uint64_t>(
          mb_[i].kv_base + static_cast<std::int64_t>(mb_[i].decoders) * (s + 1));
      m.decode_window_kv_tokens = mb_[i].window_kv.at_step(s);
    }
    for (const auto& [slot, c] : chunks_) {
      const Request& r = reqs_[slot];
      StepShape& m = mb_shapes_[r.microbatch];
      ++m.prefill_seqs;
      m.prefill_tokens += c;
      m.prefill_attention_pairs += c * (r.prefilled + (c + 1) / 2.0);
      if (window > 0)
        m.prefill_window_attention_pairs += windowed_attention_pairs(c, r.prefilled, window);
    }
    shape.microbatch_shapes = mb_shapes_.data();
    shape.microbatch_shape_count = static_cast<std::uint32_t>(mb_shapes_.size());
  }
  const StepCost cost = model_.step(shape);
  step_decoders_ = decoders_;
  busy_ = true;
  step_start_ = now;
  ++stats_.steps;
  stats_.busy_ns += cost.time_ns;
  stats_.busy_energy_j +=
      cost.power_w_per_gpu * cfg_.gpus * static_cast<double>(cost.time_ns) * 1e-9;
  stats_.batch_seq_area +=
      static_cast<double>(decoders_ + shape.prefill_seqs) * static_cast<double>(cost.time_ns);
  stats_.kv_area += static_cast<double>(kv_last_) * static_cast<double>(now - kv_t_);
  kv_t_ = now;
  kv_last_ = used_private_ + cache_gpu_blocks();
  stats_.peak_kv_fraction = std::max(stats_.peak_kv_fraction, kv_load());
  events_.push(now + cost.time_ns, kEvStepEnd, id_, 0, kPrioStepEnd);
}

void Replica::finish(std::uint32_t slot, TimeNs now) {
  running_remove(slot);
  listener_.on_finished(slot, now);
}

void Replica::on_step_end(TimeNs now) {
  const std::int64_t s = step_;
  stats_.output_tokens += step_decoders_;
  // Decoders whose last token this was.
  while (!done_.empty() && done_.top().step <= s) {
    const Completion c = done_.top();
    done_.pop();
    Request& r = reqs_[c.slot];
    if (r.generation != c.generation || r.state != RequestState::kDecoding) continue;
    const std::uint64_t priv = decoder_private_blocks(r, s);
    r.generated = r.output_tokens;
    leave_decoders(r);
    release_kv(r, priv);
    finish(c.slot, now);
  }
  // Prefill chunks: a finished prompt yields its first (or next, after recompute) token.
  for (const auto& [slot, c] : chunks_) {
    Request& r = reqs_[slot];
    r.prefilled += c;
    if (r.prefilled < r.prefill_target) continue;
    prefilling_.erase(std::find(prefilling_.begin(), prefilling_.end(), slot));
    if (cache_ && r.hash_blocks > r.ref_blocks) {
      // The prompt's full hash blocks become shared cache blocks (vLLM caches full blocks only).
      const std::uint64_t per = cache_->blocks_per_hash();
      for (std::uint32_t i = r.ref_blocks; i < r.hash_blocks; ++i) {
        cache_->insert_ref(hash_at(r, i));
        used_private_ -= per;
        if (r.kv_reserved) r.reserved_blocks -= static_cast<std::uint32_t>(per);
      }
      r.ref_blocks = r.hash_blocks;
      r.cached_tokens = static_cast<std::uint32_t>(r.hash_blocks * cfg_.hash_block_tokens);
    }
    ++r.generated;
    ++stats_.output_tokens;
    if (!r.first_token_done) {
      r.first_token_done = true;
      listener_.on_first_token(slot, now);
    }
    if (r.generated >= r.output_tokens) {
      release_kv(r, blocks_for(r.prefilled - r.cached_tokens));
      finish(slot, now);
    } else if (cfg_.role == ReplicaRole::kPrefill) {
      running_remove(slot);
      r.state = RequestState::kTransferring;
      ++transferring_;
      listener_.on_handoff(slot, now);
    } else {
      join_decoders(slot, r.prefilled, s + 1, false);
    }
  }
  chunks_.clear();
  ++step_;
  busy_ = false;
  form_and_start(now);
  listener_.on_load_changed(id_);
}

void Replica::release_transferred(std::uint32_t slot, TimeNs now) {
  Request& r = reqs_[slot];
  release_kv(r, blocks_for(r.prefilled - r.cached_tokens));
  --transferring_;
  if (!busy_) form_and_start(now);
  listener_.on_load_changed(id_);
}

void Replica::finish_stats(TimeNs end_ns) {
  touch_queue(end_ns);
  // Requests still waiting count their partial wait, so Little's law closes on the sample path.
  for (std::uint32_t slot : waiting_) {
    stats_.queue_delay_ns += static_cast<double>(end_ns - reqs_[slot].enqueue_ns);
  }
  stats_.kv_area += static_cast<double>(kv_last_) * static_cast<double>(end_ns - kv_t_);
  kv_t_ = end_ns;
}

}  // namespace jevons::sim
