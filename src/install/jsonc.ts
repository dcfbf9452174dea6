/**
 * JSON and JSON-with-comments config files, edited in place: every byte we do not own stays as it
 * was (comments, trailing commas, key order, indentation, line endings), the member we add is
 * written in the file's own indentation and line ending, and removing it undoes adding it exactly.
 *
 * The edits are built here from jsonc-parser's syntax tree rather than with its `modify`: that
 * one's formatter rewrites the whole lines around an edit (a neighbour written on one line is
 * spread out, a trailing comment moves onto our entry), which the user's file must not suffer.
 */
// The ES module build: the package's `main` is a UMD wrapper whose inner requires esbuild cannot bundle.
import { applyEdits, createScanner, findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, SyntaxKind } from 'jsonc-parser/lib/esm/main.js';
import type { Edit, Node, ParseError } from 'jsonc-parser/lib/esm/main.js';
import { UsageError } from '../kimi/errors.js';
import { BY_HAND, lineColumn, lineEnding } from './text.js';

/** Picks members of an object (by key) or of an array (by value). */
export type Select = (key: string | undefined, value: unknown) => boolean;

interface Style {
  eol: string;
  /** One level of indentation: a tab or some spaces. */
  unit: string;
}

/** The file's tree (undefined for an empty file). Anything but a JSONC object is refused, saying where. */
function parse(text: string, file: string): Node | undefined {
  if (text.trim() === '') return undefined;
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const [error] = errors;
  if (error) {
    const { line, column } = lineColumn(text, error.offset);
    const problem = printParseErrorCode(error.error).replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase();
    throw new UsageError(`${file} line ${line}, column ${column}: ${problem}, so the file was left untouched. Fix it and run again, or ${BY_HAND}.`);
  }
  if (root?.type !== 'object') throw new UsageError(`${file} does not hold a JSON object, so it was left untouched. Fix it and run again, or ${BY_HAND}.`);
  return root;
}

/** The value at `path` in a file, as read back by the parser (which throws if it cannot). */
export function valueAt(text: string, file: string, path: string[]): unknown {
  const root = parse(text, file);
  const node = root && findNodeAtLocation(root, path);
  return node && getNodeValue(node);
}

