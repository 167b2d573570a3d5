// Drives sluice serve's Iceberg REST catalog with an independent client, iceberg-js, and prints what it
// got as JSON: {namespaces, namespace, tables, table, missing, unauthorized}.
// Usage: SLUICE_NPM_TOOLS=build/_npm_tools node iceberg_rest_client.mjs BASE_URL TOKEN ZONE TABLE
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const tools = process.env.SLUICE_NPM_TOOLS
if (!tools) throw new Error('set SLUICE_NPM_TOOLS to the folder holding node_modules/iceberg-js')
const { IcebergRestCatalog } = await import(pathToFileURL(path.join(tools, 'node_modules', 'iceberg-js/dist/index.mjs')).href)

const [baseUrl, token, zone, table] = process.argv.slice(2)
const catalog = new IcebergRestCatalog({ baseUrl, auth: { type: 'bearer', token } })
const errorOf = async (promise) => {
  try {
    await promise
    return null
  } catch (err) {
    return { status: err.status ?? null, type: err.type ?? null, message: String(err.message) }
  }
}
const out = {
  namespaces: await catalog.listNamespaces(),
  namespace: await catalog.loadNamespaceMetadata({ namespace: [zone] }),
  tables: await catalog.listTables({ namespace: [zone] }),
  table: await catalog.loadTable({ namespace: [zone], name: table }),
  missing: await errorOf(catalog.loadTable({ namespace: [zone], name: 'no_such_table' })),
  unauthorized: await errorOf(new IcebergRestCatalog({ baseUrl, auth: { type: 'bearer', token: 'wrong' } }).listNamespaces()),
}
const replacer = (key, value) => (typeof value === 'bigint' ? Number(value) : value)
process.stdout.write(JSON.stringify(out, replacer))
