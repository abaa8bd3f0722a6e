// `bp lint` does not cover plugins ("Unsupported project type"), so the Hub's rules are held here:
// every configuration field, table column and action input/output field has a title and a
// description; the definition names its icon and readme, and both exist.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const definition = createRequire(import.meta.url)('../dist/definition.cjs').default

/** Paths of the fields of a JSON schema lacking a title or a description. */
function untitled(schema, path) {
  const missing = []
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const here = `${path}.${name}`
    const node = field.anyOf?.find((f) => f.type !== 'null') ?? field
    const title = field['x-zui']?.title ?? node['x-zui']?.title
    if (!title || !(field.description ?? node.description)) missing.push(here)
    if (node.type === 'object') missing.push(...untitled(node, here))
    if (node.type === 'array' && node.items?.type === 'object') missing.push(...untitled(node.items, `${here}[]`))
  }
  return missing
}

test('every field of the plugin definition is titled and described', () => {
  const schemas = [
    ['configuration', definition.configuration.schema],
    ...Object.entries(definition.tables).map(([name, t]) => [`tables.${name}`, t.schema]),
    ...Object.entries(definition.actions).flatMap(([name, a]) => [
      [`actions.${name}.input`, a.input.schema],
      [`actions.${name}.output`, a.output.schema],
    ]),
  ]
  for (const [path, schema] of schemas) assert.deepEqual(untitled(schema.toJSONSchema(), path), [], path)
  for (const [name, action] of Object.entries(definition.actions)) assert.ok(action.title && action.description, name)
  for (const kind of ['user', 'conversation']) {
    for (const [name, tag] of Object.entries(definition[kind].tags)) assert.ok(tag.title && tag.description, `${kind}.tags.${name}`)
  }
  assert.ok(definition.title && definition.description)
  for (const file of [definition.icon, definition.readme]) assert.ok(existsSync(new URL(`../${file}`, import.meta.url)), file)
})
