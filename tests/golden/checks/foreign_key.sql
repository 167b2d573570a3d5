-- checks:
--   - foreign_key: { column: country, references: silver.countries(code) }
-- A value missing from the referenced table fails; NULL passes.
CREATE SCHEMA silver;
CREATE TABLE silver.countries AS SELECT * FROM (VALUES ('DE'), ('FR')) t(code);
CREATE TABLE input AS SELECT * FROM (VALUES ('DE'), ('XX'), (NULL), ('XX')) t(country);