/** An object's properties or an array's items, with the node that a deletion takes out. */
function members(container: Node): { node: Node; key: string | undefined; value: Node }[] {
  return (container.children ?? []).map((node) =>
    container.type === 'object' ? { node, key: node.children![0]!.value as string, value: node.children![1]! } : { node, key: undefined, value: node },
  );
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

const lineIndent = (text: string, offset: number): string => /^[ \t]*/.exec(text.slice(lineStart(text, offset)))![0];

/** The whitespace before a node that starts its own line; undefined when something precedes it there. */
function ownLineIndent(text: string, node: Node): string | undefined {
  const before = text.slice(lineStart(text, node.offset), node.offset);
  return /^[ \t]*$/.test(before) ? before : undefined;
}

/** The indentation of the file's first indented key (tabs or N spaces); two spaces if it has none. */
function indentUnit(text: string): string {
  const found = /^([ \t]+)"/m.exec(text)?.[1];
  return found?.includes('\t') ? '\t' : (found ?? '  ');
}

const isMultiline = (text: string, node: Node): boolean => text.slice(node.offset, node.offset + node.length).includes('\n');

/** A property (`"key": value`) or an array item; on several lines at `indent`, or on one line without it. */
function render(key: string | undefined, value: unknown, indent: string | undefined, style: Style): string {
  const json = indent === undefined ? JSON.stringify(value) : JSON.stringify(value, null, style.unit).replace(/\n/g, `${style.eol}${indent}`);
  return key === undefined ? json : `${JSON.stringify(key)}: ${json}`;
}

/** Offset of the comma that follows a member (the first token after it other than whitespace and comments), or -1. */
function commaAfter(text: string, offset: number): number {
  const scanner = createScanner(text, false);
  scanner.setPosition(offset);
  for (;;) {
    const kind = scanner.scan();
    if (kind === SyntaxKind.CommaToken) return scanner.getTokenOffset();
    if (![SyntaxKind.Trivia, SyntaxKind.LineBreakTrivia, SyntaxKind.LineCommentTrivia, SyntaxKind.BlockCommentTrivia].includes(kind)) return -1;
  }
}

/** After a member, on its own line: its comma (or -1) and the end of that comma and of any comment there. */
function sameLineTail(text: string, offset: number): { comma: number; end: number } {
  const scanner = createScanner(text, false);
  scanner.setPosition(offset);
  let comma = -1;
  let end = offset;
  for (;;) {
    const kind = scanner.scan();
    if (kind === SyntaxKind.Trivia) continue;
    const oneLineComment = kind === SyntaxKind.LineCommentTrivia || (kind === SyntaxKind.BlockCommentTrivia && !scanner.getTokenValue().includes('\n'));
    if (kind === SyntaxKind.CommaToken && comma < 0) comma = scanner.getTokenOffset();
    else if (!oneLineComment) return { comma, end };
    end = scanner.getPosition();
  }
}

/**
 * Adds a member at the end of a container. On its own line after the last member's line (after
 * its comma and comment, so a comment stays with the member it describes), with a trailing comma
 * if the last member had one; on the same line if the container is written on one line.
 */
function insertion(text: string, container: Node, key: string | undefined, value: unknown, style: Style): Edit[] {
  const last = container.children?.at(-1);
  const indent = lineIndent(text, container.offset);
  if (!last) {
    // `{}` becomes a block; whatever is inside (a comment) stays after our member.
    const close = container.offset + container.length - 1;
    const inner = text.slice(container.offset + 1, close);
    const blank = inner.trim() === '';
    const content = `${style.eol}${indent}${style.unit}${render(key, value, indent + style.unit, style)}${blank ? style.eol + indent : ''}`;
    return [{ offset: container.offset + 1, length: blank ? inner.length : 0, content }];
  }
  const lastEnd = last.offset + last.length;
  const { comma, end } = sameLineTail(text, lastEnd);
  if (!isMultiline(text, container)) {
    const member = render(key, value, undefined, style);
    return comma < 0 ? [{ offset: lastEnd, length: 0, content: `, ${member}` }] : [{ offset: comma + 1, length: 0, content: ` ${member},` }];
  }
  const memberIndent = ownLineIndent(text, last) ?? indent + style.unit;
  const line = `${style.eol}${memberIndent}${render(key, value, memberIndent, style)}`;
  if (comma >= 0) return [{ offset: end, length: 0, content: `${line},` }];
  // The comma goes right after the last member, before its comment (applyEdits keeps this order when end === lastEnd).
  return [
    { offset: lastEnd, length: 0, content: ',' },
    { offset: end, length: 0, content: line },
  ];
}

/** Takes a member out: the inverse of `insertion`, and sensible for members the user placed. */
function deletion(text: string, member: Node): Edit[] {
  const siblings = member.parent!.children!;
  const previous = siblings[siblings.indexOf(member) - 1];
  const ownComma = commaAfter(text, member.offset + member.length);
  const end = ownComma >= 0 ? ownComma + 1 : member.offset + member.length;
  if (ownLineIndent(text, member) !== undefined) {
    // Its whole line goes, from the line break before it; a comma it borrowed from the member before goes too.
    const line = lineStart(text, member.offset);
    const start = line - (text[line - 2] === '\r' ? 2 : 1);
    const edits = [{ offset: start, length: end - start, content: '' }];
    if (previous && ownComma < 0) edits.push({ offset: commaAfter(text, previous.offset + previous.length), length: 1, content: '' });
    return edits;
  }
  if (!previous) return [{ offset: member.offset, length: end - member.offset, content: '' }];
  const previousEnd = previous.offset + previous.length;
  const start = ownComma >= 0 ? commaAfter(text, previousEnd) + 1 : previousEnd;
  return [{ offset: start, length: end - start, content: '' }];
}

/** True when taking `member` out would leave its container with nothing but whitespace in it. */
function emptiedBy(text: string, member: Node): boolean {
  const container = member.parent!;
  const rest = text.slice(container.offset + 1, member.offset) + text.slice(member.offset + member.length, container.offset + container.length - 1);
  return /^[\s,]*$/.test(rest);
}

/** The nested value that creates the containers still missing on `path`, holding the member. */
function nest(path: string[], key: string | undefined, value: unknown): unknown {
  return path.reduceRight<unknown>((inner, name) => ({ [name]: inner }), key === undefined ? [value] : { [key]: value });
}

/**
 * Sets the member that `select` picks in the container at `path` (an object, or an array when
 * `key` is undefined) to `value`, in place; adds it at the end if there is none, creating the
 * containers that are missing. An empty file becomes a new one.
 */
export function upsert(text: string, file: string, path: string[], select: Select, key: string | undefined, value: unknown): string {
  const root = parse(text, file);
  if (!root) return `${JSON.stringify(nest(path, key, value), null, 2)}\n`;
  const style = { eol: lineEnding(text), unit: indentUnit(text) };
  let container = root;
  for (const [depth, name] of path.entries()) {
    const next = findNodeAtLocation(container, [name]);
    if (!next) return applyEdits(text, insertion(text, container, name, nest(path.slice(depth + 1), key, value), style));
    const expected = key === undefined && depth === path.length - 1 ? 'array' : 'object';
    if (next.type !== expected) {
      const found = `${/^[aeiou]/.test(next.type) ? 'an' : 'a'} ${next.type}`;
      throw new UsageError(`${file}: "${path.slice(0, depth + 1).join('.')}" should be an ${expected}, not ${found}, so it was left untouched. Fix it and run again, or ${BY_HAND}.`);
    }
    container = next;
  }
  const existing = members(container).find((m) => select(m.key, getNodeValue(m.value)));
  if (!existing) return applyEdits(text, insertion(text, container, key, value, style));
  const indent = isMultiline(text, container) ? lineIndent(text, existing.node.offset) : undefined;
  return applyEdits(text, [{ offset: existing.value.offset, length: existing.value.length, content: render(undefined, value, indent, style) }]);
}

/**
 * Removes every member that `select` picks in the container at `path`, and each container on
 * the path that this leaves empty (we created it); '' when nothing at all would be left.
 */
export function remove(text: string, file: string, path: string[], select: Select): string {
  for (;;) {
    const root = parse(text, file);
    const container = root && findNodeAtLocation(root, path);
    const target = container && members(container).find((m) => select(m.key, getNodeValue(m.value)));
    if (!root || !target) return text;
    let member = target.node;
    while (emptiedBy(text, member) && member.parent!.parent) member = member.parent!.parent;
    const outsideRoot = text.slice(0, root.offset) + text.slice(root.offset + root.length);
    if (member.parent === root && emptiedBy(text, member) && outsideRoot.trim() === '') return '';
    text = applyEdits(text, deletion(text, member));
  }
}
