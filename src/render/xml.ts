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

function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid XML name ${JSON.stringify(name)}`);
  return name;
}

function write(element: XmlElement, depth: number, out: string[]): void {
  const indent = "  ".repeat(depth);
  const attributes = (element.attributes ?? []).map(([name, value]) => ` ${checkName(name)}="${escapeXml(value)}"`).join("");
  const name = checkName(element.name);
  if (element.children !== undefined && element.children.length > 0) {
    out.push(`${indent}<${name}${attributes}>`);
    for (const child of element.children) write(child, depth + 1, out);
    out.push(`${indent}</${name}>`);
  } else if (element.text !== undefined) {
    out.push(`${indent}<${name}${attributes}>${escapeXml(element.text)}</${name}>`);
  } else {
    out.push(`${indent}<${name}${attributes}/>`);
  }
}

/** Serialises a UTF-8 XML document; every name is checked and every value escaped. */
export function xmlDocument(root: XmlElement): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  write(root, 0, out);
  return `${out.join("\n")}\n`;
}
