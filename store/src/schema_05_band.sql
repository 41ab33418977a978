-- Bands (jevons band SCENARIO): one run of kind 'band'. P10/P50/P90 of every headline series over
-- a Latin-hypercube or Monte Carlo sample of the scenario's uncertain inputs, the break-even
-- elasticity's band, and the scenario's net-change-versus-elasticity curve. Identical whatever
-- the number of threads or MPI ranks that computed them (docs/uncertainty.md).

CREATE TABLE IF NOT EXISTS band_runs (
  run_id           INTEGER PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
  samples          INTEGER NOT NULL,
  method           TEXT    NOT NULL,  -- 'lhs' or 'monte-carlo'
  sample_seed      INTEGER NOT NULL,
  break_even_low   REAL    NOT NULL,  -- the elasticity range searched for a break-even
  break_even_high  REAL    NOT NULL
);

CREATE TABLE IF NOT EXISTS band_inputs (
  run_id        INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  input_index   INTEGER NOT NULL,
  name          TEXT    NOT NULL,  -- elasticity.chat, compressed_attention_time, ...
  distribution  TEXT    NOT NULL,  -- triangular(0.5, 1.1, 2)
  PRIMARY KEY (run_id, input_index)
);

-- series: '<metric>.<part>', metric hbm_installed_bytes | hbm_shipped_bytes | host_dram_bytes,
-- part without | with | net | efficiency | rebound. period: a quarter ('2030Q4') or a year
-- ('2030': stocks at its last quarter, HBM shipped summed over its quarters).
CREATE TABLE IF NOT EXISTS band_quantiles (
  run_id        INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  series        TEXT    NOT NULL,
  period_index  INTEGER NOT NULL,  -- quarters first, then years, in time order
  period        TEXT    NOT NULL,
  p10           REAL    NOT NULL,
  p50           REAL    NOT NULL,
  p90           REAL    NOT NULL,
  PRIMARY KEY (run_id, series, period_index)
);

-- The final-year break-even elasticity's band. -Inf: compression raises the metric at every
-- elasticity in [low, high]; +Inf: at none (REAL holds both; NaN would become NULL).
CREATE TABLE IF NOT EXISTS band_break_even (
  run_id           INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  metric           TEXT    NOT NULL,  -- hbm_installed_bytes | hbm_shipped_bytes_per_year | host_dram_bytes
  at_scenario      REAL,
  p10              REAL    NOT NULL,
  p50              REAL    NOT NULL,
  p90              REAL    NOT NULL,
  crossings        INTEGER NOT NULL,
  above_at_low     INTEGER NOT NULL,
  none_below_high  INTEGER NOT NULL,
  low              REAL    NOT NULL,
  high             REAL    NOT NULL,
  PRIMARY KEY (run_id, metric)
);

-- The scenario's final-year net change against a uniform long-run elasticity (one line per
-- metric; the break-even is where it crosses zero).
CREATE TABLE IF NOT EXISTS break_even_curve (
  run_id      INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  metric      TEXT    NOT NULL,
  elasticity  REAL    NOT NULL,
  net_bytes   REAL    NOT NULL,
  PRIMARY KEY (run_id, metric, elasticity)
);
