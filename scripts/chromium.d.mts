/** Types of scripts/chromium.mjs for the TypeScript test support. */
export declare const chromiumInstruction: string;
/** The Chromium to drive, or null when there is none (see the script's header). */
export declare function findChromium(): string | null;
/** Finds Chromium, installs it where the machine allows; null when neither worked. */
export declare function ensureChromium(): string | null;
