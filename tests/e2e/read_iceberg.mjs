// Independent Iceberg reader for end-to-end checks. Reads a table through its Iceberg metadata only, with
// icebird (not sluice, not DuckDB), validates every manifest list and manifest with avsc against the
// Iceberg v2 spec's Avro schemas (written out below from the spec, not from sluice's code), and reads the
// Parquet field ids of every data file with hyparquet. Prints one JSON object:
//   {metadata, rows, manifests: [{path, entries}], field_ids: [{path, ids: {column: id}, paths: {a.b.c: id}}]}
// `paths` has every element of the file's Parquet schema by its dotted path (nested ones too).
// Usage: SLUICE_NPM_TOOLS=build/_npm_tools node read_iceberg.mjs TABLE_URI [METADATA_FILE_NAME]
// TABLE_URI is file:///abs/lake/zone/...; file: URLs are served to icebird's fetch from the filesystem.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const tools = process.env.SLUICE_NPM_TOOLS
if (!tools) throw new Error('set SLUICE_NPM_TOOLS to the folder holding node_modules/icebird')
const load = (rel) => import(pathToFileURL(path.join(tools, 'node_modules', rel)).href)
const { icebergRead, icebergMetadata } = await load('icebird/src/index.js')
const { asyncBufferFromFile, parquetMetadataAsync } = await load('hyparquet/src/node.js')
const avro = (await load('avsc/lib/index.js')).default ?? (await load('avsc/lib/index.js'))

// icebird reads through fetch(); Node's fetch has no file: scheme, so answer those (with Range) here.
const networkFetch = globalThis.fetch
globalThis.fetch = async (url, init = {}) => {
  const href = String(url)
  if (!href.startsWith('file:')) return networkFetch(url, init)
  let data
  try {
    data = fs.readFileSync(fileURLToPath(href))
  } catch {
    return new Response('not found', { status: 404, statusText: 'Not Found' })
  }
  const range = (init.headers && (init.headers.Range ?? init.headers.range)) || undefined
  if (range) {
    const [, start, end] = /bytes=(\d+)-(\d*)/.exec(range)
    const slice = data.subarray(Number(start), end ? Number(end) + 1 : data.length)
    return new Response(slice, { status: 206, headers: { 'content-length': String(slice.length) } })
  }
  if (init.method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-length': String(data.length) } })
  return new Response(data, { status: 200, headers: { 'content-length': String(data.length) } })
}

// Iceberg spec (format/spec.md), "Manifest Lists" and "Manifests" for format version 2: the field names,
// ids and optionality readers rely on. The partition struct (102) depends on the table's spec.
const opt = (name, type, id) => ({ name, type: ['null', type], default: null, 'field-id': id })
const req = (name, type, id) => ({ name, type, 'field-id': id })
const intMap = (k, v, valueType) => ({ type: 'array', logicalType: 'map', items: { type: 'record', name: `k${k}_v${v}`, fields: [req('key', 'int', k), req('value', valueType, v)] } })
const manifestListSpec = {
  type: 'record', name: 'manifest_file', fields: [
    req('manifest_path', 'string', 500), req('manifest_length', 'long', 501), req('partition_spec_id', 'int', 502),
    req('content', 'int', 517), req('sequence_number', 'long', 515), req('min_sequence_number', 'long', 516),
    req('added_snapshot_id', 'long', 503), req('added_files_count', 'int', 504), req('existing_files_count', 'int', 505),
    req('deleted_files_count', 'int', 506), req('added_rows_count', 'long', 512), req('existing_rows_count', 'long', 513),
    req('deleted_rows_count', 'long', 514),
    opt('partitions', { type: 'array', items: { type: 'record', name: 'r508', fields: [
      req('contains_null', 'boolean', 509), opt('contains_nan', 'boolean', 518), opt('lower_bound', 'bytes', 510),
      opt('upper_bound', 'bytes', 511)] } }, 507),
    opt('key_metadata', 'bytes', 519),
  ],
}
const manifestSpec = (partitionType) => ({
  type: 'record', name: 'manifest_entry', fields: [
    req('status', 'int', 0), opt('snapshot_id', 'long', 1), opt('sequence_number', 'long', 3),
    opt('file_sequence_number', 'long', 4),
    req('data_file', { type: 'record', name: 'r2', fields: [
      req('content', 'int', 134), req('file_path', 'string', 100), req('file_format', 'string', 101),
      req('partition', partitionType, 102), req('record_count', 'long', 103), req('file_size_in_bytes', 'long', 104),
      opt('column_sizes', intMap(117, 118, 'long'), 108), opt('value_counts', intMap(119, 120, 'long'), 109),
      opt('null_value_counts', intMap(121, 122, 'long'), 110), opt('nan_value_counts', intMap(138, 139, 'long'), 137),
      opt('lower_bounds', intMap(126, 127, 'bytes'), 125), opt('upper_bounds', intMap(129, 130, 'bytes'), 128),
      opt('key_metadata', 'bytes', 131), opt('split_offsets', { type: 'array', items: 'long' }, 132),
      opt('equality_ids', { type: 'array', items: 'int' }, 135), opt('sort_order_id', 'int', 140),
    ] }, 2),
  ],
})

// Every field of `expected` must be in `actual` at the same place with the same field id and type shape.
function checkIds(expected, actual, where) {
  const e = Array.isArray(expected) ? expected : expected.fields
  const a = Array.isArray(actual) ? actual : actual.fields
  if (e.length !== a.length) throw new Error(`${where}: ${a.length} fields, the spec has ${e.length}`)
  e.forEach((field, i) => {
    const got = a[i]
    if (got.name !== field.name) throw new Error(`${where}: field ${i} is '${got.name}', the spec says '${field.name}'`)
    if (field['field-id'] !== undefined && got['field-id'] !== field['field-id']) {
      throw new Error(`${where}.${field.name}: field-id ${got['field-id']}, the spec says ${field['field-id']}`)
    }
    const inner = (t) => (Array.isArray(t) ? t[1] : t)
    const et = inner(field.type), at = inner(got.type)
    if (Array.isArray(field.type) !== Array.isArray(got.type)) throw new Error(`${where}.${field.name}: optionality differs from the spec`)
    if (et && typeof et === 'object' && et.type === 'record' && et.fields.length) checkIds(et, at, `${where}.${field.name}`)
    if (et && typeof et === 'object' && et.type === 'array' && typeof et.items === 'object') checkIds(et.items, at.items, `${where}.${field.name}[]`)
  })
}

function decodeAvro(file, specFor) {
  return new Promise((resolve, reject) => {
    const records = []
    let header
    avro.createFileDecoder(file, { readerSchema: undefined })
      .on('metadata', (type, codec, h) => {
        header = h
        const writer = JSON.parse(h.meta['avro.schema'].toString())
        try {
          const spec = specFor(writer, h)
          checkIds(spec, writer, path.basename(file))
          // Decoding with the spec's schema as reader schema proves the two resolve (avsc checks it).
          avro.Type.forSchema(spec, { wrapUnions: false }).createResolver(type)
        } catch (err) { reject(err) }
      })
      .on('data', (r) => records.push(r))
      .on('error', reject)
      .on('end', () => resolve({ records, meta: Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString()])) }))
  })
}

