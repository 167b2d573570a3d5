-- steps:
--   - clean: { on_type_eror: "null" }
-- A misspelt option is refused with the nearest name.
CREATE TABLE input AS SELECT 1 AS id;
