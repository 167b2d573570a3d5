-- steps:
--   - add_columns: { etl_timestamp: true, run_id: true, event_date: ts,
--                    amount_eur: "round(amount * 0.9, 2)" }
CREATE TABLE input AS SELECT * FROM (VALUES
  (TIMESTAMP '2024-10-01 23:59:59', 10.0), (TIMESTAMP '2024-10-02 00:00:00', NULL)
) t(ts, amount);
