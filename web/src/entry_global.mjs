// Entry of the global build: the public API with the global platform.
import { setPlatform } from './runtime.mjs';
import { globalPlatform } from './platform_global.mjs';

setPlatform(globalPlatform);
export * from './nibble.mjs';
