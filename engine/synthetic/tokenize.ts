// Words for the text model: letters/digits with inner hyphens, apostrophes and dots kept together
// ("TNF-alpha", "8-month-old", "0.5"), and each other visible character as its own token.
// Detokenizing puts the spaces back the way prose has them.

const TOKEN = /[\p{L}\p{N}]+(?:[-'’.][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', '%', '’', "'"]);
const NO_SPACE_AFTER = new Set(['(', '[', '{']);

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function detokenize(tokens: readonly string[]): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (i > 0 && !NO_SPACE_BEFORE.has(t) && !NO_SPACE_AFTER.has(tokens[i - 1])) out += ' ';
    out += t;
  }
  return out;
}
