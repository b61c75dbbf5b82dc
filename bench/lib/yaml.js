'use strict';
// A tiny block-style YAML writer for the generated gateway configs (maps, lists, scalars).
// The bench package has no YAML dependency of its own, and a readable file matters: it is
// left in the temp dir with --keep for anyone who wants to replay a variant by hand.

const RESERVED = /^(true|false|null|yes|no|on|off|~)$/i;

function scalar(v) {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  const plain = /^[A-Za-z0-9_./:-]+$/.test(s) && !RESERVED.test(s) && !/^[-+]?[\d.]+$/.test(s);
  return plain ? s : JSON.stringify(s); // a JSON string is a valid double-quoted YAML scalar
}

function isEmpty(v) {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

function block(value, indent) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) return value.map((item) => listItem(item, indent)).join('');
  return Object.entries(value)
    .map(([k, v]) => {
      if (v === null || typeof v !== 'object') return `${pad}${k}: ${scalar(v)}\n`;
      if (isEmpty(v)) return `${pad}${k}: ${Array.isArray(v) ? '[]' : '{}'}\n`;
      return `${pad}${k}:\n${block(v, indent + 2)}`;
    })
    .join('');
}

function listItem(item, indent) {
  const pad = ' '.repeat(indent);
  if (item === null || typeof item !== 'object') return `${pad}- ${scalar(item)}\n`;
  if (isEmpty(item)) return `${pad}- ${Array.isArray(item) ? '[]' : '{}'}\n`;
  // First line of the nested block goes after "- ", the rest keeps its indentation.
  return `${pad}- ${block(item, indent + 2).slice(indent + 2)}`;
}

function stringify(value, comment) {
  return (comment ? `# ${comment}\n` : '') + block(value, 0);
}

module.exports = { stringify };
