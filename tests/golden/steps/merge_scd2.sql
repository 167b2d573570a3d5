-- steps:
--   - merge: { key: [id], mode: scd2 }
-- A changed key closes its current row and opens a new one at the run's time; unchanged keys stay.
CREATE TABLE target_current AS SELECT * FROM (VALUES
  (1, 'a', TIMESTAMP '2024-01-01 00:00:00', NULL::TIMESTAMP, true),
  (2, 'b', TIMESTAMP '2024-01-01 00:00:00', NULL::TIMESTAMP, true)
) t(id, name, valid_from, valid_to, is_current);
CREATE TABLE input AS SELECT * FROM (VALUES (1, 'a2'), (2, 'b'), (3, 'c')) t(id, name);
