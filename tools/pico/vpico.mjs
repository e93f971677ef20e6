// A virtual Raspberry Pi Pico: MicroPython's RPI_PICO firmware in rp2040js.
//
//   node vpico.mjs BOOTROM FIRMWARE FS_IMAGE [--realtime]
//
// stdin and stdout carry the bytes of the board's USB CDC serial port (the
// REPL); messages go to stderr as "vpico: ...". FS_IMAGE is the littlefs
// region of the flash (the last 1408 KB, from offset 0xA0000): loaded at
// start, and every erase or program the firmware makes there is written back
// to the file at once, so a kill -9 keeps what MicroPython wrote.
// Ends when stdin closes. Exit status 2: a file could not be used; 3: the
// firmware stopped (breakpoint); 4: the chip reset itself (machine.reset(),
// machine.WDT): rp2040js cannot reset the chip, the caller starts us again.
//
// Idle time is skipped: while the CPU waits (WFE/WFI) the emulated clock
// jumps to its next alarm, so asyncio.sleep(1) costs no real second. With
// --realtime, waits take their time in real time (busy code still runs at
// the emulator's speed, about a third of real time): what a host talking
// to the board needs, as the board's own timeouts waiting for it then last.

import fs from 'node:fs';
import { Simulator, USBCDC } from 'rp2040js';

const FS_START = 0xa0000;
const FS_SIZE = 352 * 4096;
const NS_PER_CYCLE = 1e9 / 125e6; // what rp2040js's Simulator counts
// Our breakpoint numbers for the two ROM functions we take over.
const BKPT_ERASE = 0x51;
const BKPT_PROGRAM = 0x52;

function fail(msg, status) {
  process.stderr.write(`vpico: ${msg}\n`);
  process.exit(status);
}

function readFile(path, what) {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    fail(`cannot read the ${what} ${path}: ${e.code || e.message}`, 2);
  }
}

const [romPath, firmwarePath, imagePath] = process.argv.slice(2);
const realtime = process.argv.includes('--realtime');
if (!imagePath) fail('usage: node vpico.mjs BOOTROM FIRMWARE FS_IMAGE [--realtime]', 2);
const rom = readFile(romPath, 'boot ROM');
const firmware = readFile(firmwarePath, 'firmware');
const image = readFile(imagePath, 'flash image');
if (rom.length !== 16384) fail(`${romPath}: a boot ROM is 16384 bytes, not ${rom.length}`, 2);
if (image.length !== FS_SIZE) fail(`${imagePath}: a flash image is ${FS_SIZE} bytes, not ${image.length}`, 2);
// An ARM vector table starts at 0x100 (after the 256-byte boot2): its
// initial stack pointer must be in RAM.
if (firmware.length < 0x200 || firmware.length > FS_START || (firmware.readUInt32LE(0x100) >>> 28) !== 2) {
  fail(`${firmwarePath} is not an RP2040 firmware .bin (loaded at flash offset 0)`, 2);
}

const sim = new Simulator();
const mcu = sim.rp2040;
// rp2040js logs through console, some of it to stdout, our serial port. Its
// notes (peripherals it does not emulate, reads of unknown registers, which
// the firmware survives) go to stderr with VPICO_LOG=1, else nowhere.
const quiet = () => {};
const note = process.env.VPICO_LOG ? (...a) => process.stderr.write(`vpico: ${a.join(' ')}\n`) : quiet;
for (const k of ['log', 'info', 'debug', 'warn', 'error']) console[k] = note;
mcu.logger = { debug: quiet, info: quiet, warn: note, error: note };
const { core, clock, flash } = mcu;
mcu.loadBootrom(new Uint32Array(rom.buffer.slice(rom.byteOffset, rom.byteOffset + rom.length)));
flash.set(firmware, 0);
flash.set(image, FS_START);
const imageFd = fs.openSync(imagePath, 'r+');

// rp2040js does not emulate the flash chip's erase and program commands.
// The firmware reaches them through the boot ROM's flash_range_erase and
// flash_range_program, found by their codes in the ROM's function table
// (a 16-bit pointer at 0x14 to pairs of 16-bit code and address): put a
// breakpoint at their entry and do their work here instead.
const rom16 = new Uint16Array(mcu.bootrom.buffer);
function patchRomFunction(name, bkpt) {
  const code = name.charCodeAt(0) | (name.charCodeAt(1) << 8);
  for (let i = rom16[0x14 >> 1] >> 1; rom16[i]; i += 2) {
    if (rom16[i] === code) {
      rom16[(rom16[i + 1] & ~1) >> 1] = 0xbe00 | bkpt;
      return;
    }
  }
  fail(`${romPath}: no ROM function '${name}' (not an RP2040 boot ROM?)`, 2);
}
patchRomFunction('RE', BKPT_ERASE);
patchRomFunction('RP', BKPT_PROGRAM);

