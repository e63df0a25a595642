// Walking the card's JSON Schema (GET /card/schema) for the form and the card view: local
// $refs and the oneOf branch chosen by person_type. Validation itself is widget/src/card's.

/**
 * A schema node with its local $ref merged in (the node's own keywords win: a property's title
 * overrides the title of the definition it refers to, as in the card schema).
 * @param {any} root the whole schema
 * @param {any} node
 * @returns {any}
 */
export function resolve(root, node) {
  let out = node ?? {};
  for (let depth = 0; typeof out.$ref === 'string' && depth < 16; depth += 1) {
    const { $ref, ...own } = out;
    if (!$ref.startsWith('#/')) throw new Error('only local $ref is supported');
    const target = $ref.slice(2).split('/')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce((/** @type {any} */ at, part) => at?.[part], root);
    out = { ...target, ...own };
  }
  return out;
}

/**
 * The resolved oneOf branch whose person_type const is `type`, or null.
 * @param {any} schema
 * @param {string | undefined} type
 */
export function branchFor(schema, type) {
  return (schema.oneOf ?? []).map((/** @type {any} */ b) => resolve(schema, b))
    .find((/** @type {any} */ b) => b.properties?.person_type?.const === type) ?? null;
}
