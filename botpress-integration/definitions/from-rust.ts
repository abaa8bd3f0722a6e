// zod shapes built from the JSON Schemas of the Rust types (pkg/schemas.json, written by
// scripts/build-pkg.mjs from examples/typescript.rs), so what the package returns and what the
// integration declares have one source. Titles come from the field names, descriptions from the
// Rust doc comments. Only the JSON Schema forms those types produce are read; any other is a
// build error, never a silently loose shape.
import { z } from '@botpress/sdk'
import schemas from 'autoplay-botpress/schemas.json'

type Schema = {
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  $ref?: string
  anyOf?: Schema[]
  oneOf?: Schema[]
  enum?: string[]
  const?: string
  description?: string
}

const defs = schemas.$defs as Record<string, Schema>

/** The Studio description of a doc comment: its first paragraph (rustdoc's summary) on one
 * line, rustdoc links as plain code, without the closing period. */
const describe = (doc: string): string =>
  (doc.split(/\n\s*\n/)[0] ?? '')
    .replace(/\[`([^`]*)`\](\([^)]*\))?/g, '`$1`')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.$/, '')

/** `canonical_url` → "Canonical url", `recentEvents` → "Recent events". */
const title = (name: string): string => {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema
  const name = schema.$ref.replace('#/$defs/', '')
  const found = defs[name]
  if (!found) throw new Error(`pkg/schemas.json: no definition ${name}`)
  return found
}

function toZod(given: Schema, where: string): z.ZodTypeAny {
  const schema = resolve(given)
  const variants = schema.anyOf ?? schema.oneOf
  if (variants) {
    const named = variants.map(resolve)
    if (named.every((v) => typeof v.const === 'string' || v.enum)) {
      const values = named.flatMap((v) => v.enum ?? [v.const as string])
      return z.enum(values as [string, ...string[]])
    }
    const present = variants.filter((v) => v.type !== 'null')
    const [first, second, ...rest] = present.map((v, i) => toZod(v, `${where}|${i}`))
    if (!first) throw new Error(`pkg/schemas.json: ${where} has no variant`)
    const inner = second ? z.union([first, second, ...rest]) : first
    return present.length < variants.length ? inner.nullable() : inner
  }
  if (schema.enum) return z.enum(schema.enum as [string, ...string[]])
  const types = [schema.type ?? []].flat()
  const nullable = types.includes('null')
  const kind = types.filter((t) => t !== 'null')
  let shape: z.ZodTypeAny
  if (kind.length === 1 && kind[0] === 'string') shape = z.string()
  else if (kind.length === 1 && (kind[0] === 'integer' || kind[0] === 'number')) shape = z.number()
  else if (kind.length === 1 && kind[0] === 'boolean') shape = z.boolean()
  else if (kind.length === 1 && kind[0] === 'array' && schema.items) shape = z.array(toZod(schema.items, `${where}[]`))
  else if (kind.length === 1 && kind[0] === 'object' && schema.properties) shape = object(schema, where)
  else throw new Error(`pkg/schemas.json: ${where} has a form this reader does not know: ${JSON.stringify(schema)}`)
  return nullable ? shape.nullable() : shape
}

function object(schema: Schema, where: string): z.ZodTypeAny {
  const required = new Set(schema.required ?? [])
  const fields: Record<string, z.ZodTypeAny> = {}
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const doc = property.description ?? resolve(property).description
    if (!doc) throw new Error(`pkg/schemas.json: ${where}.${name} has no doc comment in the Rust type`)
    const field = toZod(property, `${where}.${name}`)
    fields[name] = (required.has(name) ? field : field.optional()).title(title(name)).describe(describe(doc))
  }
  return z.object(fields).strict()
}

/** The zod shape of the Rust type `name` as the package returns it (strict: no other key). */
export function fromRust(name: keyof typeof schemas.roots): z.ZodTypeAny {
  return toZod(schemas.roots[name] as Schema, name)
}
