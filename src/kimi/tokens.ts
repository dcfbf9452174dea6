/**
 * Offline Kimi token estimator.
 *
 * Kimi's vocabulary (tiktoken.model) cannot be fetched on our machines, so we reproduce the exact
 * pre-tokenizer (Moonshot's pat_str, the split pattern shipped beside tiktoken.model) and
 * estimate how many BPE tokens each piece becomes. Pieces are what the real tokenizer splits on,
 * so code, numbers and punctuation are handled by structure rather than by a blanket
 * characters-per-token ratio. The per-class rates below were fitted against the 73 true Kimi
 * counts in test/fixtures/kimi_token_counts.json; test/tokens.test.ts holds the measured error.
 */

// Moonshot's pat_str, rewritten for JavaScript: the `v` flag gives set subtraction (`--`) and
// the case-insensitive contraction group is spelled out (inline modifiers need Node 23).
const LETTER_UPPER = String.raw`[[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]--\p{sc=Han}]`;
const LETTER_LOWER = String.raw`[[\p{Ll}\p{Lm}\p{Lo}\p{M}]--\p{sc=Han}]`;
const CONTRACTION = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`;
let unicodePattern: RegExp | undefined;
/** Built on first use: constructing it takes about a millisecond at start, and ASCII text never needs it. */
function preTokenizer(): RegExp {
  unicodePattern ??= new RegExp(
    [
      String.raw`\p{sc=Han}+`,
      String.raw`[^\r\n\p{L}\p{N}]?${LETTER_UPPER}*${LETTER_LOWER}+${CONTRACTION}`,
      String.raw`[^\r\n\p{L}\p{N}]?${LETTER_UPPER}+${LETTER_LOWER}*${CONTRACTION}`,
      String.raw`\p{N}{1,3}`,
      String.raw` ?[^\s\p{L}\p{N}]+[\r\n]*`,
      String.raw`\s*[\r\n]+`,
      String.raw`\s+(?!\S)`,
      String.raw`\s+`,
    ].join('|'),
    'gv',
  );
  return unicodePattern;
}

/**
 * The same pattern for text that is all ASCII, where the Unicode classes come down to ASCII
 * ranges (no Han, no Lt/Lm/Lo or marks; letters are A-Z and a-z, numbers 0-9). Most prompts are
 * ASCII, and V8 compiles the full pattern on its first use in about 4 ms, which every process's
 * first call paid; this one takes a tenth of that. test/tokens.test.ts checks they cut alike.
 */
const ASCII_PRE_TOKENIZER = new RegExp(
  [
    String.raw`[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+${CONTRACTION}`,
    String.raw`[^\r\nA-Za-z0-9]?[A-Z]+[a-z]*${CONTRACTION}`,
    String.raw`[0-9]{1,3}`,
    String.raw` ?[^\sA-Za-z0-9]+[\r\n]*`,
    String.raw`\s*[\r\n]+`,
    String.raw`\s+(?!\S)`,
    String.raw`\s+`,
  ].join('|'),
  'g',
);

const HAN = /\p{sc=Han}/v;
const SYLLABIC = /[\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]/v;
const LETTER = /\p{L}/v;
const NUMBER = /\p{N}/v;
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const LEADING_NON_LETTER = /^[^\p{L}]/v;

/**
 * Fitted rates. Latin words up to about ten letters are one token in Kimi's 163K vocabulary;
 * kana and hangul are close to one token per character; Han runs merge common words.
 */
const RATE = {
  hanCharsPerToken: 2.2,
  latinWholeWordLetters: 9,
  latinLettersPerExtraToken: 4,
  leadingPunctuation: 0.5,
  syllabicCharsPerToken: 1.05,
  otherLettersPerToken: 2.1,
  asciiPunctPerToken: 1.6,
  symbolBytesPerToken: 2,
} as const;

/** Tokens the chat template adds per message (`<|im_role|>role<|im_middle|>…<|im_end|>`). */
export const TOKENS_PER_MESSAGE = 4;
/** Tokens of the generation prompt (`<|im_assistant|>assistant<|im_middle|><think>`). */
export const TOKENS_PER_REPLY = 4;

export const SCRIPT_CLASSES = ['han', 'kana-hangul', 'latin', 'other-letters', 'digits', 'punctuation', 'whitespace'] as const;
export type ScriptClass = (typeof SCRIPT_CLASSES)[number];

export function classify(piece: string): ScriptClass {
  if (HAN.test(piece)) return 'han';
  if (LETTER.test(piece)) {
    if (SYLLABIC.test(piece)) return 'kana-hangul';
    return ASCII_ONLY.test(piece) ? 'latin' : 'other-letters';
  }
  if (NUMBER.test(piece)) return 'digits';
  if (/^\s+$/.test(piece)) return 'whitespace';
  return 'punctuation';
}

/** Fractional token estimate of one pre-tokenizer piece; fractions are summed, then rounded. */
function pieceTokens(piece: string, kind: ScriptClass): number {
  const lead = LEADING_NON_LETTER.test(piece) && piece[0] !== ' ' ? RATE.leadingPunctuation : 0;
  const letters = [...piece.replace(LEADING_NON_LETTER, '')].length;
  switch (kind) {
    case 'han':
      return Math.max(1, piece.length / RATE.hanCharsPerToken);
    case 'digits':
      return 1; // the pre-tokenizer already cut numbers into groups of at most three digits
    case 'whitespace':
      return 1;
    case 'latin':
      return lead + 1 + Math.max(0, letters - RATE.latinWholeWordLetters) / RATE.latinLettersPerExtraToken;
    case 'kana-hangul':
      return lead + Math.max(1, letters / RATE.syllabicCharsPerToken);
    case 'other-letters':
      return lead + Math.max(1, letters / RATE.otherLettersPerToken);
    case 'punctuation': {
      const body = piece.replace(/^ /, '').replace(/[\r\n]+$/, '');
      if (body === '') return 1;
      if (ASCII_ONLY.test(body)) return Math.max(1, body.length / RATE.asciiPunctPerToken);
      return Math.max(1, Buffer.byteLength(body, 'utf8') / RATE.symbolBytesPerToken);
    }
  }
}

/** The pattern for this text: the ASCII one when it is all ASCII, unless `unicode` says otherwise. */
const patternFor = (text: string, unicode = !ASCII_ONLY.test(text)) => (unicode ? preTokenizer() : ASCII_PRE_TOKENIZER);

/** The text cut as Kimi's pre-tokenizer cuts it; `unicode` takes the full pattern even for ASCII text (as the tests do, to compare). */
export function preTokenize(text: string, unicode?: boolean): string[] {
  return Array.from(text.matchAll(patternFor(text, unicode)), (m) => m[0]);
}

/** One piece at a time: a large prompt is never held as a list of its pieces. */
function* pieces(text: string): Generator<[string, ScriptClass]> {
  for (const match of text.matchAll(patternFor(text))) yield [match[0], classify(match[0])];
}

/**
 * Estimates of long texts, newest last: an agent's history goes up again at every step, so each
 * tool output is estimated once, not once per step. Bounded by the characters it holds.
 */
const remembered = new Map<string, number>();
const REMEMBER_FROM = 1_000;
const REMEMBER_AT_MOST = 4_000_000;
let rememberedChars = 0;

export function estimateTextTokens(text: string): number {
  const known = remembered.get(text);
  if (known !== undefined) return known;
  let total = 0;
  for (const [piece, kind] of pieces(text)) total += pieceTokens(piece, kind);
  const tokens = Math.round(total);
  if (text.length >= REMEMBER_FROM && text.length <= REMEMBER_AT_MOST) {
    remembered.set(text, tokens);
    rememberedChars += text.length;
    for (const [oldest] of remembered) {
      if (rememberedChars <= REMEMBER_AT_MOST) break;
      remembered.delete(oldest);
      rememberedChars -= oldest.length;
    }
  }
  return tokens;
}

/** The same estimate split by script class (unrounded), for calibration reports. */
export function estimateByClass(text: string): Record<ScriptClass, number> {
  const out = Object.fromEntries(SCRIPT_CLASSES.map((c) => [c, 0])) as Record<ScriptClass, number>;
  for (const [piece, kind] of pieces(text)) out[kind] += pieceTokens(piece, kind);
  return out;
}

export interface ChatMessageLike {
  role: string;
  content?: unknown;
  name?: string;
  /** An earlier reply's reasoning sent back (Preserved Thinking): the host reads it as prompt. */
  reasoning_content?: unknown;
  reasoning?: unknown;
}

/** Text of a message's content: a string, or the text parts of a content array. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
    .join('\n');
}

/** Estimated prompt tokens of a chat request, including the chat template. */
export function estimateMessagesTokens(messages: readonly ChatMessageLike[]): number {
  let total = TOKENS_PER_REPLY;
  for (const m of messages) {
    const reasoning = m.reasoning_content ?? m.reasoning;
    total += TOKENS_PER_MESSAGE + estimateTextTokens(messageText(m.content)) + (m.name ? estimateTextTokens(m.name) : 0);
    if (typeof reasoning === 'string') total += estimateTextTokens(reasoning);
  }
  return total;
}
