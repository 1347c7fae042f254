/** An XML element: a name, attributes in order, and either text or child elements. */
export interface XmlElement {
  name: string;
  attributes?: ReadonlyArray<readonly [string, string]>;
  text?: string;
  children?: readonly XmlElement[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?$/;
// XML 1.0, section 2.2: characters a document may not hold, even escaped.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** Printable ASCII that needs no escape: URLs, digests, sizes, names; tested first, being the common case. */
const PLAIN_ASCII = /^[ !#-%(-;=?-~]*$/;
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;" };

/**
 * Escapes text for element content or a double-quoted attribute (XML 1.0,
 * sections 2.4 and 3.3.3: whitespace in attributes is written as character
 * references so it survives normalisation). Rejects characters XML cannot hold.
 */
export function escapeXml(value: string): string {
  if (PLAIN_ASCII.test(value)) return value;
  if (NOT_XML_CHAR.test(value)) throw new Error("value holds a character XML 1.0 cannot represent");
  return value.replace(/[&<>"'\t\n\r]/g, (character) => ESCAPES[character] as string);
}

/** Names come from our own code, so the few distinct ones are checked once each, not on every render. */
const checkedNames = new Set<string>();
const MAX_CHECKED_NAMES = 256;

function checkName(name: string): string {
  if (checkedNames.has(name)) return name;
  if (!NAME.test(name)) throw new Error(`invalid XML name ${JSON.stringify(name)}`);
  if (checkedNames.size < MAX_CHECKED_NAMES) checkedNames.add(name);
  return name;
}

const INDENTS = ["", "  ", "    ", "      ", "        "];

function write(element: XmlElement, depth: number): string {
  const indent = INDENTS[depth] ?? "  ".repeat(depth);
  const name = checkName(element.name);
  let open = `${indent}<${name}`;
  for (const [attribute, value] of element.attributes ?? []) open += ` ${checkName(attribute)}="${escapeXml(value)}"`;
  if (element.children !== undefined && element.children.length > 0) {
    let out = `${open}>\n`;
    for (const child of element.children) out += write(child, depth + 1);
    return `${out}${indent}</${name}>\n`;
  }
  if (element.text !== undefined) return `${open}>${escapeXml(element.text)}</${name}>\n`;
  return `${open}/>\n`;
}

/** Serialises a UTF-8 XML document; every name is checked and every value escaped. */
export function xmlDocument(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${write(root, 0)}`;
}
