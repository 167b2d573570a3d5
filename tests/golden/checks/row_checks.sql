-- checks:
--   - not_null: [country, year]
--   - accepted_values: { column: country, values: [DE, FR] }
--   - range: { column: value, min: 0, max: 2.5 }
--   - regex: { column: country, pattern: '[A-Z]{2}' }
--   - expression: "value >= 0 OR country = 'FR'"
CREATE TABLE input AS SELECT * FROM (VALUES
  ('DE', 2020, 1.0), ('DE', 2020, 2.0), ('FR', NULL, -1.0), ('xx', 2021, 3.0)
) t(country, year, value);
