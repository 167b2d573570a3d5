// Independent Parquet reader for end-to-end checks: prints every row of the given files as one
// JSON object {columns, rows}, decoded by hyparquet (not DuckDB), so a test can compare what
// sluice wrote with what a different implementation reads.
// Usage: SLUICE_NPM_TOOLS=build/_npm_tools node read_parquet.mjs FILE...
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const tools = process.env.SLUICE_NPM_TOOLS
if (!tools) throw new Error('set SLUICE_NPM_TOOLS to the folder holding node_modules/hyparquet')
const load = (rel) => import(pathToFileURL(path.join(tools, 'node_modules', rel)).href)
const { asyncBufferFromFile, parquetReadObjects, parquetMetadataAsync } = await load('hyparquet/src/node.js')
const { compressors } = await load('hyparquet-compressors/src/index.js')

const rows = []
const columns = new Set()
for (const file of process.argv.slice(2)) {
  const buffer = await asyncBufferFromFile(file)
  const metadata = await parquetMetadataAsync(buffer)
  for (const field of metadata.schema.slice(1)) columns.add(field.name)
  for (const row of await parquetReadObjects({ file: buffer, compressors })) rows.push(row)
}
const replacer = (key, value) => (typeof value === 'bigint' ? value.toString() : value)
process.stdout.write(JSON.stringify({ columns: [...columns], rows }, replacer))
