-- Capacity-planner projections (jevons run on a scenario with a planner: section).
-- variant: counterfactual (no compression), efficiency (compression, demand held),
-- with-rebound (compression, demand responding). quarter_index counts from the horizon start.

CREATE TABLE IF NOT EXISTS projection_quarters (
  run_id                      INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  variant                     TEXT    NOT NULL,
  quarter_index               INTEGER NOT NULL,
  quarter                     TEXT    NOT NULL,  -- e.g. 2026Q3
  demand_tokens_per_s         REAL    NOT NULL,  -- average, all classes
  peak_tokens_per_s           REAL    NOT NULL,
  unserved_peak_tokens_per_s  REAL    NOT NULL,
  cost_usd_per_mtok           REAL    NOT NULL,  -- demand-weighted over classes
  gpus_installed              REAL    NOT NULL,
  gpus_powered                REAL    NOT NULL,
  hbm_installed_bytes         REAL    NOT NULL,
  hbm_weight_bytes            REAL    NOT NULL,
  hbm_kv_bytes                REAL    NOT NULL,
  hbm_idle_bytes              REAL    NOT NULL,
  host_dram_baseline_bytes    REAL    NOT NULL,
  host_dram_offload_bytes     REAL    NOT NULL,
  host_dram_prefix_bytes      REAL    NOT NULL,
  energy_mwh                  REAL    NOT NULL,
  power_mw                    REAL    NOT NULL,
  -- schema version 2: the HBM market layer and the cost per token all-in and marginal
  hbm_shipped_bytes           REAL    NOT NULL DEFAULT 0,  -- HBM of the parts bought this quarter
  hbm_demanded_bytes          REAL    NOT NULL DEFAULT 0,  -- ... had HBM supply not capped them
  hbm_supply_bytes            REAL    NOT NULL DEFAULT 0,  -- the quarter's HBM supply cap (0 = none)
  cost_all_in_usd_per_mtok    REAL    NOT NULL DEFAULT 0,  -- every installed GPU, idle included
  cost_marginal_usd_per_mtok  REAL    NOT NULL DEFAULT 0,  -- the cheapest part on offer
  initial_demand_scale        REAL    NOT NULL DEFAULT 1,  -- factor on the classes' stated demand
  PRIMARY KEY (run_id, variant, quarter_index)
);

CREATE TABLE IF NOT EXISTS projection_classes (
  run_id                      INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  variant                     TEXT    NOT NULL,
  quarter_index               INTEGER NOT NULL,
  quarter                     TEXT    NOT NULL,
  class                       TEXT    NOT NULL,
  baseline_tokens_per_s       REAL    NOT NULL,  -- before any response to compression
  demand_tokens_per_s         REAL    NOT NULL,
  peak_tokens_per_s           REAL    NOT NULL,
  unserved_peak_tokens_per_s  REAL    NOT NULL,
  price_ratio                 REAL    NOT NULL,  -- cost per token / counterfactual's
  prompt_scale                REAL    NOT NULL,  -- mean prompt length / specified
  cost_usd_per_mtok           REAL    NOT NULL,
  gpus_serving                REAL    NOT NULL,
  PRIMARY KEY (run_id, variant, quarter_index, class)
);

CREATE TABLE IF NOT EXISTS projection_generations (
  run_id                      INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  variant                     TEXT    NOT NULL,
  quarter_index               INTEGER NOT NULL,
  quarter                     TEXT    NOT NULL,
  gpu                         TEXT    NOT NULL,
  installed                   REAL    NOT NULL,
  powered                     REAL    NOT NULL,
  serving                     REAL    NOT NULL,
  purchased                   REAL    NOT NULL,
  retired                     REAL    NOT NULL,
  compressed_share            REAL    NOT NULL,
  hbm_installed_bytes         REAL    NOT NULL,
  hbm_weight_bytes            REAL    NOT NULL,
  hbm_kv_bytes                REAL    NOT NULL,
  hbm_idle_bytes              REAL    NOT NULL,
  host_dram_baseline_bytes    REAL    NOT NULL,
  host_dram_offload_bytes     REAL    NOT NULL,
  host_dram_prefix_bytes      REAL    NOT NULL,
  energy_mwh                  REAL    NOT NULL,
  power_mw                    REAL    NOT NULL,
  hbm_shipped_bytes           REAL    NOT NULL DEFAULT 0,  -- schema version 2: purchased × HBM
  PRIMARY KEY (run_id, variant, quarter_index, gpu)
);

-- The change of each memory metric against the counterfactual:
-- efficiency_effect + rebound_effect = net = with_compression − counterfactual.
CREATE TABLE IF NOT EXISTS memory_decomposition (
  run_id             INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  quarter_index      INTEGER NOT NULL,
  quarter            TEXT    NOT NULL,
  metric             TEXT    NOT NULL,  -- hbm_installed_bytes | hbm_used_bytes | host_dram_bytes | gpus_installed | hbm_shipped_bytes
  counterfactual     REAL    NOT NULL,
  efficiency_effect  REAL    NOT NULL,
  rebound_effect     REAL    NOT NULL,
  net                REAL    NOT NULL,
  with_compression   REAL    NOT NULL,
  PRIMARY KEY (run_id, quarter_index, metric)
);

-- Smallest uniform long-run elasticity at which compression raises the metric; NULL when none
-- below max_elasticity does.
CREATE TABLE IF NOT EXISTS break_even_elasticity (
  run_id          INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  quarter_index   INTEGER NOT NULL,
  quarter         TEXT    NOT NULL,
  metric          TEXT    NOT NULL,
  elasticity      REAL,
  max_elasticity  REAL    NOT NULL,
  PRIMARY KEY (run_id, quarter_index, metric)
);

-- Final-quarter net change against the counterfactual as elasticity varies: a uniform sweep
-- (parameter 'elasticity') and per-class low/high values (parameter '<class>.elasticity').
CREATE TABLE IF NOT EXISTS elasticity_sensitivity (
  run_id                   INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  parameter                TEXT    NOT NULL,
  value                    REAL    NOT NULL,
  hbm_installed_net_bytes  REAL    NOT NULL,
  hbm_used_net_bytes       REAL    NOT NULL,
  host_dram_net_bytes      REAL    NOT NULL,
  PRIMARY KEY (run_id, parameter, value)
);

-- Capacity searched per (generation × class × format) at the specified prompt lengths.
CREATE TABLE IF NOT EXISTS capacity_search (
  run_id                    INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  gpu                       TEXT    NOT NULL,
  class                     TEXT    NOT NULL,
  model                     TEXT    NOT NULL,
  kv_format                 TEXT    NOT NULL,
  tensor_parallel           INTEGER NOT NULL,
  rate_per_s                REAL    NOT NULL,  -- requests/s per replica within the SLO
  tokens_per_s_per_replica  REAL    NOT NULL,
  kv_bytes_in_use           REAL    NOT NULL,
  weight_bytes              REAL    NOT NULL,
  hbm_bytes                 REAL    NOT NULL,
  host_offload_bytes        REAL    NOT NULL,
  host_prefix_bytes         REAL    NOT NULL,
  probes                    INTEGER NOT NULL,  -- DES runs behind the answer (0 when cached)
  method                    TEXT    NOT NULL,  -- simulated | analytical
  PRIMARY KEY (run_id, gpu, class, kv_format)
);
