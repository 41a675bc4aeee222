// Loads the chat file (dist/nibble-chat.*: chat templates and their renderer,
// ~20 KB gzipped) on first use, so that pages that never chat never download
// it. Promise of its module (chat_entry.mjs).
import { plainError } from './errors.mjs';
import { currentPlatform } from './runtime.mjs';

let chat = null; // the module's Promise, once asked for

export function loadChat(where) {
  chat ??= currentPlatform().importChat().catch((e) => {
    chat = null; // a failed download may be retried
    throw plainError(where, `could not load nibble-chat, the chat-template renderer (${e.message}); serve it next to the nibble JS files`);
  });
  return chat;
}
