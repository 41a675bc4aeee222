// The chat file (dist/nibble-chat.{mjs,cjs}): chat templates and the chat
// prompt, with @huggingface/jinja bundled in; loaded by chat_loader.mjs on
// first use.
export { renderChatTemplate } from './chat_template.mjs';
export { chatPrompt } from './chat.mjs';
