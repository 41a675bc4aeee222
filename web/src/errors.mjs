// Errors the JS API throws. Failures reported by the C++ core arrive as an
// ApiStatus { kind, message }; kind is src/runtime/status.h's ErrorKind.

// kind -> JS class: invalid argument (wrong type or value) -> TypeError;
// out of range (size, shape, index) -> RangeError; format (malformed bytes),
// state (misuse), resource (out of memory) -> Error.
const ErrorKind = Object.freeze({ none: 0, invalidArgument: 1, outOfRange: 2, format: 3, state: 4, resource: 5 });

// "nibble.quantize: <message>": every message names the call it came from.
function prefixed(where, message) {
  return `nibble.${where}: ${message}`;
}

export function typeError(where, message) {
  return new TypeError(prefixed(where, message));
}

export function rangeError(where, message) {
  return new RangeError(prefixed(where, message));
}

export function plainError(where, message) {
  return new Error(prefixed(where, message));
}

// Throws the JS error matching a failed ApiStatus; returns on success.
export function throwIfFailed(status, where) {
  switch (status.kind) {
    case ErrorKind.none:
      return;
    case ErrorKind.invalidArgument:
      throw typeError(where, status.message);
    case ErrorKind.outOfRange:
      throw rangeError(where, status.message);
    default:
      throw plainError(where, status.message);
  }
}
