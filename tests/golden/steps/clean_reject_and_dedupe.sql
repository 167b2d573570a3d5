-- steps:
--   - clean: { types: { score: smallint }, on_type_error: reject,
--              dedupe: { key: [id], order_by: version } }
-- Rows whose value does not fit are set aside with a reason; per key the highest version stays.
CREATE TABLE input AS SELECT * FROM (VALUES
  (1, 1, '5'), (1, 2, '4'), (2, 1, 'five'), (3, 1, '99999999'), (3, 2, '2')
) t(id, version, score);
