// zod re-exports every one of its ~50 locales as `z.locales` (250 KB of the bundle); budget-gate's
// messages are English, which zod loads by itself. The bundle gets this module instead.
export { default as en } from 'zod/v4/locales/en.js';
