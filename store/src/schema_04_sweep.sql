-- Sweeps (jevons sweep GRID): one run of kind 'sweep', one row per point here, and the point's
-- totals, decomposition and break-even in the tables below. Identical whatever the number of MPI
-- ranks or threads that computed them.

CREATE TABLE IF NOT EXISTS sweep_points (
  run_id           INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  point_index      INTEGER NOT NULL,
  parameters_json  TEXT    NOT NULL,  -- {"planner.classes[*].elasticity.long_run": "1.1", ...}
  scenario_sha256  TEXT    NOT NULL,  -- of the point's full scenario text
  error            TEXT,              -- the validation message when the point was invalid
  PRIMARY KEY (run_id, point_index)
);

CREATE TABLE IF NOT EXISTS sweep_quarters (
  run_id                 INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  point_index            INTEGER NOT NULL,
  variant                TEXT    NOT NULL,
  quarter_index          INTEGER NOT NULL,
  quarter                TEXT    NOT NULL,
  demand_tokens_per_s    REAL    NOT NULL,
  cost_usd_per_mtok      REAL    NOT NULL,
  gpus_installed         REAL    NOT NULL,
  hbm_installed_bytes    REAL    NOT NULL,
  hbm_used_bytes         REAL    NOT NULL,
  host_dram_bytes        REAL    NOT NULL,
  energy_mwh             REAL    NOT NULL,
  PRIMARY KEY (run_id, point_index, variant, quarter_index)
);

CREATE TABLE IF NOT EXISTS sweep_decomposition (
  run_id             INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  point_index        INTEGER NOT NULL,
  quarter_index      INTEGER NOT NULL,
  quarter            TEXT    NOT NULL,
  metric             TEXT    NOT NULL,
  counterfactual     REAL    NOT NULL,
  efficiency_effect  REAL    NOT NULL,
  rebound_effect     REAL    NOT NULL,
  net                REAL    NOT NULL,
  PRIMARY KEY (run_id, point_index, quarter_index, metric)
);

CREATE TABLE IF NOT EXISTS sweep_break_even (
  run_id         INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  point_index    INTEGER NOT NULL,
  quarter_index  INTEGER NOT NULL,
  metric         TEXT    NOT NULL,
  elasticity     REAL,  -- NULL: no break-even below the search's maximum
  PRIMARY KEY (run_id, point_index, quarter_index, metric)
);
