-- steps:
--   - sql: "SELECT country, sum(amount) AS total, count(*) AS orders FROM input GROUP BY country"
--   - sql: { query: "SELECT * FROM input WHERE total > 5" }
CREATE TABLE input AS SELECT * FROM (VALUES ('DE', 4.0), ('DE', 3.0), ('FR', 1.0)) t(country, amount);
