// The prompt of Model.chat: the conversation rendered with the model's chat
// template, tokenized with its control tokens parsed, and fitted into the
// context (an error that says by how much, or the oldest turns dropped).
import { rangeError } from './errors.mjs';
import { renderChatTemplate } from './chat_template.mjs';

// The messages without their oldest turn: the first message that is not a
// system message, and the replies up to the next user message (so the
// conversation still starts with a user's turn, as templates expect).
// null when only system messages and the last message are left.
function withoutOldestTurn(messages) {
  const first = messages.findIndex((m) => m.role !== 'system');
  if (first < 0 || first >= messages.length - 1) return null;
  let end = first + 1;
  while (end < messages.length - 1 && messages[end].role !== 'user') end++;
  return [...messages.slice(0, first), ...messages.slice(end)];
}

/**
 * Token ids of the chat prompt. tokenizer: the model's; specials: what its
 * template gets from it (templateSpecials); o: checked chat options
 * { template, now, variables, truncate }; context: the KV-cache positions
 * the prompt must fit in.
 */
export function chatPrompt(tokenizer, specials, messages, o, context, where) {
  const render = { ...o.variables, addGenerationPrompt: true, template: o.template, now: o.now };
  let list = messages;
  for (;;) {
    const text = renderChatTemplate(list, render, specials, where);
    // Most templates write BOS themselves; then it is not added twice.
    const hasBos = tokenizer.bosToken !== null && text.startsWith(tokenizer.bosToken);
    const ids = tokenizer.encode(text, { parseSpecial: true, addBos: hasBos ? false : undefined, addEos: false }, where);
    if (ids.length <= context) return ids;
    const shorter = o.truncate === 'oldest' ? withoutOldestTurn(list) : null;
    if (shorter === null) {
      const what = o.truncate === 'oldest' ? 'even with only the system prompt and the last message, the conversation' : 'the conversation';
      const fix = o.truncate === 'oldest' ? 'shorten the last message' : "drop old messages, pass truncate: 'oldest'";
      throw rangeError(where, `${what} is ${ids.length} tokens, ${ids.length - context} more than the context holds (${context}); ${fix}, or load the model with a larger options.context`);
    }
    list = shorter;
  }
}
