// @ts-check
"use strict";
/**
 * The build lock of a checkout: one writer of dist/ and explorer/dist/ at a time. Taken by every writer:
 * scripts/build-if-stale.js (npm start's prestart, npm run simulator's presimulator, npm run build, explorer:build,
 * customer-ref), scripts/dev.js for as long as it runs (its tsc --watch rewrites dist/ on every save) and bench/run.js
 * and bench/lib/one-system.js (their own builds). Two tsc writing one dist/ at once let the first to finish start its
 * server while the other rewrote the files under it (seen: files read empty or cut short); `npm run build` and
 * `npm run dev` took no lock, so a start beside them ran a dist/ half written.
 *
 * The lock is a file, `.build-if-stale.lock` at the checkout's root, naming its holder: `<pid> <what>`, then one line
 * `<pid>` per writer it started (heldAlsoBy: the tsc or Vite of a build, dev's tsc --watch). It is made by a hard link
 * from a file already written (link(2) fails when the name exists, so it is taken by one process and never seen
 * empty) and removed by its holder when it exits. It is held while any of them lives: kill -9 of a build script ends
 * it, not the tsc it started, which goes on writing dist/ (an orphan; a whole --watch for dev); a lock naming the
 * script alone was taken over and a second tsc wrote dist/ beside it.
 *
 * Left behind (its holder gone, killed mid-build; or held longer than LOCK_STALE_MS, its number since given to another
 * process), it is taken over. Removing it is the race: two waiters that both judged it left behind both removed it,
 * the second removing the lock the first had just taken, and both built. A takeover is therefore claimed first, by
 * a ticket made with O_EXCL (`wx`) whose name is that lock's identity (its inode and modification time in
 * nanoseconds, set when its holder wrote it): one waiter makes the ticket of a given lock; under it, it checks that
 * the name still holds that very lock, still left behind, removes it and drops the ticket; then, like anyone, it
 * links its own (which a newcomer may win: that one holds it, rightly). A waiter that saw the same lock and comes
 * later makes its ticket (the first one dropped) but finds another lock under the name, and removes nothing.
 * Hand-written, not proper-lockfile (not a dependency; its stale lock removal has the same two-remover race),
 * nor flock(2), which Node does not offer.
 *
 * The ticket is made, like the lock, by a hard link from the taker's own file (its pid in it): never seen empty, so
 * never judged its maker's gone while that maker lives (a ticket made with `wx` was empty until written, and a waiter
 * reading it then removed a live taker's ticket).
 *
 * Litter: a waiter killed with SIGKILL leaves its own file, `.build-if-stale.lock.<pid>`, and a taker killed inside its
 * ticket leaves `.build-if-stale.lock.takeover-<id>`. Each lock taken first removes those of processes gone (by the
 * pid in the name, or in the ticket): a live one's, a waiter's or a taker's, is never removed. A pid reused by another
 * process since keeps its file until that process ends: litter kept, never a live one's removed.
 *
 * Left: two waiters removing one dead taker's ticket at one instant could both go on. A holder killed between
 * starting a writer and naming it (microseconds) leaves that writer unnamed.
 *
 * jest's dist-test/ (test/global-setup.js) has a lock of its own, `.dist-test.lock`, the same way: two jest runs of
 * one checkout at once compiled into it together. Not the build lock: `npm run dev` holds that for as long as it runs.
 */
const fs = require("node:fs");
const path = require("node:path");

/** A build lock older than this is left behind whoever holds its number (a cold first build takes under a minute). */
const LOCK_STALE_MS = 10 * 60_000;
/** How often a waiter looks again. */
const POLL_MS = 200;

/** Whether process `pid` exists (EPERM: it does, another user's). */
function alive(/** @type {number} */ pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === "EPERM";
  }
}

/** @param {unknown} error @param {string} code */
const is = (error, code) => /** @type {NodeJS.ErrnoException} */ (error).code === code;

/**
 * The lock under `file` now: its identity, its holder's pid and what it said it is, and whether it is left behind;
 * undefined when there is none.
 * @param {string} file
 */
