// What travels between the page (worker_client.mjs) and the engine's Web
// Worker (worker_entry.mjs): message kinds, and errors turned into plain data
// and back into the same classes with the same messages.
//
// page -> worker                          worker -> page
//   { op: 'load', source, options }         { op: 'progress', event }
//   { op: 'call', id, method, args }        { op: 'loaded', info, tokenizer,
//     (method 'tokenizer.encode': its)          runtime }
//   { op: 'generate', id, chat, prompt,     { op: 'result', id, value }
//     options }  (chat: prompt = messages)
//   { op: 'next', id }  (first pull)        { op: 'piece', id, text }
//   { op: 'stop', id }  (abort / break)     { op: 'done', id, stats }
//                                           { op: 'error', id, error }
// A 'load' failure comes back as { op: 'error', id: 0 }.

// The classes an error may be re-created as; anything else becomes an Error
// that keeps the original `name`.
const ERROR_CLASSES = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

// Any thrown value -> structured-clone-safe data.
export function errorToData(error) {
  if (error instanceof Error || (typeof DOMException === 'function' && error instanceof DOMException)) {
    const kind = typeof DOMException === 'function' && error instanceof DOMException
      ? 'DOMException'
      : (Object.hasOwn(ERROR_CLASSES, error.constructor?.name) ? error.constructor.name : 'Error');
    return { kind, name: error.name, message: error.message, stack: String(error.stack ?? '') };
  }
  return { kind: 'value', message: String(error) };
}

// Data from errorToData -> an error of the same class and message, whose stack
// shows where the page called (and, below it, where the worker failed).
export function errorFromData(data) {
  let error;
  if (data.kind === 'DOMException' && typeof DOMException === 'function') {
    error = new DOMException(data.message, data.name);
  } else if (data.kind === 'value') {
    error = new Error(data.message);
  } else {
    error = new (ERROR_CLASSES[data.kind] ?? Error)(data.message);
    if (error.name !== data.name) error.name = data.name;
  }
  if (data.stack && typeof error.stack === 'string') {
    try {
      error.stack = `${error.stack}\n    --- in the nibble worker ---\n${data.stack}`;
    } catch { /* a read-only stack (DOMException in some engines) */ }
  }
  return error;
}