// Every schema element of a Parquet footer by its dotted path ("s.tags.list.element") with its field id or null.
function schemaPaths(elements) {
  const paths = {}
  let next = 1
  const walk = (prefix, count) => {
    for (let c = 0; c < count; c++) {
      const element = elements[next++]
      const name = prefix ? `${prefix}.${element.name}` : element.name
      paths[name] = element.field_id ?? null
      if (element.num_children) walk(name, element.num_children)
    }
  }
  walk('', elements[0].num_children ?? 0)
  return paths
}

const [tableUrl, metadataFileName] = process.argv.slice(2)
const metadata = await icebergMetadata({ tableUrl, metadataFileName })
const rows = await icebergRead({ tableUrl, metadata })
const snapshot = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id'])
const list = await decodeAvro(fileURLToPath(snapshot['manifest-list']), () => manifestListSpec)
for (const key of ['snapshot-id', 'sequence-number', 'format-version']) {
  if (!(key in list.meta)) throw new Error(`manifest list has no '${key}' metadata`)
}
const manifests = []
const fieldIds = []
for (const m of list.records) {
  const decoded = await decodeAvro(fileURLToPath(m.manifest_path), (writer) => {
    const dataFile = writer.fields.find((f) => f.name === 'data_file').type
    return manifestSpec(dataFile.fields.find((f) => f.name === 'partition').type)
  })
  for (const key of ['schema', 'partition-spec', 'format-version', 'content']) {
    if (!(key in decoded.meta)) throw new Error(`manifest ${m.manifest_path} has no '${key}' metadata`)
  }
  manifests.push({ path: m.manifest_path, meta: decoded.meta, entries: decoded.records })
  for (const entry of decoded.records) {
    const file = fileURLToPath(entry.data_file.file_path)
    const parquet = await parquetMetadataAsync(await asyncBufferFromFile(file))
    const ids = {}
    for (const element of parquet.schema.slice(1)) ids[element.name] = element.field_id ?? null
    fieldIds.push({ path: entry.data_file.file_path, ids, paths: schemaPaths(parquet.schema) })
  }
}
const replacer = (key, value) => {
  if (typeof value === 'bigint') return Number(value)
  if (value && value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data).toString('hex')
  if (value instanceof Date) return value.toISOString()
  return value
}
process.stdout.write(JSON.stringify({ metadata, rows, manifests, field_ids: fieldIds }, replacer))
