-- checks:
--   - unique: [country, year]
--   - row_count: { min: 5 }
--   - freshness: { column: ts, max_age: 1d }
--   - sql: "SELECT country FROM output GROUP BY country HAVING sum(value) > 2"
--   - severity: warn
--     unique: [country, value]
CREATE TABLE input AS SELECT * FROM (VALUES
  ('DE', 2020, 1.0, TIMESTAMP '2024-10-02 12:00:00'), ('DE', 2020, 2.0, TIMESTAMP '2024-10-01 13:00:00'),
  ('FR', 2021, 1.0, NULL)
) t(country, year, value, ts);
