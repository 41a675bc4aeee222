// Chat templates: a model's prompt format (GGUF tokenizer.chat_template, a
// Jinja template) rendered with @huggingface/jinja, the renderer
// transformers.js uses, the way Hugging Face transformers renders it
// (apply_chat_template): trim_blocks and lstrip_blocks, the variables
// messages, add_generation_prompt, bos_token, eos_token, tools and documents
// (null), and the functions raise_exception and strftime_now.
//
// This file, chat.mjs and the renderer (about 15 KB gzipped) are bundled
// apart from the API (dist/nibble-chat.{mjs,cjs}, entry chat_entry.mjs) and
// loaded on the first render (lazy_parts.mjs): pages that never chat do not
// download them.
//
// Templates come from model files, so they are untrusted: the library
// interprets them over its own values (no JavaScript object or global is
// reachable from a template), range() is capped, and a template that
// recurses without end fails with a RangeError instead of hanging.
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { plainError, rangeError, typeError } from './errors.mjs';
import { describe } from './validate.mjs';

const MAX_RANGE = 100000; // range() items; a template never needs more than a few per message
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const TEMPLATE_OPTIONS = new Set(['addGenerationPrompt', 'template', 'now', 'bosToken', 'eosToken']);

const pad2 = (n) => String(n).padStart(2, '0');

// C-locale strftime (what Python's gives in transformers) of a local date,
// for the directives chat templates use; others stay as written. English
// month and day names whatever the page's language.
function strftime(date, format) {
  const hours12 = date.getHours() % 12 || 12;
  const dayOfYear = Math.round((new Date(date.getFullYear(), date.getMonth(), date.getDate()) - new Date(date.getFullYear(), 0, 1)) / 864e5) + 1;
  const fields = {
    a: () => DAYS[date.getDay()].slice(0, 3),
    A: () => DAYS[date.getDay()],
    b: () => MONTHS[date.getMonth()].slice(0, 3),
    B: () => MONTHS[date.getMonth()],
    d: () => pad2(date.getDate()),
    H: () => pad2(date.getHours()),
    I: () => pad2(hours12),
    j: () => String(dayOfYear).padStart(3, '0'),
    m: () => pad2(date.getMonth() + 1),
    M: () => pad2(date.getMinutes()),
    p: () => (date.getHours() < 12 ? 'AM' : 'PM'),
    S: () => pad2(date.getSeconds()),
    y: () => pad2(date.getFullYear() % 100),
    Y: () => String(date.getFullYear()),
    '%': () => '%',
  };
  return format.replace(/%(.)/gs, (all, c) => (Object.hasOwn(fields, c) ? fields[c]() : all));
}

function range(start, stop, step = 1) {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE) throw new Error(`range() of ${count} items is more than the ${MAX_RANGE} a chat template may ask for`);
  return Array.from({ length: count }, (_, i) => start + i * step);
}

// The last template parsed: a chat renders the same one every turn.
const lastParsed = { source: null, program: null };

function parse(source, where) {
  if (lastParsed.source !== source) {
    try {
      lastParsed.program = new Template(source).parsed;
    } catch (e) {
      throw plainError(where, `the chat template does not parse: ${e.message}`);
    }
    lastParsed.source = source;
  }
  return lastParsed.program;
}

function checkNow(now, where) {
  if (now === undefined) return () => new Date();
  const date = now instanceof Date ? now : typeof now === 'number' ? new Date(now) : null;
  if (date === null || Number.isNaN(date.getTime())) {
    throw typeError(where, `options.now must be a Date or a time in milliseconds, got ${describe(now)}`);
  }
  return () => date;
}

function checkMessages(messages, where) {
  if (!Array.isArray(messages)) throw typeError(where, `messages must be an array of { role, content }, got ${describe(messages)}`);
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || typeof m.role !== 'string') {
      throw typeError(where, `messages[${i}] must be an object with a string role, got ${describe(m)}`);
    }
  });
  // Plain data only: the renderer sees copies, never the caller's objects.
  return JSON.parse(JSON.stringify(messages));
}

/**
 * Renders `messages` with a chat template. specials: { template, bosToken,
 * eosToken } of the tokenizer (template '' or null: none). options:
 * { addGenerationPrompt = false, template, now, bosToken, eosToken, ...extra
 * template variables }. Returns the text.
 */
export function renderChatTemplate(messages, options, specials, where) {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw typeError(where, `options must be an object, got ${describe(options)}`);
  }
  const o = options ?? {};
  const list = checkMessages(messages, where);
  const source = o.template ?? specials.template;
  if (o.template !== undefined && typeof o.template !== 'string') {
    throw typeError(where, `options.template must be a string (a Jinja chat template), got ${describe(o.template)}`);
  }
  if (!source) {
    throw plainError(where, 'this model has no chat template (no tokenizer.chat_template in its file); pass one as options.template, or use generate() with a prompt of your own');
  }
  if (o.addGenerationPrompt !== undefined && typeof o.addGenerationPrompt !== 'boolean') {
    throw typeError(where, `options.addGenerationPrompt must be true or false, got ${describe(o.addGenerationPrompt)}`);
  }
  const clock = checkNow(o.now, where);
  const extra = Object.fromEntries(Object.entries(o).filter(([key]) => !TEMPLATE_OPTIONS.has(key)));

  const parsed = parse(source, where);
  const env = new Environment();
  const variables = {
    true: true, false: false, none: null, True: true, False: false, None: null,
    range,
    raise_exception: (message) => {
      throw new TemplateRaised(String(message));
    },
    strftime_now: (format) => strftime(clock(), String(format)),
    messages: list,
    add_generation_prompt: o.addGenerationPrompt ?? false,
    tools: null,
    documents: null,
  };
  // Given as null: left undefined, as transformers does for a missing token.
  const bos = o.bosToken !== undefined ? o.bosToken : specials.bosToken;
  const eos = o.eosToken !== undefined ? o.eosToken : specials.eosToken;
  if (bos != null) variables.bos_token = bos;
  if (eos != null) variables.eos_token = eos;
  for (const [key, value] of Object.entries(extra)) {
    if (Object.hasOwn(variables, key) && !(key === 'tools' || key === 'documents')) {
      throw typeError(where, `the template variable '${key}' is set by nibble; it cannot be passed as an option`);
    }
    variables[key] = value;
  }
  for (const [key, value] of Object.entries(variables)) env.set(key, value);
  try {
    return new Interpreter(env).run(parsed).value;
  } catch (e) {
    if (e instanceof TemplateRaised) throw plainError(where, `the chat template raised an error: ${e.message}`);
    if (e instanceof RangeError) throw rangeError(where, `the chat template recursed too deep (${e.message})`);
    throw plainError(where, `the chat template failed: ${e.message}`);
  }
}

// What raise_exception() throws, told apart from the renderer's own errors.
class TemplateRaised extends Error {}
