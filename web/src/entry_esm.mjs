// Entry of the esm build: the public API with the esm platform.
import { setPlatform } from './runtime.mjs';
import { esmPlatform } from './platform_esm.mjs';

setPlatform(esmPlatform);
export * from './nibble.mjs';
