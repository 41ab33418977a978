-- Jevons results database, schema version 2 (PRAGMA user_version = 2; version 1 files are upgraded
-- in place, store.cpp).
-- Units are in column names; times are integer nanoseconds; wall-clock columns end in _utc or
-- wall_time_ms and are excluded from determinism comparisons. See docs/database.md.

-- One row per `jevons` invocation that produced results. Written last-to-first in one
-- transaction with its result rows, so a row here always has its results complete.
CREATE TABLE IF NOT EXISTS runs (
  run_id          INTEGER PRIMARY KEY,
  kind            TEXT    NOT NULL,   -- static-capacity | simulation | projection | sweep
  scenario_name   TEXT    NOT NULL,
  scenario_path   TEXT    NOT NULL,
  scenario_text   TEXT    NOT NULL,   -- the exact file bytes
  scenario_sha256 TEXT    NOT NULL,
  seed            INTEGER NOT NULL,
  jevons_version  TEXT    NOT NULL,
  git_commit      TEXT    NOT NULL,
  started_at_utc  TEXT    NOT NULL,
  finished_at_utc TEXT,
  wall_time_ms    INTEGER             -- the whole invocation: computation and database write
);

-- What a run changed or left out of its inputs and settings, one sentence per row (a trace cut
-- at duration_s or sorted by time, a capped setting, requests over the model's context); the
-- same notes are printed. Added in schema version 2.
CREATE TABLE IF NOT EXISTS run_notes (
  run_id     INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  note_index INTEGER NOT NULL,
  note       TEXT    NOT NULL,
  PRIMARY KEY (run_id, note_index)
);

-- HBM budget of one replica of each pool.
CREATE TABLE IF NOT EXISTS replica_memory (
  run_id                   INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  pool                     TEXT    NOT NULL,
  gpu                      TEXT    NOT NULL,
  model                    TEXT    NOT NULL,
  gpus                     INTEGER NOT NULL,
  tensor_parallel          INTEGER NOT NULL,
  replicas                 INTEGER NOT NULL,
  weight_precision         TEXT    NOT NULL,
  hbm_usable_bytes_per_gpu INTEGER NOT NULL,
  budget_bytes_per_gpu     INTEGER NOT NULL,
  weight_bytes_per_gpu     INTEGER NOT NULL,
  reserve_bytes_per_gpu    INTEGER NOT NULL,
  kv_bytes_per_gpu         INTEGER NOT NULL,  -- negative: the model does not fit
  PRIMARY KEY (run_id, pool)
);

-- Static KV capacity and the analytical (roofline) decode estimate per pool × format × context.
CREATE TABLE IF NOT EXISTS capacity_estimates (
  run_id                       INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  pool                         TEXT    NOT NULL,
  kv_format                    TEXT    NOT NULL,  -- "tq-3.5", or "k:KEY/v:VALUE"
  key_format                   TEXT    NOT NULL,
  value_format                 TEXT    NOT NULL,
  context_tokens               INTEGER NOT NULL,
  kv_bytes_per_token           INTEGER NOT NULL,  -- whole replica, all layers holding the token
  kv_bytes_per_sequence        INTEGER NOT NULL,  -- whole replica, paged, at context_tokens
  effective_kv_bytes_per_token REAL    NOT NULL,
  compression_vs_bf16          REAL    NOT NULL,
  kv_capacity_tokens           INTEGER NOT NULL,  -- per replica
  kv_capacity_sequences        INTEGER NOT NULL,  -- per replica
  pool_capacity_sequences      INTEGER NOT NULL,  -- all replicas of the pool
  batch_sequences              INTEGER NOT NULL,
  decode_step_time_ns          INTEGER NOT NULL,  -- 0 when nothing fits
  decode_tokens_per_s_per_gpu  REAL    NOT NULL,
  decode_tokens_per_s_pool     REAL    NOT NULL,
  bound                        TEXT    NOT NULL,  -- memory | compute | none
  estimate_kind                TEXT    NOT NULL,  -- analytical-roofline
  PRIMARY KEY (run_id, pool, kv_format, context_tokens)
);
