// Entry of the cjs build: the public API with the cjs platform.
import { setPlatform } from './runtime.mjs';
import { cjsPlatform } from './platform_cjs.mjs';

setPlatform(cjsPlatform);
export * from './nibble.mjs';
