// The chat file (dist/nibble-chat.{mjs,cjs}): chat templates and the chat
// prompt, with @huggingface/jinja bundled in; loaded by lazy_parts.mjs on
// first use.
export { renderChatTemplate } from './chat_template.mjs';
export { chatPrompt } from './chat.mjs';