function saveFlash(offset, count) {
  const start = Math.max(offset, FS_START);
  const end = Math.min(offset + count, FS_START + FS_SIZE);
  if (start < end) fs.writeSync(imageFd, flash, start, end - start, start - FS_START);
}

mcu.onBreak = (code) => {
  const r = core.registers;
  if (code === BKPT_ERASE) {
    // flash_range_erase(offset, count, block_size, block_cmd)
    flash.fill(0xff, r[0], r[0] + r[1]);
    saveFlash(r[0], r[1]);
  } else if (code === BKPT_PROGRAM) {
    // flash_range_program(offset, data, count): programming only clears bits
    for (let i = 0; i < r[2]; i++) flash[r[0] + i] &= mcu.readUint8(r[1] + i);
    saveFlash(r[0], r[2]);
  } else {
    fail(`the firmware stopped at a breakpoint (bkpt ${code}, pc 0x${(core.PC - 2).toString(16)})`, 3);
  }
  core.PC = core.LR & ~1; // return to the caller, as the ROM function would
};

// The watchdog is how the rp2 port resets the chip. rp2040js does not reset
// it (only the CPU, and that clears the flash), so leave it to the caller.
mcu.findPeripheral(0x40058000).onWatchdogTrigger = () => {
  fail('the board reset itself (machine.reset() or its watchdog)', 4);
};

// The USB host side. Bytes from stdin wait here until the firmware asks for
// a packet; a request that finds nothing is held until bytes come (rp2040js
// answers it at once with an empty packet, which keeps the CPU polling and
// the clock from skipping idle time).
const cdc = new USBCDC(mcu.usbCtrl);
let inbox = Buffer.alloc(0);
let wanted = 0; // size of a read the firmware is waiting on
function feed() {
  if (wanted && inbox.length) {
    const n = Math.min(wanted, inbox.length);
    wanted = 0;
    mcu.usbCtrl.endpointReadDone(cdc.outEndpoint, new Uint8Array(inbox.subarray(0, n)));
    inbox = inbox.subarray(n);
  }
}
mcu.usbCtrl.onEndpointRead = (endpoint, size) => {
  if (endpoint === cdc.outEndpoint) {
    wanted = size;
    feed();
  }
};
cdc.onSerialData = (data) => process.stdout.write(Buffer.from(data));
// The firmware's banner may come before the host listens: like rp2040js's
// MicroPython demo, press Enter once connected, so that a prompt shows when
// the REPL is ready.
cdc.onDeviceConnected = () => {
  if (process.env.VPICO_LOG) process.stderr.write(`vpico: connected at ${clock.nanos / 1e6} ms\n`);
  inbox = Buffer.concat([Buffer.from('\r'), inbox]);
  feed();
};

// While the CPU waits (WFE/WFI) with no alarm due, only the host can wake
// it: the run loop parks until bytes come. With --realtime it also parks
// until the next alarm is due in real time. Emulated time is then kept at
// most MAX_LAG ms behind real time, no more: busy code runs slower than real
// time, and a wait after it must still last (a board's timeout waiting for
// the host), while waits of microseconds (USB packets) cost no timer.
const MAX_LAG = 2;
let base = 0; // real ms = emulated ms + base, at the latest
let parked = null;
function realDelay(dt) {
  const now = performance.now();
  base = Math.max(base, now - clock.nanos / 1e6 - MAX_LAG);
  return clock.nanos / 1e6 + dt / 1e6 + base - now;
}
function park(dt, delay) {
  const timer = delay < Infinity ? setTimeout(() => unpark(true), delay) : null;
  parked = { dt, timer };
}
function unpark(due) {
  const { dt, timer } = parked;
  parked = null;
  clearTimeout(timer);
  if (due) {
    clock.tick(dt);
  } else if (realtime) {
    const behind = (performance.now() - base) * 1e6 - clock.nanos;
    if (behind > 0) clock.tick(Math.min(behind, dt));
  }
  setImmediate(run);
}

process.stdin.on('data', (chunk) => {
  inbox = inbox.length ? Buffer.concat([inbox, chunk]) : chunk;
  feed();
  if (parked) unpark(false);
});
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0)); // the reader is gone

function run() {
  const until = performance.now() + 20; // then let I/O in
  do {
    for (let i = 0; i < 20000; i++) {
      if (!core.waiting) {
        clock.tick(core.executeInstruction() * NS_PER_CYCLE);
        continue;
      }
      // nanosToNextAlarm is 0 both with no alarm and with one due now.
      const dt = clock.nextAlarm ? clock.nanosToNextAlarm : Infinity;
      if (dt === Infinity) {
        park(dt, Infinity);
        return;
      }
      if (realtime) {
        const delay = realDelay(dt);
        if (delay > 0) {
          park(dt, delay);
          return;
        }
      }
      clock.tick(dt);
    }
  } while (performance.now() < until);
  setImmediate(run);
}

core.PC = 0x10000000; // boot2 at the start of flash, as the ROM would
run();