function current(file) {
  let fd;
  try {
    // One open file for both: its identity and its text are of the same lock, whatever replaces the name meanwhile.
    fd = fs.openSync(file, "r");
    const stat = fs.fstatSync(fd, { bigint: true });
    const [first = "", ...writers] = fs.readFileSync(fd, "utf8").trim().split("\n");
    const holder = Number.parseInt(first, 10);
    const what = first.split(" ").slice(1).join(" ");
    const live = [holder, ...writers.map((line) => Number.parseInt(line, 10))].filter(alive);
    // Said to a waiter: the holder, or the writer it left running (killed with SIGKILL).
    const by = live.includes(holder) || live.length === 0 ? holder : live[0];
    const age = Date.now() - Number(stat.mtimeMs);
    return { id: `${stat.ino}-${stat.mtimeNs}`, holder: by, what, stale: live.length === 0 || age > LOCK_STALE_MS };
  } catch (error) {
    if (is(error, "ENOENT")) return undefined;
    throw error;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Removes the lock `seen` (left behind) from `file` if no other waiter is doing so and it is still there: see the top.
 * False when another waiter's takeover of it is under way (the caller waits a little).
 * @param {string} file @param {{ id: string }} seen
 */
function takeOver(file, seen, /** @type {string} */ mine) {
  const ticket = `${file}.takeover-${seen.id}`;
  try {
    fs.linkSync(mine, ticket);
  } catch (error) {
    if (!is(error, "EEXIST")) throw error;
    // Another waiter's takeover of it: it takes microseconds; a ticket whose maker is gone is dropped (see the top).
    try {
      if (!alive(Number.parseInt(fs.readFileSync(ticket, "utf8"), 10))) fs.rmSync(ticket, { force: true });
    } catch (readError) {
      if (!is(readError, "ENOENT")) throw readError;
    }
    return false;
  }
  try {
    const now = current(file);
    if (now !== undefined && now.id === seen.id && now.stale) fs.rmSync(file);
  } catch (error) {
    if (!is(error, "ENOENT")) throw error;
  } finally {
    fs.rmSync(ticket, { force: true });
  }
  return true;
}

/**
 * Removes what processes now gone left beside the lock `file` (see the top): their own files and their tickets.
 * @param {string} file
 */
function sweep(file) {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const entry = path.join(dir, name);
    try {
      // A waiter's own file by the pid in its name; a ticket by the pid in it (linked whole, never seen empty).
      const pid = /^\d+$/.test(rest)
        ? Number(rest)
        : rest.startsWith("takeover-")
          ? Number.parseInt(fs.readFileSync(entry, "utf8"), 10)
          : undefined;
      if (pid !== undefined && !alive(pid)) fs.rmSync(entry, { force: true });
    } catch (error) {
      if (!is(error, "ENOENT")) throw error;
    }
  }
}

/** The lock this process holds: its file and inode (one taken over is another's). */
let held = /** @type {{ file: string, ino: number } | undefined} */ (undefined);

/**
 * Names `pid`, a writer this process started, in the lock `into` (the last one it took by default): the lock is held
 * while it lives, whatever becomes of this process (see the top). Appended: the lock is never seen without its
 * holder's line.
 * @param {number | undefined} pid @param {{ file: string, ino: number } | undefined} [into]
 */
function heldAlsoBy(pid, into = held) {
  if (into === undefined || pid === undefined) return;
  const fd = fs.openSync(into.file, "a");
  try {
    if (fs.fstatSync(fd).ino === into.ino) fs.writeSync(fd, `${pid}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Takes the lock `name` of the checkout at `root` (the build lock by default) for this process, until it exits or
 * calls `release`: waits for a live holder (saying so once on stderr), takes over one left behind, after removing what
 * processes gone left beside it. `what` is said to whoever waits (`npm run dev`). `alsoBy(pid)`: heldAlsoBy, this lock.
 * @param {string} root @param {string} [what] @param {string} [name]
 */
async function lock(root, what = "", name = ".build-if-stale.lock") {
  const file = path.join(root, name);
  sweep(file);
  const mine = `${file}.${process.pid}`;
  fs.writeFileSync(mine, `${process.pid}${what ? ` ${what}` : ""}\n`);
  try {
    let said = false;
    for (;;) {
      try {
        fs.linkSync(mine, file);
        const ino = fs.statSync(mine).ino;
        const taken = { file, ino };
        held = taken;
        // Released only while it is still ours: one taken over (held past LOCK_STALE_MS) is another's now.
        const release = () => {
          process.off("exit", release);
          try {
            if (fs.statSync(file).ino === ino) fs.rmSync(file);
          } catch {
            // Gone already.
          }
        };
        process.on("exit", release);
        return { release, alsoBy: (/** @type {number | undefined} */ pid) => heldAlsoBy(pid, taken) };
      } catch (error) {
        if (!is(error, "EEXIST")) throw error;
      }
      const seen = current(file);
      if (seen === undefined) continue;
      if (seen.stale) {
        if (!takeOver(file, seen, mine)) await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (!said) {
        const who = seen.what ? `, ${seen.what}` : "";
        process.stderr.write(`build: waiting for another build of this folder to finish (pid ${seen.holder}${who})\n`);
      }
      said = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    fs.rmSync(mine, { force: true });
  }
}

module.exports = { lock, heldAlsoBy, LOCK_STALE_MS };
