// The interactive loop of `nibble chat` (bin/nibble.mjs loads the model):
// each line typed is a user message; the reply streams to stdout.
//   /reset   forget the conversation (the system prompt stays)
//   /stats   the last reply's statistics (--stats: after every reply)
//   /help    these commands
// Ctrl-C stops the reply being written (at the prompt it clears the line),
// Ctrl-D (end of input) exits.
import { createInterface } from 'node:readline';

const COMMANDS_HELP = '/reset forgets the conversation, /stats shows the last reply\'s statistics, Ctrl-C stops a reply, Ctrl-D exits';

function formatStats(s) {
  return `[${s.promptTokens} prompt tokens (${s.cachedTokens} cached) in ${s.promptMs.toFixed(0)} ms, ` +
    `${s.generatedTokens} tokens at ${s.tokensPerSecond.toFixed(1)} tokens/s; stopped: ${s.stopReason}]`;
}

/**
 * Runs the chat until the input ends. options: chat() options (sampling,
 * template, context handling), plus system (a system prompt or undefined)
 * and showStats.
 */
export async function runChat(model, { system, showStats, ...options }, input = process.stdin, output = process.stdout) {
  const start = system ? [{ role: 'system', content: system }] : [];
  let messages = [...start];
  let last = null; // the last reply's statistics
  let reply = null; // AbortController of the reply being written
  const rl = createInterface({ input, output, prompt: '> ', terminal: input.isTTY === true });
  const say = (text) => output.write(`${text}\n`);
  rl.on('SIGINT', () => {
    if (reply) {
      reply.abort();
      return;
    }
    rl.write(null, { ctrl: true, name: 'u' }); // clear the line typed so far
    output.write('\n');
    rl.prompt();
  });
  say(`nibble chat: ${model.info.name || model.info.architecture}. ${COMMANDS_HELP}.`);
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/reset') {
      messages = [...start];
      say('(the conversation was reset)');
    } else if (text === '/stats') {
      say(last ? formatStats(last) : '(no reply yet)');
    } else if (text === '/help') {
      say(COMMANDS_HELP);
    } else if (text !== '') {
      messages.push({ role: 'user', content: line });
      reply = new AbortController();
      let answer = '';
      try {
        const run = model.chat(messages, { ...options, signal: reply.signal });
        for await (const piece of run) {
          answer += piece;
          output.write(piece);
        }
        last = await run.stats;
        output.write('\n');
        if (last.stopReason === 'abort') say('(stopped)');
        messages.push({ role: 'assistant', content: answer });
        if (showStats) say(formatStats(last));
      } catch (e) {
        messages.pop(); // the message that failed is not part of the conversation
        say(`\nnibble chat: ${e.message.replace(/^nibble\.[\w.]+: /, '')}`);
      } finally {
        reply = null;
      }
    }
    rl.prompt();
  }
  output.write('\n');
}
