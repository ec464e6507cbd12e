/**
 * Imported second by src/index.ts, before the modules that serve requests load: the accessor globals the packages on
 * the request path read, made data properties (util/data-globals.ts says why, and what it measured).
 */
import { globalsAsData } from "./util/data-globals";

globalsAsData();
