// autocannon ships no types; the bench uses it through a few documented options and result fields (see lib/load.js).
declare module "autocannon";
